#include "query/selector.h"

#include <cctype>
#include <string>

namespace tsvault::query {

namespace {

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

void AppendUtf8(std::string* out, uint32_t code_point) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : text_(text) {}

  Status Parse(std::vector<storage::LabelMatcher>* matchers) {
    SkipSpace();
    if (pos_ < text_.size() && (IsNameStart(text_[pos_]) || text_[pos_] == ':')) {
      size_t start = pos_;
      while (pos_ < text_.size() && (IsNameChar(text_[pos_]) || text_[pos_] == ':')) ++pos_;
      storage::LabelMatcher m;
      Status s = storage::LabelMatcher::Create(storage::MatchType::kEqual, "__name__",
                                               text_.substr(start, pos_ - start), &m);
      if (!s.ok()) return s;
      matchers->push_back(std::move(m));
      SkipSpace();
    }
    if (pos_ < text_.size() && text_[pos_] == '{') {
      ++pos_;
      Status s = ParseMatcherList(matchers);
      if (!s.ok()) return s;
    }
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected character '" + std::string(1, text_[pos_]) + "'");
    if (matchers->empty()) return Error("vector selector must contain at least one matcher");
    return Status::OK();
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("1:" + std::to_string(pos_ + 1) + ": parse error: " + what);
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  Status ParseMatcherList(std::vector<storage::LabelMatcher>* matchers) {
    for (;;) {
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return Status::OK();
      }
      std::string name;
      if (pos_ < text_.size() && (text_[pos_] == '"' || text_[pos_] == '\'')) {
        Status s = ParseString(&name);
        if (!s.ok()) return s;
      } else if (pos_ < text_.size() && IsNameStart(text_[pos_])) {
        size_t start = pos_;
        while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
        name = std::string(text_.substr(start, pos_ - start));
      } else {
        return Error("expected label name");
      }
      SkipSpace();
      storage::MatchType type;
      if (text_.substr(pos_, 2) == "!=") {
        type = storage::MatchType::kNotEqual;
        pos_ += 2;
      } else if (text_.substr(pos_, 2) == "=~") {
        type = storage::MatchType::kRegexMatch;
        pos_ += 2;
      } else if (text_.substr(pos_, 2) == "!~") {
        type = storage::MatchType::kRegexNoMatch;
        pos_ += 2;
      } else if (text_.substr(pos_, 1) == "=") {
        type = storage::MatchType::kEqual;
        pos_ += 1;
      } else {
        return Error("expected label matching operator after \"" + name + "\"");
      }
      SkipSpace();
      std::string value;
      Status s = ParseString(&value);
      if (!s.ok()) return s;
      storage::LabelMatcher m;
      s = storage::LabelMatcher::Create(type, name, value, &m);
      if (!s.ok()) return s;
      matchers->push_back(std::move(m));
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') continue;
      return Error("expected ',' or '}' in label matchers");
    }
  }

  Status ParseString(std::string* out) {
    if (pos_ >= text_.size()) return Error("expected string");
    const char quote = text_[pos_];
    if (quote != '"' && quote != '\'' && quote != '`') return Error("expected string");
    size_t end = pos_ + 1;
    while (end < text_.size() && text_[end] != quote) {
      if (text_[end] == '\\' && quote != '`') ++end;
      ++end;
    }
    if (end >= text_.size()) return Error("unterminated quoted string");
    Status s = UnquoteString(text_.substr(pos_, end - pos_ + 1), out);
    if (!s.ok()) return Error(s.message());
    pos_ = end + 1;
    return Status::OK();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

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
          int h = HexValue(body[i + k]);
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
          AppendUtf8(out, v);
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

Status ParseSeriesSelector(std::string_view text, std::vector<storage::LabelMatcher>* matchers) {
  matchers->clear();
  return SelectorParser(text).Parse(matchers);
}

}  // namespace tsvault::query
