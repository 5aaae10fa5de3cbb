#include "import/text_parser.h"

#include <cmath>

#include "import/number_parse.h"

namespace tsvault::import {

namespace {

bool IsNameStart(char c, bool metric) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}
bool IsNameChar(char c, bool metric) { return IsNameStart(c, metric) || (c >= '0' && c <= '9'); }

// A cursor over one line that reports errors by column.
class LineCursor {
 public:
  LineCursor(std::string_view line, TextDialect dialect) : line_(line), dialect_(dialect) {}

  bool done() const { return at_ >= line_.size(); }
  char peek() const { return at_ < line_.size() ? line_[at_] : '\0'; }
  std::string_view rest() const { return line_.substr(at_); }
  void Skip(size_t n) { at_ += n; }

  Status Error(const std::string& what) const {
    return Status::InvalidArgument("column " + std::to_string(at_ + 1) + ": " + what);
  }

  // Spaces and tabs (Prometheus' text format allows several; OpenMetrics
  // asks for exactly one, which we do not insist on). True if any.
  bool SkipBlanks() {
    const size_t start = at_;
    while (at_ < line_.size() && (line_[at_] == ' ' || line_[at_] == '\t')) ++at_;
    return at_ > start;
  }

  Status Name(bool metric, std::string* out) {
    const size_t start = at_;
    if (done() || !IsNameStart(line_[at_], metric)) {
      return Error(std::string("expected a ") + (metric ? "metric" : "label") + " name");
    }
    while (at_ < line_.size() && IsNameChar(line_[at_], metric)) ++at_;
    out->assign(line_.substr(start, at_ - start));
    return Status::OK();
  }

  // A double-quoted label value with \\, \" and \n escapes.
  Status QuotedValue(std::string* out) {
    if (peek() != '"') return Error("expected '\"' to start the label value");
    ++at_;
    out->clear();
    while (at_ < line_.size()) {
      const char c = line_[at_];
      if (c == '"') {
        ++at_;
        return Status::OK();
      }
      if (c == '\\') {
        if (at_ + 1 >= line_.size()) break;
        const char escaped = line_[at_ + 1];
        if (escaped == 'n') {
          out->push_back('\n');
        } else if (escaped == '\\' || escaped == '"') {
          out->push_back(escaped);
        } else if (dialect_ == TextDialect::kOpenMetrics) {
          return Error(std::string("invalid escape \\") + escaped + " in a label value");
        } else {
          out->push_back('\\');  // Prometheus' text format keeps unknown escapes as written
          out->push_back(escaped);
        }
        at_ += 2;
        continue;
      }
      out->push_back(c);
      ++at_;
    }
    return Error("the label value has no closing '\"'");
  }

  // {name="value",...}; a trailing comma is allowed.
  Status LabelSet(Labels* labels) {
    ++at_;  // '{'
    while (true) {
      SkipBlanks();
      if (peek() == '}') {
        ++at_;
        return Status::OK();
      }
      Label label;
      Status s = Name(false, &label.name);
      if (!s.ok()) return s;
      SkipBlanks();
      if (peek() != '=') return Error("expected '=' after the label name");
      ++at_;
      SkipBlanks();
      s = QuotedValue(&label.value);
      if (!s.ok()) return s;
      labels->push_back(std::move(label));
      SkipBlanks();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      if (peek() != '}') return Error("expected ',' or '}' after the label value");
    }
  }

  // The next token up to a blank or the line end.
  std::string_view Token() {
    const size_t start = at_;
    while (at_ < line_.size() && line_[at_] != ' ' && line_[at_] != '\t') ++at_;
    return line_.substr(start, at_ - start);
  }

  Status Value(double* value) {
    const std::string_view token = Token();
    if (token.empty()) return Error("expected a sample value");
    if (!ParseSampleValue(token, value)) {
      at_ -= token.size();
      return Error("\"" + std::string(token) + "\" is not a number");
    }
    return Status::OK();
  }

  Status Timestamp(int64_t* ms) {
    const std::string_view token = Token();
    if (dialect_ == TextDialect::kPrometheus) {
      if (ParseInteger(token, ms)) return Status::OK();
      at_ -= token.size();
      return Error("\"" + std::string(token) + "\" is not a timestamp in milliseconds");
    }
    double seconds = 0;
    if (!ParseSampleValue(token, &seconds) || !std::isfinite(seconds) || std::fabs(seconds) > 9.2e15) {
      at_ -= token.size();
      return Error("\"" + std::string(token) + "\" is not a timestamp in seconds");
    }
    *ms = static_cast<int64_t>(seconds * 1000);  // truncated, as Prometheus does
    return Status::OK();
  }

