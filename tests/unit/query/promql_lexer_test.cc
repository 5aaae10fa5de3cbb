// PromQL lexer tokens and errors, and the Go-compatible text helpers.
#include "common/time_parse.h"
#include "query/promql/lexer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "query/promql/text.h"

namespace tsvault::query::promql {
namespace {

using T = TokenType;

struct Lexed {
  T type;
  std::string text;
  bool operator==(const Lexed& other) const { return type == other.type && text == other.text; }
};

std::ostream& operator<<(std::ostream& os, const Lexed& lexed) {
  return os << static_cast<int>(lexed.type) << ":" << lexed.text;
}

// All tokens up to (excluding) EOF; an error token carries its message.
std::vector<Lexed> LexAll(std::string_view input) {
  Lexer lexer(input);
  std::vector<Lexed> tokens;
  for (int i = 0; i < 1000; ++i) {
    Token token = lexer.Next();
    if (token.type == T::kEof) break;
    tokens.push_back({token.type, token.type == T::kError ? token.error : std::string(token.text)});
    if (token.type == T::kError) break;
  }
  return tokens;
}

struct LexCase {
  const char* input;
  std::vector<Lexed> tokens;
};

const std::vector<LexCase>& LexCases() {
  static const std::vector<LexCase> cases = {
      {",", {{T::kComma, ","}}},
      {"()", {{T::kLeftParen, "("}, {T::kRightParen, ")"}}},
      {"{}", {{T::kLeftBrace, "{"}, {T::kRightBrace, "}"}}},
      {"[5m]", {{T::kLeftBracket, "["}, {T::kDuration, "5m"}, {T::kRightBracket, "]"}}},
      {"[ 5m]", {{T::kLeftBracket, "["}, {T::kDuration, "5m"}, {T::kRightBracket, "]"}}},
      {"[5m :1m ]",
       {{T::kLeftBracket, "["}, {T::kDuration, "5m"}, {T::kColon, ":"}, {T::kDuration, "1m"},
        {T::kRightBracket, "]"}}},
      {"[5m:]", {{T::kLeftBracket, "["}, {T::kDuration, "5m"}, {T::kColon, ":"}, {T::kRightBracket, "]"}}},
      {"\r\n\r", {}},
      {"1", {{T::kNumber, "1"}}},
      {"4.23", {{T::kNumber, "4.23"}}},
      {".3", {{T::kNumber, ".3"}}},
      {"5.", {{T::kNumber, "5."}}},
      {"NaN", {{T::kNumber, "NaN"}}},
      {"nAN", {{T::kNumber, "nAN"}}},
      {"NaN 123", {{T::kNumber, "NaN"}, {T::kNumber, "123"}}},
      {"NaN123", {{T::kIdentifier, "NaN123"}}},
      {"iNf", {{T::kNumber, "iNf"}}},
      {"Inf", {{T::kNumber, "Inf"}}},
      {"+Inf", {{T::kAdd, "+"}, {T::kNumber, "Inf"}}},
      {"+Inf 123", {{T::kAdd, "+"}, {T::kNumber, "Inf"}, {T::kNumber, "123"}}},
      {"-Inf", {{T::kSub, "-"}, {T::kNumber, "Inf"}}},
      {"Infoo", {{T::kIdentifier, "Infoo"}}},
      {"-Infoo", {{T::kSub, "-"}, {T::kIdentifier, "Infoo"}}},
      {"-Inf 123", {{T::kSub, "-"}, {T::kNumber, "Inf"}, {T::kNumber, "123"}}},
      {"0x123", {{T::kNumber, "0x123"}}},
      {"0X1aF", {{T::kNumber, "0X1aF"}}},
      {"1e5", {{T::kNumber, "1e5"}}},
      {"1E-5", {{T::kNumber, "1E-5"}}},
      {"1e", {{T::kNumber, "1e"}}},
      {"5s", {{T::kDuration, "5s"}}},
      {"123m", {{T::kDuration, "123m"}}},
      {"1h", {{T::kDuration, "1h"}}},
      {"3w", {{T::kDuration, "3w"}}},
      {"1y", {{T::kDuration, "1y"}}},
      {"250ms", {{T::kDuration, "250ms"}}},
      {"1h30m", {{T::kDuration, "1h30m"}}},
      {"1y2w3d4h5m6s7ms", {{T::kDuration, "1y2w3d4h5m6s7ms"}}},
      {"1.5m", {{T::kDuration, "1.5m"}}},
      {"\"test\\tsequence\"", {{T::kString, "\"test\\tsequence\""}}},
      {"\"test\\\\.expression\"", {{T::kString, "\"test\\\\.expression\""}}},
      {"'single'", {{T::kString, "'single'"}}},
      {"`raw\\string\n`", {{T::kString, "`raw\\string\n`"}}},
      {"\"é☺\"", {{T::kString, "\"é☺\""}}},
      {"abc", {{T::kIdentifier, "abc"}}},
      {"a_b_c", {{T::kIdentifier, "a_b_c"}}},
      {"_abc", {{T::kIdentifier, "_abc"}}},
      {"abc:def", {{T::kMetricIdentifier, "abc:def"}}},
      {":bc", {{T::kMetricIdentifier, ":bc"}}},
      {"a:b:c", {{T::kMetricIdentifier, "a:b:c"}}},
      {"sum:rate5m", {{T::kMetricIdentifier, "sum:rate5m"}}},
      {"0a:bc", {{T::kError, R"(bad number or duration syntax: "0")"}}},
      {"and", {{T::kAnd, "and"}}},
      {"AND", {{T::kAnd, "AND"}}},
      {"or unless atan2", {{T::kOr, "or"}, {T::kUnless, "unless"}, {T::kAtan2, "atan2"}}},
      {"sum avg count min max group stddev stdvar topk bottomk count_values quantile",
       {{T::kSum, "sum"}, {T::kAvg, "avg"}, {T::kCount, "count"}, {T::kMin, "min"}, {T::kMax, "max"},
        {T::kGroup, "group"}, {T::kStddev, "stddev"}, {T::kStdvar, "stdvar"}, {T::kTopk, "topk"},
        {T::kBottomk, "bottomk"}, {T::kCountValues, "count_values"}, {T::kQuantile, "quantile"}}},
      {"by without on ignoring group_left group_right bool offset",
       {{T::kBy, "by"}, {T::kWithout, "without"}, {T::kOn, "on"}, {T::kIgnoring, "ignoring"},
        {T::kGroupLeft, "group_left"}, {T::kGroupRight, "group_right"}, {T::kBool, "bool"},
        {T::kOffset, "offset"}}},
      {"start end", {{T::kStart, "start"}, {T::kEnd, "end"}}},
      {"start()", {{T::kStart, "start"}, {T::kLeftParen, "("}, {T::kRightParen, ")"}}},
      {"@ 1", {{T::kAt, "@"}, {T::kNumber, "1"}}},
      {"+ - * / % ^", {{T::kAdd, "+"}, {T::kSub, "-"}, {T::kMul, "*"}, {T::kDiv, "/"}, {T::kMod, "%"},
                       {T::kPow, "^"}}},
      {"== != < <= > >=", {{T::kEqlc, "=="}, {T::kNeq, "!="}, {T::kLss, "<"}, {T::kLte, "<="},
                           {T::kGtr, ">"}, {T::kGte, ">="}}},
      {"=", {{T::kAssign, "="}}},
      {"{a=\"b\",c!=\"d\",e=~\"f\",g!~\"h\"}",
       {{T::kLeftBrace, "{"}, {T::kIdentifier, "a"}, {T::kAssign, "="}, {T::kString, "\"b\""},
        {T::kComma, ","}, {T::kIdentifier, "c"}, {T::kNeq, "!="}, {T::kString, "\"d\""},
        {T::kComma, ","}, {T::kIdentifier, "e"}, {T::kEqlRegex, "=~"}, {T::kString, "\"f\""},
        {T::kComma, ","}, {T::kIdentifier, "g"}, {T::kNeqRegex, "!~"}, {T::kString, "\"h\""},
        {T::kRightBrace, "}"}}},
      {"{sum=\"a\"}", {{T::kLeftBrace, "{"}, {T::kIdentifier, "sum"}, {T::kAssign, "="},
                       {T::kString, "\"a\""}, {T::kRightBrace, "}"}}},
      {"# comment", {{T::kComment, "# comment"}}},
      {"5 # comment\n+ 1", {{T::kNumber, "5"}, {T::kComment, "# comment"}, {T::kAdd, "+"}, {T::kNumber, "1"}}},
      {"{# c\n}", {{T::kLeftBrace, "{"}, {T::kComment, "# c"}, {T::kRightBrace, "}"}}},
      {"foo[5m x]", {{T::kIdentifier, "foo"}, {T::kLeftBracket, "["}, {T::kDuration, "5m"},
                     {T::kColon, "x"}, {T::kRightBracket, "]"}}},
      // Errors.
      {"=~", {{T::kError, "unexpected character after '=': '~'"}}},
      {"!~", {{T::kError, "unexpected character after '!': '~'"}}},
      {"!(", {{T::kError, "unexpected character after '!': '('"}}},
      {"1a", {{T::kError, R"(bad number or duration syntax: "1")"}}},
      {"5mm", {{T::kError, R"(bad number or duration syntax: "5mm")"}}},
      {"(", {{T::kLeftParen, "("}, {T::kError, "unclosed left parenthesis"}}},
      {")", {{T::kError, "unexpected right parenthesis ')'"}}},
      {"())", {{T::kLeftParen, "("}, {T::kRightParen, ")"}, {T::kError, "unexpected right parenthesis ')'"}}},
      {"[5m", {{T::kLeftBracket, "["}, {T::kDuration, "5m"}, {T::kError, "unclosed left bracket"}}},
      {"[5m[", {{T::kLeftBracket, "["}, {T::kDuration, "5m"}, {T::kError, "unexpected left bracket '['"}}},
      {"]", {{T::kError, "unexpected right bracket ']'"}}},
      {"[]", {{T::kLeftBracket, "["}, {T::kError, "missing unit character in duration"}}},
      {"[5mx]", {{T::kLeftBracket, "["}, {T::kError, R"(bad duration syntax: "5mx")"}}},
      {"[5m::]", {{T::kLeftBracket, "["}, {T::kDuration, "5m"}, {T::kColon, ":"},
                  {T::kError, "unexpected colon ':'"}}},
      {"{", {{T::kLeftBrace, "{"}, {T::kError, "unexpected end of input inside braces"}}},
      {"{{", {{T::kLeftBrace, "{"}, {T::kError, "unexpected left brace '{'"}}},
      {"{a!b}", {{T::kLeftBrace, "{"}, {T::kIdentifier, "a"},
                 {T::kError, "unexpected character after '!' inside braces: 'b'"}}},
      {"{1}", {{T::kLeftBrace, "{"}, {T::kError, "unexpected character inside braces: '1'"}}},
      {"§", {{T::kError, "unexpected character: '§'"}}},
      {"\x01", {{T::kError, R"(unexpected character: '\x01')"}}},
      {"\xff", {{T::kError, "unexpected character: '\xEF\xBF\xBD'"}}},
      {"\"abc", {{T::kError, "unterminated quoted string"}}},
      {"'a\nb'", {{T::kError, "unterminated quoted string"}}},
      {"`abc", {{T::kError, "unterminated raw string"}}},
      {"\"\\q\"", {{T::kError, "unknown escape sequence U+0071 'q'"}}},
      {"\"\\\n\"", {{T::kError, "unknown escape sequence U+000A"}}},
      {"\"\\xZZ\"", {{T::kError, "illegal character U+005A 'Z' in escape sequence"}}},
      {"\"\\u12\"", {{T::kError, "illegal character U+0022 '\"' in escape sequence"}}},
      {"\"\\U00110000\"", {{T::kError, "escape sequence is an invalid Unicode code point"}}},
      {"\"\\x41\\101\\u00e9\\U0001F600\"", {{T::kString, "\"\\x41\\101\\u00e9\\U0001F600\""}}},
      {"\"\xc3\"", {{T::kError, "invalid UTF-8 rune"}}},
      {"`\xc3`", {{T::kError, "invalid UTF-8 rune"}}},
  };
  return cases;
}

TEST(PromqlLexerTest, Tokens) {
  for (const LexCase& c : LexCases()) {
    EXPECT_EQ(LexAll(c.input), c.tokens) << "input: " << c.input;
  }
}

TEST(PromqlLexerTest, PositionsAndEndOfInput) {
  Lexer lexer("  foo{a=\"b\"} # c\n[5m]");
  Token token = lexer.Next();
  EXPECT_EQ(token.type, T::kIdentifier);
  EXPECT_EQ(token.pos, 2u);
  EXPECT_EQ(token.end(), 5u);
  token = lexer.Next();
  EXPECT_EQ(token.pos, 5u);  // {
  for (int i = 0; i < 4; ++i) token = lexer.Next();  // a = "b" }
  EXPECT_EQ(token.type, T::kRightBrace);
  EXPECT_EQ(token.pos, 11u);
  token = lexer.Next();
  EXPECT_EQ(token.type, T::kComment);
  EXPECT_EQ(token.pos, 13u);
  token = lexer.Next();
  EXPECT_EQ(token.type, T::kLeftBracket);
  EXPECT_EQ(token.pos, 17u);
  for (int i = 0; i < 3; ++i) token = lexer.Next();
  EXPECT_EQ(token.type, T::kEof);
  EXPECT_EQ(token.pos, 21u);
  EXPECT_EQ(lexer.Next().type, T::kEof);

  Lexer failing("(1))");
  for (int i = 0; i < 3; ++i) failing.Next();
  token = failing.Next();
  EXPECT_EQ(token.type, T::kError);
  EXPECT_EQ(token.pos, 4u);  // just past the stray parenthesis, as Prometheus reports
  EXPECT_EQ(failing.Next().type, T::kEof);
}

TEST(PromqlLexerTest, DescribeToken) {
  auto describe = [](std::string_view input) { return DescribeToken(Lexer(input).Next()); };
  EXPECT_EQ(describe("foo"), R"(identifier "foo")");
  EXPECT_EQ(describe("foo:bar"), R"(metric identifier "foo:bar")");
  EXPECT_EQ(describe("12"), R"(number "12")");
  EXPECT_EQ(describe("12345678901"), R"(number "1234567890"...)");
  EXPECT_EQ(describe("5m"), R"(duration "5m")");
  EXPECT_EQ(describe("'x'"), R"(string "'x'")");
  EXPECT_EQ(describe("\"é☺é☺é☺é☺é☺é☺\""), "string \"\\\"é☺é☺é☺é☺é\"...");
  EXPECT_EQ(describe("+"), "<op:+>");
  EXPECT_EQ(describe("AND"), "<op:AND>");
  EXPECT_EQ(describe("@"), "<op:@>");
  EXPECT_EQ(describe("Sum"), "<aggr:Sum>");
  EXPECT_EQ(describe("by"), "<by>");
  EXPECT_EQ(describe("start"), R"("start")");
  EXPECT_EQ(describe("("), R"("(")");
  EXPECT_EQ(describe("="), R"("=")");
  EXPECT_EQ(describe(""), "end of input");
  EXPECT_EQ(describe("?"), "unexpected character: '?'");
}

TEST(PromqlTextTest, FormatGoFloat) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {-0.0, "-0"},
      {1, "1"},
      {-1.5, "-1.5"},
      {0.1, "0.1"},
      {123456, "123456"},
      {1e6, "1e+06"},
      {1234567, "1.234567e+06"},
      {1e21, "1e+21"},
      {0.0001, "0.0001"},
      {0.00012, "0.00012"},
      {0.00001, "1e-05"},
      {1.5e-7, "1.5e-07"},
      {1e100, "1e+100"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {100, "100"},
      {999999, "999999"},
      {0.3, "0.3"},
      {2.0 / 3.0, "0.6666666666666666"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatGoFloat(c.value), c.text) << c.text;
}

TEST(PromqlTextTest, FormatPromDuration) {
  EXPECT_EQ(FormatPromDuration(0), "0s");
  EXPECT_EQ(FormatPromDuration(1), "1ms");
  EXPECT_EQ(FormatPromDuration(1500), "1s500ms");
  EXPECT_EQ(FormatPromDuration(90 * 60000), "1h30m");
  EXPECT_EQ(FormatPromDuration(7LL * 86400000), "1w");
  EXPECT_EQ(FormatPromDuration(8LL * 86400000), "8d");
  EXPECT_EQ(FormatPromDuration(90LL * 86400000), "90d");
  EXPECT_EQ(FormatPromDuration(365LL * 86400000), "1y");
  EXPECT_EQ(FormatPromDuration(730LL * 86400000 + 1000), "730d1s");
  EXPECT_EQ(FormatPromDuration(-5 * 60000), "5m");
}

TEST(PromqlTextTest, GoQuoting) {
  EXPECT_EQ(QuoteGoString("abc"), R"("abc")");
  EXPECT_EQ(QuoteGoString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(QuoteGoString("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
  EXPECT_EQ(QuoteGoString("\x01\x7f"), R"("\x01\x7f")");
  EXPECT_EQ(QuoteGoString("\xff"), R"("\xff")");
  EXPECT_EQ(QuoteGoString("é☺😀"), "\"é☺😀\"");
  EXPECT_EQ(QuoteGoString("\xc2\xa0"), R"("\u00a0")");
  EXPECT_EQ(QuoteGoString("\xe2\x80\x8b"), R"("\u200b")");
  EXPECT_EQ(QuoteGoString("\xf3\xb0\x80\x80"), R"("\U000f0000")");
  EXPECT_EQ(QuoteGoString("'"), R"("'")");
  EXPECT_EQ(QuoteGoRune('a'), "'a'");
  EXPECT_EQ(QuoteGoRune('\''), R"('\'')");
  EXPECT_EQ(QuoteGoRune('"'), R"('"')");
  EXPECT_EQ(QuoteGoRune('\n'), R"('\n')");
  EXPECT_EQ(QuoteGoRune(0x263A), "'☺'");
  EXPECT_EQ(QuoteGoRune(kEndOfInput), "'\xEF\xBF\xBD'");
  EXPECT_EQ(DescribeGoRune('c'), "U+0063 'c'");
  EXPECT_EQ(DescribeGoRune('\n'), "U+000A");
  EXPECT_EQ(DescribeGoRune(0x1F600), "U+1F600 '😀'");
  EXPECT_EQ(FormatGoFixed(1.5, 3), "1.500");
  EXPECT_EQ(FormatGoFixed(-std::numeric_limits<double>::infinity(), 6), "-Inf");
}

TEST(PromqlTextTest, DecodeRuneMatchesGo) {
  size_t width;
  EXPECT_EQ(DecodeRune("a", 0, &width), 'a');
  EXPECT_EQ(width, 1u);
  EXPECT_EQ(DecodeRune("é", 0, &width), 0xE9);
  EXPECT_EQ(width, 2u);
  EXPECT_EQ(DecodeRune("\xc0\x80", 0, &width), kRuneError);  // overlong
  EXPECT_EQ(width, 1u);
  EXPECT_EQ(DecodeRune("\xed\xa0\x80", 0, &width), kRuneError);  // surrogate
  EXPECT_EQ(DecodeRune("\xe2\x98", 0, &width), kRuneError);      // truncated
  EXPECT_EQ(DecodeRune("", 0, &width), kEndOfInput);
  EXPECT_EQ(width, 0u);
}

}  // namespace
}  // namespace tsvault::query::promql
