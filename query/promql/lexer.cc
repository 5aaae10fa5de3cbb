// PromQL lexer: token classes, descriptions and the two top-level states
// (outside and inside braces). Literal scanners are in lexer_scan.cc.
#include "query/promql/lexer.h"

#include <utility>

#include "query/promql/lexer_internal.h"
#include "query/promql/text.h"

namespace tsvault::query::promql {

using lexer_internal::IsAlpha;
using lexer_internal::IsDigit;
using lexer_internal::IsEndOfLine;
using lexer_internal::IsSpace;

namespace {

// Go's "%q" of a token value, cut to 10 runes plus "..." when the value is
// longer than 10 bytes (Item.String()).
std::string ShortQuote(std::string_view text) {
  if (text.size() <= 10) return QuoteGoString(text);
  size_t pos = 0;
  for (int runes = 0; runes < 10 && pos < text.size(); ++runes) {
    size_t width;
    DecodeRune(text, pos, &width);
    pos += width;
  }
  return QuoteGoString(text.substr(0, pos)) + "...";
}

}  // namespace

bool IsOperatorToken(TokenType type) { return type >= TokenType::kAdd && type <= TokenType::kAt; }

bool IsAggregatorToken(TokenType type) {
  return type >= TokenType::kSum && type <= TokenType::kQuantile;
}

bool IsKeywordToken(TokenType type) { return type >= TokenType::kBool && type <= TokenType::kWithout; }

std::string DescribeToken(const Token& token) {
  switch (token.type) {
    case TokenType::kEof: return "end of input";
    case TokenType::kError: return token.error;
    case TokenType::kIdentifier: return "identifier " + QuoteGoString(token.text);
    case TokenType::kMetricIdentifier: return "metric identifier " + QuoteGoString(token.text);
    case TokenType::kString: return "string " + ShortQuote(token.text);
    case TokenType::kNumber: return "number " + ShortQuote(token.text);
    case TokenType::kDuration: return "duration " + ShortQuote(token.text);
    case TokenType::kComment: return "comment " + ShortQuote(token.text);
    default: break;
  }
  std::string tag;
  if (IsKeywordToken(token.type)) tag = "<";
  if (IsOperatorToken(token.type)) tag = "<op:";
  if (IsAggregatorToken(token.type)) tag = "<aggr:";
  if (!tag.empty()) return tag.append(token.text).append(">");
  return ShortQuote(token.text);
}

Lexer::Lexer(std::string_view input) : input_(input) {}

int32_t Lexer::NextRune() {
  const int32_t rune = DecodeRune(input_, pos_, &width_);
  pos_ += width_;
  return rune;
}

void Lexer::Backup() { pos_ -= width_; }

int32_t Lexer::PeekRune() {
  size_t width;
  return DecodeRune(input_, pos_, &width);
}

bool Lexer::Accept(std::string_view valid) {
  const int32_t rune = NextRune();
  if (rune >= 0 && rune < 0x80 && valid.find(static_cast<char>(rune)) != std::string_view::npos) {
    return true;
  }
  Backup();
  return false;
}

void Lexer::AcceptRun(std::string_view valid) {
  while (Accept(valid)) {
  }
}

void Lexer::SkipSpaces() {
  while (IsSpace(PeekRune())) NextRune();
  start_ = pos_;
}

Token Lexer::Emit(TokenType type) {
  Token token;
  token.type = type;
  token.pos = start_;
  token.text = input_.substr(start_, pos_ - start_);
  start_ = pos_;
  return token;
}

Token Lexer::Error(std::string message) {
  Token token;
  token.type = TokenType::kError;
  token.pos = start_;
  token.error = std::move(message);
  return token;
}

Token Lexer::Next() {
  if (finished_) {
    Token token;
    token.pos = input_.size();
    return token;
  }
  Token token;
  if (expect_duration_) {
    expect_duration_ = false;
    token = LexDuration();
  } else {
    while (!(brace_open_ ? LexInsideBraces(&token) : LexStatements(&token))) {
    }
  }
  if (token.type == TokenType::kError || token.type == TokenType::kEof) finished_ = true;
  return token;
}

// Lexes one token outside braces. Returns false when it only skipped spaces.
bool Lexer::LexStatements(Token* token) {
  if (input_.substr(pos_).starts_with('#')) {
    *token = LexComment();
    return true;
  }
  const int32_t r = NextRune();
  if (r == kEndOfInput) {
    if (paren_depth_ != 0) {
      *token = Error("unclosed left parenthesis");
    } else if (bracket_open_) {
      *token = Error("unclosed left bracket");
    } else {
      *token = Emit(TokenType::kEof);
    }
    return true;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return false;
  }
  switch (r) {
    case ',': *token = Emit(TokenType::kComma); return true;
    case '*': *token = Emit(TokenType::kMul); return true;
    case '/': *token = Emit(TokenType::kDiv); return true;
    case '%': *token = Emit(TokenType::kMod); return true;
    case '+': *token = Emit(TokenType::kAdd); return true;
    case '-': *token = Emit(TokenType::kSub); return true;
    case '^': *token = Emit(TokenType::kPow); return true;
    case '@': *token = Emit(TokenType::kAt); return true;
    case '=': {
      const int32_t next = PeekRune();
      if (next == '=') {
        NextRune();
        *token = Emit(TokenType::kEqlc);
      } else if (next == '~') {
        *token = Error("unexpected character after '=': " + QuoteGoRune(next));
      } else {
        *token = Emit(TokenType::kAssign);
      }
      return true;
    }
    case '!': {
      const int32_t next = NextRune();
      *token = next == '=' ? Emit(TokenType::kNeq)
                           : Error("unexpected character after '!': " + QuoteGoRune(next));
      return true;
    }
    case '<':
    case '>': {
      const bool or_equal = PeekRune() == '=';
      if (or_equal) NextRune();
      *token = Emit(r == '<' ? (or_equal ? TokenType::kLte : TokenType::kLss)
                             : (or_equal ? TokenType::kGte : TokenType::kGtr));
      return true;
    }
    case '"':
    case '\'':
      string_open_ = r;
      *token = LexString();
      return true;
    case '`':
      string_open_ = r;
      *token = LexRawString();
      return true;
    case '(':
      *token = Emit(TokenType::kLeftParen);
      ++paren_depth_;
      return true;
    case ')':
      *token = Emit(TokenType::kRightParen);
      if (--paren_depth_ < 0) {
        // Like Prometheus, the error points just past the parenthesis.
        *token = Error("unexpected right parenthesis " + QuoteGoRune(r));
      }
      return true;
    case '{':
      *token = Emit(TokenType::kLeftBrace);
      brace_open_ = true;
      return true;
    case '[':
      if (bracket_open_) {
        *token = Error("unexpected left bracket " + QuoteGoRune(r));
        return true;
      }
      got_colon_ = false;
      *token = Emit(TokenType::kLeftBracket);
      SkipSpaces();
      bracket_open_ = true;
      expect_duration_ = true;
      return true;
    case ']':
      if (!bracket_open_) {
        *token = Error("unexpected right bracket " + QuoteGoRune(r));
        return true;
      }
      *token = Emit(TokenType::kRightBracket);
      bracket_open_ = false;
      return true;
    default: break;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(PeekRune()))) {
    Backup();
    *token = LexNumberOrDuration();
    return true;
  }
  if (IsAlpha(r) || r == ':') {
    if (!bracket_open_) {
      Backup();
      *token = LexKeywordOrIdentifier();
      return true;
    }
    // Inside brackets Prometheus treats any of these as the subquery colon.
    if (got_colon_) {
      *token = Error("unexpected colon " + QuoteGoRune(r));
      return true;
    }
    *token = Emit(TokenType::kColon);
    got_colon_ = true;
    return true;
  }
  *token = Error("unexpected character: " + QuoteGoRune(r));
  return true;
}

