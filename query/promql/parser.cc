// PromQL parser: entry points, token handling, error reporting and
// literal values. Selectors and modifiers are in parser_modifiers.cc,
// expressions in parser_expr.cc, type checks in parser_check.cc.
#include "query/promql/parser.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>

#include "query/promql/parser_internal.h"
#include "query/promql/text.h"
#include "common/go_float.h"
#include "common/time_parse.h"

namespace tsvault::query {

namespace promql::internal {

namespace {

// Tokens that may name a metric (Prometheus' metric_identifier rule).
bool IsMetricNameToken(TokenType type) {
  switch (type) {
    case TokenType::kIdentifier: case TokenType::kMetricIdentifier:
    case TokenType::kAvg: case TokenType::kBottomk: case TokenType::kBy: case TokenType::kCount:
    case TokenType::kCountValues: case TokenType::kGroup: case TokenType::kAnd:
    case TokenType::kOr: case TokenType::kUnless: case TokenType::kMax: case TokenType::kMin:
    case TokenType::kOffset: case TokenType::kQuantile: case TokenType::kStddev:
    case TokenType::kStdvar: case TokenType::kSum: case TokenType::kTopk:
    case TokenType::kWithout: case TokenType::kStart: case TokenType::kEnd:
      return true;
    default:
      return false;
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's strconv.ParseInt(text, 0, 64) for the unsigned spellings the lexer
// produces: decimal, 0x hexadecimal and 0-prefixed octal.
bool ParseGoInteger(std::string_view text, int64_t* value) {
  int base = 10;
  if (text.size() > 1 && text[0] == '0') {
    const bool hex = text.size() >= 3 && (text[1] == 'x' || text[1] == 'X');
    base = hex ? 16 : 8;
    text.remove_prefix(hex ? 2 : 1);
  }
  if (text.empty()) return false;
  uint64_t result = 0;
  for (char c : text) {
    const int digit = HexDigit(c);
    if (digit < 0 || digit >= base) return false;
    if (result > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / base) {
      return false;
    }
    result = result * base + digit;
  }
  *value = static_cast<int64_t>(result);
  return true;
}

}  // namespace

Status MakeParseError(std::string_view input, size_t pos, std::string_view message) {
  std::string position;
  if (pos > input.size()) {
    position = "invalid position:";
  } else {
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos; ++i) {
      if (input[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    position = std::to_string(line) + ":" + std::to_string(pos - line_start + 1) + ":";
  }
  return Status::InvalidArgument(position + " parse error: " + std::string(message));
}

Parser::Parser(std::string_view input) : input_(input), lexer_(input) {}

const Token& Parser::Peek() {
  if (!has_lookahead_) {
    do {
      lookahead_ = lexer_.Next();
    } while (lookahead_.type == TokenType::kComment);
    has_lookahead_ = true;
    // Prometheus records a lexical error as soon as the token is read.
    if (lookahead_.type == TokenType::kError) ErrorAt(lookahead_.pos, lookahead_.error);
  }
  return lookahead_;
}

Token Parser::Consume() {
  Peek();
  has_lookahead_ = false;
  last_end_ = lookahead_.end();
  return std::move(lookahead_);
}

bool Parser::ErrorAt(size_t pos, std::string_view message) {
  if (status_.ok()) status_ = MakeParseError(input_, pos, message);
  return false;
}

bool Parser::Unexpected(std::string_view context, std::string_view expected) {
  const Token& token = Peek();
  if (token.type == TokenType::kError) return false;  // already reported
  std::string message = "unexpected " + DescribeToken(token);
  if (!context.empty()) message += " in " + std::string(context);
  if (!expected.empty()) message += ", expected " + std::string(expected);
  return ErrorAt(token.pos, message);
}

bool Parser::UnexpectedInExpression() {
  return Unexpected(aggregation_depth_ > 0 ? "aggregation" : "", "");
}

std::unique_ptr<Expr> Parser::ParseWholeExpression() {
  if (PeekIs(TokenType::kEof)) {
    ErrorAt(0, "no expression found in input");
    return nullptr;
  }
  std::unique_ptr<Expr> expr = ParseBinary(0);
  if (!expr) return nullptr;
  if (!PeekIs(TokenType::kEof)) {
    Unexpected("", "");
    return nullptr;
  }
  return expr;
}

std::unique_ptr<VectorSelector> Parser::ParseWholeSelector() {
  std::unique_ptr<VectorSelector> selector;
  if (PeekIs(TokenType::kLeftBrace)) {
    selector = ParseVectorSelector(nullptr);
  } else if (IsMetricNameToken(Peek().type)) {
    const Token name = Consume();
    selector = ParseVectorSelector(&name);
  } else {
    Unexpected("", "");
    return nullptr;
  }
  if (!selector) return nullptr;
  if (!PeekIs(TokenType::kEof)) {
    Unexpected("", "");
    return nullptr;
  }
  return selector;
}

bool Parser::NumberValue(const Token& token, double* value) {
  std::string lower(token.text);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "inf") {
    *value = std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "nan") {
    *value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  int64_t integer;
  if (ParseGoInteger(token.text, &integer)) {
    *value = static_cast<double>(integer);
    return true;
  }
  bool out_of_range;
  if (ParseGoFloat(token.text, value, &out_of_range)) return true;
  return ErrorAt(token.pos, "error parsing number: strconv.ParseFloat: parsing " +
                                QuoteGoString(token.text) + ": " +
                                (out_of_range ? "value out of range" : "invalid syntax"));
}

bool Parser::DurationValue(const Token& token, int64_t* milliseconds) {
  // model.ParseDuration works in nanoseconds, so its range is ~292 years.
  constexpr int64_t kMaxMilliseconds = std::numeric_limits<int64_t>::max() / 1000000;
  const Status status = ParsePromDuration(token.text, milliseconds);
  if (!status.ok()) {
    if (status.message().starts_with("duration out of range")) {
      return ErrorAt(token.pos, "duration out of range");
    }
    return ErrorAt(token.pos, "not a valid duration string: " + QuoteGoString(token.text));
  }
  if (*milliseconds > kMaxMilliseconds) return ErrorAt(token.pos, "duration out of range");
  if (*milliseconds == 0) return ErrorAt(token.pos, "duration must be greater than 0");
  return true;
}

bool Parser::StringValue(const Token& token, std::string* value) {
  const Status status = UnquoteString(token.text, value);
  if (status.ok()) return true;
  return ErrorAt(token.pos, "error unquoting string " + QuoteGoString(token.text) + ": " +
                                status.message());
}

}  // namespace promql::internal

Status ParseExpr(std::string_view input, std::unique_ptr<promql::Expr>* out) {
  promql::internal::Parser parser(input);
  std::unique_ptr<promql::Expr> expr = parser.ParseWholeExpression();
  if (!parser.status().ok()) return parser.status();
  if (!expr) return Status::Internal("PromQL parser failed without an error message");
  Status status = promql::internal::CheckExpr(input, expr.get());
  if (!status.ok()) return status;
  *out = std::move(expr);
  return Status::OK();
}

Status ParseMetricSelector(std::string_view input, std::vector<storage::LabelMatcher>* matchers) {
  promql::internal::Parser parser(input);
  std::unique_ptr<promql::VectorSelector> selector = parser.ParseWholeSelector();
  if (!parser.status().ok()) return parser.status();
  if (!selector) return Status::Internal("PromQL parser failed without an error message");
  *matchers = std::move(selector->matchers);
  return Status::OK();
}

}  // namespace tsvault::query
