// Internals of the PromQL parser shared by parser*.cc. Not part of
// the public API; include query/promql/parser.h instead.
//
// The parser is a hand-written recursive-descent / precedence-climbing
// parser that reproduces the behaviour of Prometheus' yacc grammar,
// including which "unexpected ..." message its error-recovery rules
// produce. It stops at the first error; type checking (CheckExpr) runs only
// on a tree that parsed cleanly, as in Prometheus.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "query/promql/ast.h"
#include "query/promql/lexer.h"

namespace tsvault::query::promql::internal {

// Formats Prometheus' "<line>:<col>: parse error: <message>" for the byte
// offset `pos` of `input`.
Status MakeParseError(std::string_view input, size_t pos, std::string_view message);

// Prometheus' checkAST: validates operand, argument and selector types of a
// parsed tree and normalises vector matching (set operators become
// many-to-many; matching is dropped when an operand is not a vector).
Status CheckExpr(std::string_view input, Expr* expr);

class Parser {
 public:
  explicit Parser(std::string_view input);

  // Parses the whole input as one expression; nullptr on error.
  std::unique_ptr<Expr> ParseWholeExpression();
  // Parses the whole input as one vector selector; nullptr on error.
  std::unique_ptr<VectorSelector> ParseWholeSelector();

  // The first error, or OK.
  const Status& status() const { return status_; }

 private:
  // --- tokens and errors (parser.cc) ---
  const Token& Peek();
  Token Consume();
  bool PeekIs(TokenType type) { return Peek().type == type; }
  bool failed() const { return !status_.ok(); }
  // Records `message` at `pos` unless an earlier error exists. Returns false.
  bool ErrorAt(size_t pos, std::string_view message);
  // Records "unexpected <lookahead>[ in <context>][, expected <expected>]".
  bool Unexpected(std::string_view context, std::string_view expected);
  // Unexpected() in the innermost open aggregation, else without context.
  bool UnexpectedInExpression();

  // --- literals (parser.cc) ---
  bool NumberValue(const Token& token, double* value);
  bool DurationValue(const Token& token, int64_t* milliseconds);
  bool StringValue(const Token& token, std::string* value);

  // --- selectors and modifiers (parser_modifiers.cc) ---
  std::unique_ptr<VectorSelector> ParseVectorSelector(const Token* name);
  bool ParseLabelMatchers(VectorSelector* selector);
  bool ParseGroupingLabels(std::vector<std::string>* labels);
  std::unique_ptr<Expr> ParseRangeOrSubquery(std::unique_ptr<Expr> expr);
  bool ParseOffset(Expr* expr);
  bool ParseAt(Expr* expr);
  bool SetTimestamp(Expr* expr, double seconds);
  bool SetAtPreprocessor(Expr* expr, AtPreprocessor preprocessor);

  // --- expressions (parser_expr.cc) ---
  std::unique_ptr<Expr> ParseBinary(int min_precedence);
  bool ParseBinaryModifiers(BinaryExpr* binary);
  std::unique_ptr<Expr> ParseUnary();
  std::unique_ptr<Expr> ParsePostfix(std::unique_ptr<Expr> expr);
  std::unique_ptr<Expr> ParsePrimary();
  std::unique_ptr<Expr> ParseNumberLiteral();
  std::unique_ptr<Expr> ParseStringLiteral();
  std::unique_ptr<Expr> ParseParen();
  std::unique_ptr<Expr> ParseIdentifier();
  std::unique_ptr<Expr> ParseAggregation();
  bool ParseAggregationModifier(AggregateExpr* aggregate);
  bool ParseCallArguments(std::vector<std::unique_ptr<Expr>>* args);

  // --- nesting bounds (parser_expr.cc) ---
  // Records the height of `expr` from its children; fails past the limit.
  bool TrackHeight(const Expr& expr);
  int HeightOf(const Expr* expr) const;

  std::string_view input_;
  Lexer lexer_;
  Token lookahead_;
  bool has_lookahead_ = false;
  size_t last_end_ = 0;         // end of the last consumed token
  int aggregation_depth_ = 0;   // open aggregations (for "in aggregation")
  int recursion_depth_ = 0;     // nested ParseBinary calls
  std::unordered_map<const Expr*, int> heights_;
  Status status_;

  friend class RecursionGuard;
};

}  // namespace tsvault::query::promql::internal
