// PromQL parser: operators (precedence climbing), unary signs, primary
// expressions, aggregations and function calls.
#include <algorithm>
#include <string>
#include <utility>

#include "query/promql/functions.h"
#include "query/promql/parser.h"
#include "query/promql/parser_internal.h"
#include "query/promql/text.h"

namespace tsvault::query::promql::internal {

namespace {

constexpr int kPowPrecedence = 6;

// Binding strength of a binary operator token; 0 if it is not one.
int Precedence(TokenType type) {
  switch (type) {
    case TokenType::kOr: return 1;
    case TokenType::kAnd: case TokenType::kUnless: return 2;
    case TokenType::kEqlc: case TokenType::kNeq: case TokenType::kLte: case TokenType::kLss:
    case TokenType::kGte: case TokenType::kGtr: return 3;
    case TokenType::kAdd: case TokenType::kSub: return 4;
    case TokenType::kMul: case TokenType::kDiv: case TokenType::kMod: case TokenType::kAtan2: return 5;
    case TokenType::kPow: return kPowPrecedence;
    default: return 0;
  }
}

BinaryOp ToBinaryOp(TokenType type) {
  switch (type) {
    case TokenType::kOr: return BinaryOp::kOr;
    case TokenType::kAnd: return BinaryOp::kAnd;
    case TokenType::kUnless: return BinaryOp::kUnless;
    case TokenType::kEqlc: return BinaryOp::kEqual;
    case TokenType::kNeq: return BinaryOp::kNotEqual;
    case TokenType::kGtr: return BinaryOp::kGreater;
    case TokenType::kLss: return BinaryOp::kLess;
    case TokenType::kGte: return BinaryOp::kGreaterOrEqual;
    case TokenType::kLte: return BinaryOp::kLessOrEqual;
    case TokenType::kAdd: return BinaryOp::kAdd;
    case TokenType::kSub: return BinaryOp::kSub;
    case TokenType::kMul: return BinaryOp::kMul;
    case TokenType::kDiv: return BinaryOp::kDiv;
    case TokenType::kMod: return BinaryOp::kMod;
    case TokenType::kAtan2: return BinaryOp::kAtan2;
    default: return BinaryOp::kPow;
  }
}

AggregateOp ToAggregateOp(TokenType type) {
  switch (type) {
    case TokenType::kAvg: return AggregateOp::kAvg;
    case TokenType::kCount: return AggregateOp::kCount;
    case TokenType::kMin: return AggregateOp::kMin;
    case TokenType::kMax: return AggregateOp::kMax;
    case TokenType::kGroup: return AggregateOp::kGroup;
    case TokenType::kStddev: return AggregateOp::kStddev;
    case TokenType::kStdvar: return AggregateOp::kStdvar;
    case TokenType::kTopk: return AggregateOp::kTopk;
    case TokenType::kBottomk: return AggregateOp::kBottomk;
    case TokenType::kCountValues: return AggregateOp::kCountValues;
    case TokenType::kQuantile: return AggregateOp::kQuantile;
    default: return AggregateOp::kSum;
  }
}

// Keywords that, where an expression starts, can only be a metric name.
bool IsKeywordMetricName(TokenType type) {
  switch (type) {
    case TokenType::kMetricIdentifier: case TokenType::kBy: case TokenType::kWithout:
    case TokenType::kOffset: case TokenType::kAnd: case TokenType::kOr: case TokenType::kUnless:
    case TokenType::kStart: case TokenType::kEnd:
      return true;
    default:
      return false;
  }
}

const std::string kNestingError =
    "expression nesting exceeds the maximum depth of " + std::to_string(kMaxPromqlNesting);

}  // namespace

// Counts nested ParseBinary calls so that hostile inputs such as
// "((((((..." cannot exhaust the stack.
class RecursionGuard {
 public:
  explicit RecursionGuard(Parser* parser) : parser_(parser) { ++parser_->recursion_depth_; }
  ~RecursionGuard() { --parser_->recursion_depth_; }
  RecursionGuard(const RecursionGuard&) = delete;
  RecursionGuard& operator=(const RecursionGuard&) = delete;
  bool ok() const { return parser_->recursion_depth_ <= kMaxPromqlNesting; }