 private:
  std::string_view line_;
  TextDialect dialect_;
  size_t at_ = 0;
};

Status ParseComment(LineCursor* cursor, TextDialect dialect, TextLine* out) {
  cursor->Skip(1);  // '#'
  const bool open_metrics = dialect == TextDialect::kOpenMetrics;
  if (open_metrics && cursor->rest() == " EOF") {
    out->kind = TextLine::Kind::kEof;
    return Status::OK();
  }
  out->kind = TextLine::Kind::kComment;
  if (!cursor->SkipBlanks()) return Status::OK();
  const std::string_view keyword = cursor->Token();
  if (keyword == "HELP") {
    out->kind = TextLine::Kind::kHelp;
  } else if (keyword == "TYPE") {
    out->kind = TextLine::Kind::kType;
  } else if (keyword == "UNIT" && open_metrics) {
    out->kind = TextLine::Kind::kUnit;
  } else {
    if (open_metrics) return cursor->Error("unknown comment \"# " + std::string(keyword) + "\" (HELP, TYPE, UNIT, EOF)");
    return Status::OK();  // any other comment
  }
  if (!cursor->SkipBlanks()) return cursor->Error("expected a metric name");
  Status s = cursor->Name(true, &out->family);
  if (!s.ok()) return s;
  if (out->kind != TextLine::Kind::kHelp) {
    if (!cursor->SkipBlanks() && out->kind == TextLine::Kind::kType) return cursor->Error("expected a metric type");
    out->text = std::string(cursor->Token());
    if (out->kind == TextLine::Kind::kType) {
      static const char* const kTypes[] = {"counter", "gauge", "histogram", "summary", "untyped",
                                           "unknown", "gaugehistogram", "info", "stateset"};
      bool known = false;
      for (const char* type : kTypes) known |= out->text == type;
      if (!known) return cursor->Error("unknown metric type \"" + out->text + "\"");
    }
    cursor->SkipBlanks();
    if (!cursor->done()) return cursor->Error("unexpected text after the " + std::string(keyword) + " line");
    return Status::OK();
  }
  // HELP text: \\ and \n escapes (and \" in OpenMetrics).
  cursor->SkipBlanks();
  const std::string_view help = cursor->rest();
  for (size_t i = 0; i < help.size(); ++i) {
    if (help[i] == '\\' && i + 1 < help.size() && (help[i + 1] == 'n' || help[i + 1] == '\\' || help[i + 1] == '"')) {
      out->text.push_back(help[i + 1] == 'n' ? '\n' : help[i + 1]);
      ++i;
    } else {
      out->text.push_back(help[i]);
    }
  }
  return Status::OK();
}

}  // namespace

Status ParseTextLine(std::string_view line, TextDialect dialect, TextLine* out) {
  out->kind = TextLine::Kind::kBlank;
  out->family.clear();
  out->text.clear();
  out->labels.clear();
  out->has_timestamp = false;
  LineCursor cursor(line, dialect);
  if (dialect == TextDialect::kPrometheus) cursor.SkipBlanks();
  if (cursor.done()) {
    if (dialect == TextDialect::kOpenMetrics) return cursor.Error("empty lines are not allowed in OpenMetrics");
    return Status::OK();
  }
  if (cursor.peek() == '#') return ParseComment(&cursor, dialect, out);

  out->kind = TextLine::Kind::kSample;
  Label name{"__name__", ""};
  Status s = cursor.Name(true, &name.value);
  if (!s.ok()) return s;
  out->labels.push_back(std::move(name));
  // Prometheus' format allows blanks between the name and the labels.
  bool blank = dialect == TextDialect::kPrometheus && cursor.SkipBlanks();
  if (cursor.peek() == '{') {
    s = cursor.LabelSet(&out->labels);
    if (!s.ok()) return s;
    blank = false;
  }
  blank = cursor.SkipBlanks() || blank;
  if (!blank) return cursor.Error(cursor.done() ? "expected a sample value" : "expected a blank before the sample value");
  s = cursor.Value(&out->value);
  if (!s.ok()) return s;
  cursor.SkipBlanks();
  if (cursor.done()) return Status::OK();
  if (cursor.peek() != '#') {
    s = cursor.Timestamp(&out->timestamp_ms);
    if (!s.ok()) return s;
    out->has_timestamp = true;
    cursor.SkipBlanks();
    if (cursor.done()) return Status::OK();
  }
  if (dialect != TextDialect::kOpenMetrics || cursor.peek() != '#') {
    return cursor.Error("unexpected text after the sample");
  }
  // An exemplar: # {labels} value [timestamp]
  cursor.Skip(1);
  if (!cursor.SkipBlanks() || cursor.peek() != '{') return cursor.Error("expected the exemplar's label set");
  Labels exemplar_labels;
  s = cursor.LabelSet(&exemplar_labels);
  if (!s.ok()) return s;
  if (!cursor.SkipBlanks()) return cursor.Error("expected the exemplar's value");
  double exemplar_value = 0;
  s = cursor.Value(&exemplar_value);
  if (!s.ok()) return s;
  if (cursor.SkipBlanks() && !cursor.done()) {
    int64_t exemplar_ms = 0;
    s = cursor.Timestamp(&exemplar_ms);
    if (!s.ok()) return s;
    cursor.SkipBlanks();
  }
  if (!cursor.done()) return cursor.Error("unexpected text after the exemplar");
  return Status::OK();
}

}  // namespace tsvault::import
