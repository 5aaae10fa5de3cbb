// PromQL string literals: Go's strconv.Unquote rules, as Prometheus' lexer
// and parser apply them to "...", '...' and `...` literals.
#include <cstdint>
#include <string>

#include "common/ascii.h"
#include "query/promql/text.h"

namespace tsvault::query::promql {

Status UnquoteString(std::string_view literal, std::string* out) {
  out->clear();
  if (literal.size() < 2 || literal.front() != literal.back()) {
    return Status::InvalidArgument("invalid string literal");
  }
  const char quote = literal.front();
  std::string_view body = literal.substr(1, literal.size() - 2);
  if (quote == '`') {
    *out = std::string(body);
    return Status::OK();
  }
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      if (c == quote) return Status::InvalidArgument("unescaped quote in string");
      out->push_back(c);
      continue;
    }
    if (++i >= body.size()) return Status::InvalidArgument("escape sequence not terminated");
    char e = body[i];
    switch (e) {
      case 'a': out->push_back('\a'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'v': out->push_back('\v'); break;
      case '\\': out->push_back('\\'); break;
      case '\'': case '"':
        if (e != quote) return Status::InvalidArgument("unknown escape sequence");
        out->push_back(e);
        break;
      case 'x': case 'u': case 'U': {
        const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (size_t k = 1; k <= digits; ++k) {
          if (i + k >= body.size()) return Status::InvalidArgument("escape sequence not terminated");
          int h = HexDigitValue(body[i + k]);
          if (h < 0) return Status::InvalidArgument("invalid character in escape sequence");
          v = v * 16 + static_cast<uint32_t>(h);
        }
        i += digits;
        if (e == 'x') {
          out->push_back(static_cast<char>(v));
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) {
            return Status::InvalidArgument("escape sequence is an invalid Unicode code point");
          }
          AppendUtf8(v, out);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 >= body.size()) return Status::InvalidArgument("escape sequence not terminated");
          uint32_t v = 0;
          for (size_t k = 0; k < 3; ++k) {
            char d = body[i + k];
            if (d < '0' || d > '7') return Status::InvalidArgument("invalid octal escape");
            v = v * 8 + static_cast<uint32_t>(d - '0');
          }
          if (v > 255) return Status::InvalidArgument("octal escape value > 255");
          out->push_back(static_cast<char>(v));
          i += 2;
          break;
        }
        return Status::InvalidArgument("unknown escape sequence");
    }
  }
  return Status::OK();
}

}  // namespace tsvault::query::promql