// Lexes one token inside {...}. Returns false when it only skipped spaces.
bool Lexer::LexInsideBraces(Token* token) {
  if (input_.substr(pos_).starts_with('#')) {
    *token = LexComment();
    return true;
  }
  const int32_t r = NextRune();
  if (r == kEndOfInput) {
    *token = Error("unexpected end of input inside braces");
    return true;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return false;
  }
  if (IsAlpha(r)) {
    Backup();
    *token = LexIdentifier();
    return true;
  }
  switch (r) {
    case ',': *token = Emit(TokenType::kComma); return true;
    case '"':
    case '\'':
      string_open_ = r;
      *token = LexString();
      return true;
    case '`':
      string_open_ = r;
      *token = LexRawString();
      return true;
    case '=':
      if (NextRune() == '~') {
        *token = Emit(TokenType::kEqlRegex);
      } else {
        Backup();
        *token = Emit(TokenType::kAssign);
      }
      return true;
    case '!': {
      const int32_t next = NextRune();
      if (next == '~') {
        *token = Emit(TokenType::kNeqRegex);
      } else if (next == '=') {
        *token = Emit(TokenType::kNeq);
      } else {
        *token = Error("unexpected character after '!' inside braces: " + QuoteGoRune(next));
      }
      return true;
    }
    case '{': *token = Error("unexpected left brace " + QuoteGoRune(r)); return true;
    case '}':
      *token = Emit(TokenType::kRightBrace);
      brace_open_ = false;
      return true;
    default:
      *token = Error("unexpected character inside braces: " + QuoteGoRune(r));
      return true;
  }
}

Token Lexer::LexComment() {
  pos_ += 1;  // '#'
  int32_t r = NextRune();
  while (!IsEndOfLine(r) && r != kEndOfInput) r = NextRune();
  Backup();
  return Emit(TokenType::kComment);
}


}  // namespace tsvault::query::promql
