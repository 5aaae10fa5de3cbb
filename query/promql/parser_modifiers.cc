// PromQL parser: vector selectors, label matchers, grouping label lists and
// the postfix modifiers ([range], [range:step], offset, @).
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "query/promql/parser.h"
#include "query/promql/parser_internal.h"
#include "query/promql/text.h"

namespace tsvault::query::promql::internal {

namespace {

// Tokens accepted as a label name in by/without/on/ignoring/group_x lists
// (Prometheus' maybe_label rule; note `without` is not among them).
bool IsGroupingLabelToken(TokenType type) {
  switch (type) {
    case TokenType::kIdentifier: case TokenType::kMetricIdentifier:
    case TokenType::kAvg: case TokenType::kBool: case TokenType::kBottomk: case TokenType::kBy:
    case TokenType::kCount: case TokenType::kCountValues: case TokenType::kGroup:
    case TokenType::kGroupLeft: case TokenType::kGroupRight: case TokenType::kIgnoring:
    case TokenType::kAnd: case TokenType::kOr: case TokenType::kUnless: case TokenType::kMax:
    case TokenType::kMin: case TokenType::kOffset: case TokenType::kOn: case TokenType::kQuantile:
    case TokenType::kStddev: case TokenType::kStdvar: case TokenType::kSum:
    case TokenType::kTopk: case TokenType::kStart: case TokenType::kEnd: case TokenType::kAtan2:
      return true;
    default:
      return false;
  }
}

bool IsLabelName(std::string_view text) {
  if (text.empty()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alpha = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}
}  // namespace

// name? {matchers}? -- `name`, when given, was already consumed.
std::unique_ptr<VectorSelector> Parser::ParseVectorSelector(const Token* name) {
  auto selector = std::make_unique<VectorSelector>();
  if (name != nullptr) {
    selector->name = std::string(name->text);
    selector->position = {name->pos, name->end()};
  } else {
    selector->position.start = Peek().pos;
  }
  if (PeekIs(TokenType::kLeftBrace)) {
    if (!ParseLabelMatchers(selector.get())) return nullptr;
    selector->position.end = last_end_;
  }
  if (name != nullptr) {
    storage::LabelMatcher matcher;
    const Status status =
        storage::LabelMatcher::Create(storage::MatchType::kEqual, "__name__", selector->name, &matcher);
    if (!status.ok()) {
      ErrorAt(name->pos, status.message());
      return nullptr;
    }
    selector->matchers.push_back(std::move(matcher));
  }
  if (!TrackHeight(*selector)) return nullptr;
  return selector;
}

bool Parser::ParseLabelMatchers(VectorSelector* selector) {
  Consume();  // '{'
  if (PeekIs(TokenType::kRightBrace)) {
    Consume();
    return true;
  }
  for (;;) {
    if (!PeekIs(TokenType::kIdentifier)) return Unexpected("label matching", "identifier or \"}\"");
    const Token label = Consume();
    storage::MatchType type;
    switch (Peek().type) {
      case TokenType::kAssign: type = storage::MatchType::kEqual; break;
      case TokenType::kNeq: type = storage::MatchType::kNotEqual; break;
      case TokenType::kEqlRegex: type = storage::MatchType::kRegexMatch; break;
      case TokenType::kNeqRegex: type = storage::MatchType::kRegexNoMatch; break;
      default: return Unexpected("label matching", "label matching operator");
    }
    Consume();
    if (!PeekIs(TokenType::kString)) return Unexpected("label matching", "string");
    const Token value_token = Consume();
    std::string value;
    if (!StringValue(value_token, &value)) return false;
    storage::LabelMatcher matcher;
    const Status status = storage::LabelMatcher::Create(type, label.text, value, &matcher);
    if (!status.ok()) return ErrorAt(label.pos, status.message());
    selector->matchers.push_back(std::move(matcher));

    if (PeekIs(TokenType::kRightBrace)) {
      Consume();
      return true;
    }
    if (!PeekIs(TokenType::kComma)) return Unexpected("label matching", "\",\" or \"}\"");
    Consume();
    if (PeekIs(TokenType::kRightBrace)) {
      Consume();
      return true;
    }
  }
}

// "(" [label {"," label} [","]] ")"
bool Parser::ParseGroupingLabels(std::vector<std::string>* labels) {
  if (!PeekIs(TokenType::kLeftParen)) return Unexpected("grouping opts", "\"(\"");
  Consume();
  labels->clear();
  if (PeekIs(TokenType::kRightParen)) {
    Consume();
    return true;
  }
  for (;;) {
    if (!IsGroupingLabelToken(Peek().type)) return Unexpected("grouping opts", "label");
    const Token label = Consume();
    if (!IsLabelName(label.text)) {
      return ErrorAt(label.pos, "unexpected " + DescribeToken(label) + " in grouping opts, expected label");
    }
    labels->emplace_back(label.text);
    if (PeekIs(TokenType::kRightParen)) {
      Consume();
      return true;
    }
    if (!PeekIs(TokenType::kComma)) return Unexpected("grouping opts", "\",\" or \")\"");
    Consume();
    if (PeekIs(TokenType::kRightParen)) {
      Consume();
      return true;
    }
  }
}

// expr "[" duration "]"  or  expr "[" duration ":" [duration] "]"
std::unique_ptr<Expr> Parser::ParseRangeOrSubquery(std::unique_ptr<Expr> expr) {
  const Token left_bracket = Consume();
  if (!PeekIs(TokenType::kDuration)) {
    Unexpected("subquery selector", "duration");
    return nullptr;
  }
  int64_t range_ms;
  if (!DurationValue(Consume(), &range_ms)) return nullptr;

  if (PeekIs(TokenType::kRightBracket)) {
    Consume();
    auto* selector = expr->DynCast<VectorSelector>();
    if (selector == nullptr) {
      ErrorAt(left_bracket.pos, "ranges only allowed for vector selectors");
      return nullptr;
    }
    if (selector->offset_ms != 0) {
      ErrorAt(left_bracket.pos, "no offset modifiers allowed before range");
      return nullptr;
    }
    if (selector->timestamp_ms.has_value()) {
      ErrorAt(left_bracket.pos, "no @ modifiers allowed before range");
      return nullptr;
    }
    auto matrix = std::make_unique<MatrixSelector>();
    matrix->position = {selector->position.start, last_end_};
    matrix->range_ms = range_ms;
    matrix->selector.reset(static_cast<VectorSelector*>(expr.release()));
    if (!TrackHeight(*matrix)) return nullptr;
    return matrix;
  }
  if (!PeekIs(TokenType::kColon)) {
    Unexpected("subquery or range", "\":\" or \"]\"");
    return nullptr;
  }
  Consume();
  int64_t step_ms = 0;
  if (PeekIs(TokenType::kDuration)) {
    if (!DurationValue(Consume(), &step_ms)) return nullptr;
    if (!PeekIs(TokenType::kRightBracket)) {
      Unexpected("subquery selector", "\"]\"");
      return nullptr;
    }
  } else if (!PeekIs(TokenType::kRightBracket)) {
    Unexpected("subquery selector", "duration or \"]\"");
    return nullptr;
  }
  Consume();
  auto subquery = std::make_unique<SubqueryExpr>();
  subquery->position = {expr->position.start, last_end_};
  subquery->range_ms = range_ms;
  subquery->step_ms = step_ms;
  subquery->expr = std::move(expr);
  if (!TrackHeight(*subquery)) return nullptr;
  return subquery;
}

// expr "offset" ["-"] duration
bool Parser::ParseOffset(Expr* expr) {
  Consume();  // offset
  const bool negative = PeekIs(TokenType::kSub);
  if (negative) Consume();
  if (!PeekIs(TokenType::kDuration)) return Unexpected("offset", "duration");
  int64_t offset_ms;
  if (!DurationValue(Consume(), &offset_ms)) return false;
  if (negative) offset_ms = -offset_ms;

  int64_t* target;
  size_t* end;
  if (auto* selector = expr->DynCast<VectorSelector>()) {
    target = &selector->offset_ms;
    end = &selector->position.end;
  } else if (auto* matrix = expr->DynCast<MatrixSelector>()) {
    target = &matrix->selector->offset_ms;
    end = &matrix->position.end;
  } else if (auto* subquery = expr->DynCast<SubqueryExpr>()) {
    target = &subquery->offset_ms;
    end = &subquery->position.end;
  } else {
    return ErrorAt(expr->position.start,
                   "offset modifier must be preceded by an instant vector selector or range vector "
                   "selector or a subquery");
  }
  if (*target != 0) return ErrorAt(expr->position.start, "offset may not be set multiple times");
  *target = offset_ms;
  *end = last_end_;
  return true;
}

// expr "@" (["+"|"-"] number | start "(" ")" | end "(" ")")
bool Parser::ParseAt(Expr* expr) {
  Consume();  // @
  if (PeekIs(TokenType::kStart) || PeekIs(TokenType::kEnd)) {
    const AtPreprocessor preprocessor =
        Consume().type == TokenType::kStart ? AtPreprocessor::kStart : AtPreprocessor::kEnd;
    if (!PeekIs(TokenType::kLeftParen)) return Unexpected("@", "timestamp");
    Consume();
    if (!PeekIs(TokenType::kRightParen)) return Unexpected("@", "timestamp");
    Consume();
    return SetAtPreprocessor(expr, preprocessor);
  }
  bool negative = false;
  if (PeekIs(TokenType::kAdd) || PeekIs(TokenType::kSub)) negative = Consume().type == TokenType::kSub;
  if (!PeekIs(TokenType::kNumber)) return Unexpected("@", "timestamp");
  double seconds;
  if (!NumberValue(Consume(), &seconds)) return false;
  return SetTimestamp(expr, negative ? -seconds : seconds);
}

namespace {

// The @ fields of a selector or subquery; false for other nodes.
bool AtTargets(Expr* expr, std::optional<int64_t>** timestamp, AtPreprocessor** preprocessor,
               size_t** end) {
  if (auto* selector = expr->DynCast<VectorSelector>()) {
    *timestamp = &selector->timestamp_ms;
    *preprocessor = &selector->at_preprocessor;
    *end = &selector->position.end;
  } else if (auto* matrix = expr->DynCast<MatrixSelector>()) {
    *timestamp = &matrix->selector->timestamp_ms;
    *preprocessor = &matrix->selector->at_preprocessor;
    *end = &matrix->position.end;
  } else if (auto* subquery = expr->DynCast<SubqueryExpr>()) {
    *timestamp = &subquery->timestamp_ms;
    *preprocessor = &subquery->at_preprocessor;
    *end = &subquery->position.end;
  } else {
    return false;
  }
  return true;
}

constexpr std::string_view kAtTargetError =
    "@ modifier must be preceded by an instant vector selector or range vector selector or a "
    "subquery";

}  // namespace

bool Parser::SetTimestamp(Expr* expr, double seconds) {
  constexpr double kInt64Bound = 9223372036854775807.0;  // rounds to 2^63
  if (!std::isfinite(seconds) || seconds >= kInt64Bound || seconds <= -kInt64Bound) {
    return ErrorAt(expr->position.start,
                   "timestamp out of bounds for @ modifier: " + FormatGoFixed(seconds, 6));
  }
  std::optional<int64_t>* timestamp;
  AtPreprocessor* preprocessor;
  size_t* end;
  if (!AtTargets(expr, &timestamp, &preprocessor, &end)) return ErrorAt(expr->position.start, kAtTargetError);
  if (timestamp->has_value() || *preprocessor != AtPreprocessor::kNone) {
    return ErrorAt(expr->position.start, "@ <timestamp> may not be set multiple times");
  }
  // Go converts math.Round(seconds*1000) to int64; clamp instead of
  // overflowing for timestamps beyond the int64 millisecond range.
  const double milliseconds = std::round(seconds * 1000.0);
  if (milliseconds >= kInt64Bound) {
    *timestamp = std::numeric_limits<int64_t>::max();
  } else if (milliseconds <= -kInt64Bound) {
    *timestamp = std::numeric_limits<int64_t>::min();
  } else {
    *timestamp = static_cast<int64_t>(milliseconds);
  }
  *end = last_end_;
  return true;
}

bool Parser::SetAtPreprocessor(Expr* expr, AtPreprocessor value) {
  std::optional<int64_t>* timestamp;
  AtPreprocessor* preprocessor;
  size_t* end;
  if (!AtTargets(expr, &timestamp, &preprocessor, &end)) return ErrorAt(expr->position.start, kAtTargetError);
  if (timestamp->has_value() || *preprocessor != AtPreprocessor::kNone) {
    return ErrorAt(expr->position.start, "@ <timestamp> may not be set multiple times");
  }
  *preprocessor = value;
  *end = last_end_;
  return true;
}

}  // namespace tsvault::query::promql::internal