 private:
  Parser* parser_;
};

int Parser::HeightOf(const Expr* expr) const {
  auto it = heights_.find(expr);
  return it == heights_.end() ? 1 : it->second;
}

bool Parser::TrackHeight(const Expr& expr) {
  int height = 1;
  for (const Expr* child : Children(expr)) height = std::max(height, HeightOf(child) + 1);
  heights_[&expr] = height;
  if (height > kMaxPromqlNesting) return ErrorAt(expr.position.start, kNestingError);
  return true;
}

// Precedence climbing: parses operators binding at least as tightly as
// `min_precedence`. ^ is right-associative, all others left-associative.
std::unique_ptr<Expr> Parser::ParseBinary(int min_precedence) {
  RecursionGuard guard(this);
  if (!guard.ok()) {
    ErrorAt(Peek().pos, kNestingError);
    return nullptr;
  }
  std::unique_ptr<Expr> lhs = ParseUnary();
  if (!lhs) return nullptr;
  for (;;) {
    const TokenType op_type = Peek().type;
    const int precedence = Precedence(op_type);
    if (precedence == 0 || precedence < min_precedence) return lhs;
    Consume();
    auto binary = std::make_unique<BinaryExpr>();
    binary->op = ToBinaryOp(op_type);
    binary->matching.emplace();
    if (!ParseBinaryModifiers(binary.get())) return nullptr;
    const int next_min = op_type == TokenType::kPow ? precedence : precedence + 1;
    std::unique_ptr<Expr> rhs = ParseBinary(next_min);
    if (!rhs) return nullptr;
    binary->position = {lhs->position.start, rhs->position.end};
    binary->lhs = std::move(lhs);
    binary->rhs = std::move(rhs);
    if (!TrackHeight(*binary)) return nullptr;
    lhs = std::move(binary);
  }
}

// [bool] [(on|ignoring) labels [(group_left|group_right) [labels]]]
bool Parser::ParseBinaryModifiers(BinaryExpr* binary) {
  if (PeekIs(TokenType::kBool)) {
    Consume();
    binary->return_bool = true;
  }
  if (!PeekIs(TokenType::kOn) && !PeekIs(TokenType::kIgnoring)) return true;
  VectorMatching& matching = *binary->matching;
  matching.on = Consume().type == TokenType::kOn;
  if (!ParseGroupingLabels(&matching.matching_labels)) return false;
  if (!PeekIs(TokenType::kGroupLeft) && !PeekIs(TokenType::kGroupRight)) return true;
  matching.card = Consume().type == TokenType::kGroupLeft ? VectorMatchCardinality::kManyToOne
                                                          : VectorMatchCardinality::kOneToMany;
  // The label list is optional; a "(" here always starts it.
  if (PeekIs(TokenType::kLeftParen)) return ParseGroupingLabels(&matching.include);
  return true;
}

// A sign binds more loosely than ^ but more tightly than * / % (Prometheus
// gives the unary rule the precedence of MUL): -a^b is -(a^b), -a*b is
// (-a)*b. A sign directly on a number literal is folded into it.
std::unique_ptr<Expr> Parser::ParseUnary() {
  if (!PeekIs(TokenType::kAdd) && !PeekIs(TokenType::kSub)) {
    std::unique_ptr<Expr> primary = ParsePrimary();
    if (!primary) return nullptr;
    return ParsePostfix(std::move(primary));
  }
  const Token sign = Consume();
  std::unique_ptr<Expr> operand = ParseBinary(kPowPrecedence);
  if (!operand) return nullptr;
  if (auto* number = operand->DynCast<NumberLiteral>()) {
    if (sign.type == TokenType::kSub) number->value = -number->value;
    number->position.start = sign.pos;
    return operand;
  }
  auto unary = std::make_unique<UnaryExpr>();
  unary->op = sign.type == TokenType::kSub ? UnaryOp::kMinus : UnaryOp::kPlus;
  unary->position = {sign.pos, operand->position.end};
  unary->expr = std::move(operand);
  if (!TrackHeight(*unary)) return nullptr;
  return unary;
}

// Postfix modifiers bind tightest: [range], [range:step], offset, @.
std::unique_ptr<Expr> Parser::ParsePostfix(std::unique_ptr<Expr> expr) {
  for (;;) {
    switch (Peek().type) {
      case TokenType::kLeftBracket:
        expr = ParseRangeOrSubquery(std::move(expr));
        if (!expr) return nullptr;
        break;
      case TokenType::kOffset:
        if (!ParseOffset(expr.get())) return nullptr;
        break;
      case TokenType::kAt:
        if (!ParseAt(expr.get())) return nullptr;
        break;
      default:
        return expr;
    }
  }
}

std::unique_ptr<Expr> Parser::ParsePrimary() {
  const TokenType type = Peek().type;
  switch (type) {
    case TokenType::kNumber: return ParseNumberLiteral();
    case TokenType::kString: return ParseStringLiteral();
    case TokenType::kLeftParen: return ParseParen();
    case TokenType::kLeftBrace: return ParseVectorSelector(nullptr);
    case TokenType::kIdentifier: return ParseIdentifier();
    default: break;
  }
  if (IsAggregatorToken(type)) return ParseAggregation();
  if (IsKeywordMetricName(type)) {
    const Token name = Consume();
    return ParseVectorSelector(&name);
  }
  UnexpectedInExpression();
  return nullptr;
}

std::unique_ptr<Expr> Parser::ParseNumberLiteral() {
  const Token token = Consume();
  auto number = std::make_unique<NumberLiteral>();
  number->position = {token.pos, token.end()};
  if (!NumberValue(token, &number->value)) return nullptr;
  return number;
}

std::unique_ptr<Expr> Parser::ParseStringLiteral() {
  const Token token = Consume();
  auto string = std::make_unique<StringLiteral>();
  string->position = {token.pos, token.end()};
  if (!StringValue(token, &string->value)) return nullptr;
  return string;
}

std::unique_ptr<Expr> Parser::ParseParen() {
  const Token left = Consume();
  std::unique_ptr<Expr> inner = ParseBinary(0);
  if (!inner) return nullptr;
  if (!PeekIs(TokenType::kRightParen)) {
    UnexpectedInExpression();
    return nullptr;
  }
  Consume();
  auto paren = std::make_unique<ParenExpr>();
  paren->position = {left.pos, last_end_};
  paren->expr = std::move(inner);
  if (!TrackHeight(*paren)) return nullptr;
  return paren;
}

// An identifier followed by "(" is a function call, otherwise a metric name.
std::unique_ptr<Expr> Parser::ParseIdentifier() {
  const Token name = Consume();
  if (!PeekIs(TokenType::kLeftParen)) return ParseVectorSelector(&name);
  auto call = std::make_unique<Call>();
  if (!ParseCallArguments(&call->args)) return nullptr;
  call->function = LookupFunction(name.text);
  if (call->function == nullptr) {
    ErrorAt(name.pos, "unknown function with name " + QuoteGoString(name.text));
    return nullptr;
  }
  call->position = {name.pos, last_end_};
  if (!TrackHeight(*call)) return nullptr;
  return call;
}

// op [by|without (labels)] "(" args ")" [by|without (labels)]
// An aggregation keyword not followed by "(", by or without is a metric name.
std::unique_ptr<Expr> Parser::ParseAggregation() {
  const Token op = Consume();
  if (!PeekIs(TokenType::kLeftParen) && !PeekIs(TokenType::kBy) && !PeekIs(TokenType::kWithout)) {
    return ParseVectorSelector(&op);
  }
  ++aggregation_depth_;  // parsing stops at the first error, so no unwinding needed
  auto aggregate = std::make_unique<AggregateExpr>();
  aggregate->op = ToAggregateOp(op.type);
  const bool modifier_first = !PeekIs(TokenType::kLeftParen);
  if (modifier_first && !ParseAggregationModifier(aggregate.get())) return nullptr;
  if (!PeekIs(TokenType::kLeftParen)) {
    UnexpectedInExpression();
    return nullptr;
  }
  std::vector<std::unique_ptr<Expr>> args;
  if (!ParseCallArguments(&args)) return nullptr;
  if (!modifier_first && (PeekIs(TokenType::kBy) || PeekIs(TokenType::kWithout)) &&
      !ParseAggregationModifier(aggregate.get())) {
    return nullptr;
  }
  if (failed()) return nullptr;
  --aggregation_depth_;

  aggregate->position = {op.pos, last_end_};
  if (args.empty()) {
    ErrorAt(op.pos, "no arguments for aggregate expression provided");
    return nullptr;
  }
  const size_t wanted = AggregateTakesParam(aggregate->op) ? 2 : 1;
  if (args.size() != wanted) {
    ErrorAt(op.pos, "wrong number of arguments for aggregate expression provided, expected " +
                        std::to_string(wanted) + ", got " + std::to_string(args.size()));
    return nullptr;
  }
  if (wanted == 2) aggregate->param = std::move(args[0]);
  aggregate->expr = std::move(args[wanted - 1]);
  if (!TrackHeight(*aggregate)) return nullptr;
  return aggregate;
}

bool Parser::ParseAggregationModifier(AggregateExpr* aggregate) {
  aggregate->without = Consume().type == TokenType::kWithout;
  return ParseGroupingLabels(&aggregate->grouping);
}

// "(" [expr {"," expr}] ")" -- a trailing comma is an error.
bool Parser::ParseCallArguments(std::vector<std::unique_ptr<Expr>>* args) {
  Consume();  // '('
  if (PeekIs(TokenType::kRightParen)) {
    Consume();
    return true;
  }
  for (;;) {
    std::unique_ptr<Expr> arg = ParseBinary(0);
    if (!arg) return false;
    args->push_back(std::move(arg));
    if (PeekIs(TokenType::kRightParen)) {
      Consume();
      return true;
    }
    if (!PeekIs(TokenType::kComma)) return UnexpectedInExpression();
    const Token comma = Consume();
    if (PeekIs(TokenType::kRightParen) || PeekIs(TokenType::kComma)) {
      return ErrorAt(comma.pos, "trailing commas not allowed in function call args");
    }
  }
}

}  // namespace tsvault::query::promql::internal
