// PromQL lexer, a port of the state machine in Prometheus 2.42's
// promql/parser/lex.go. It produces one token at a time; the first lexical
// error is returned as a kError token carrying Prometheus' message, after
// which only kEof tokens follow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tsvault::query::promql {

// Token kinds. Keywords are recognised case-insensitively ("SUM", "And").
enum class TokenType {
  kEof,
  kError,    // lexical error; Token::error holds the message
  kComment,  // "# ..." up to the end of the line (the parser skips these)
  kIdentifier,        // foo, rate (no colon)
  kMetricIdentifier,  // foo:bar, :foo
  kNumber,            // 1, 1.5, .5, 5., 1e3, 0x1F, Inf, NaN (no sign)
  kDuration,          // 5m, 1h30m, 250ms
  kString,            // "..." '...' `...` (text keeps the quotes)
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kAssign,  // "=" (label matching)
  kColon,   // ":" inside a subquery range
  // Operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,      // ==
  kNeq,       // !=
  kLss,       // <
  kLte,       // <=
  kGtr,       // >
  kGte,       // >=
  kEqlRegex,  // =~ (inside braces only)
  kNeqRegex,  // !~ (inside braces only)
  kAnd,
  kOr,
  kUnless,
  kAtan2,
  kAt,  // @
  // Aggregation operators.
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,
  // Preprocessors usable after @: start() and end().
  kStart,
  kEnd,
};

// One lexed token.
struct Token {
  TokenType type = TokenType::kEof;
  size_t pos = 0;         // byte offset of the first character in the input
  std::string_view text;  // source text (a view into the input); empty for kEof/kError
  std::string error;      // kError only: the lexer's message

  size_t end() const { return pos + text.size(); }
};

// Token classes, as Prometheus' ItemType.IsOperator/IsAggregator/IsKeyword.
bool IsOperatorToken(TokenType type);
bool IsAggregatorToken(TokenType type);
bool IsKeywordToken(TokenType type);

// Describes a token the way Prometheus' Item.desc() does in "unexpected ..."
// messages: `identifier "foo"`, `number "5"`, `<op:+>`, `<aggr:sum>`,
// `<by>`, `"("`, `end of input`. Long literal values are cut to 10 runes.
std::string DescribeToken(const Token& token);

// Splits a PromQL expression into tokens.
class Lexer {
 public:
  // `input` must outlive the lexer and the tokens it returns.
  explicit Lexer(std::string_view input);

  // Returns the next token (comments included). After kEof or kError every
  // further call returns kEof at the end of the input.
  Token Next();

 private:
  int32_t NextRune();
  void Backup();
  int32_t PeekRune();
  bool Accept(std::string_view valid);
  void AcceptRun(std::string_view valid);
  void SkipSpaces();
  Token Emit(TokenType type);
  Token Error(std::string message);

  bool LexStatements(Token* token);
  bool LexInsideBraces(Token* token);
  Token LexComment();
  Token LexDuration();
  Token LexNumberOrDuration();
  Token LexKeywordOrIdentifier();
  Token LexIdentifier();
  Token LexString();
  Token LexRawString();
  bool LexEscape(std::string* error);
  bool ScanNumber();
  bool AcceptRemainingDuration();

  std::string_view input_;
  size_t pos_ = 0;    // current position
  size_t start_ = 0;  // start of the token being lexed
  size_t width_ = 0;  // width of the last rune read
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool expect_duration_ = false;  // the previous token was '['
  bool finished_ = false;
  int32_t string_open_ = 0;  // quote rune of the string being lexed
};

}  // namespace tsvault::query::promql
