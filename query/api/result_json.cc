// JSON encoding of query results in Prometheus' exact format.
#include "query/api/result_json.h"

#include <charconv>
#include <cmath>

#include "query/promql/text.h"

namespace tsvault::query {

namespace {

const char kHex[] = "0123456789abcdef";

// Length of a valid UTF-8 sequence starting at text[i], or 0 if invalid.
size_t Utf8Length(std::string_view text, size_t i) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  size_t length;
  uint32_t code;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
    code = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    code = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    code = c & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const unsigned char cc = static_cast<unsigned char>(text[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    code = (code << 6) | (cc & 0x3F);
  }
  if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10FFFF))) return 0;
  if (code >= 0xD800 && code <= 0xDFFF) return 0;
  return length;
}

// Go's strconv.AppendFloat(v, 'f' or 'e', -1, 64) with Go's exponent form.
void AppendShortest(double value, bool exponent_form, std::string* out) {
  char buffer[400];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value,
                                    exponent_form ? std::chars_format::scientific : std::chars_format::fixed);
  out->append(buffer, result.ptr);
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        case '<':
        case '>':
        case '&':
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
          break;
        default:
          if (c < 0x20) {
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 0xF]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const size_t length = Utf8Length(text, i);
    if (length == 0) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    if (length == 3 && c == 0xE2 && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) == 0xA8 || static_cast<unsigned char>(text[i + 2]) == 0xA9)) {
      out->append(static_cast<unsigned char>(text[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
    } else {
      out->append(text.substr(i, length));
    }
    i += length;
  }
  out->push_back('"');
}

void AppendJsonSampleValue(double value, std::string* out) {
  out->push_back('"');
  if (std::isnan(value)) {
    out->append("NaN");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "+Inf" : "-Inf");
  } else {
    const double magnitude = std::fabs(value);
    AppendShortest(value, magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21), out);
  }
  out->push_back('"');
}

void AppendJsonTimestamp(int64_t ms, std::string* out) {
  uint64_t magnitude = static_cast<uint64_t>(ms);
  if (ms < 0) {
    out->push_back('-');
    magnitude = 0 - magnitude;
  }
  out->append(std::to_string(magnitude / 1000));
  const uint64_t fraction = magnitude % 1000;
  if (fraction != 0) {
    out->push_back('.');
    if (fraction < 100) out->push_back('0');
    if (fraction < 10) out->push_back('0');
    out->append(std::to_string(fraction));
  }
}

void AppendJsonLabels(const Labels& labels, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(labels[i].name, out);
    out->push_back(':');
    AppendJsonString(labels[i].value, out);
  }
  out->push_back('}');
}

void AppendJsonHistogram(const model::FloatHistogram& histogram, std::string* out) {
  out->append("{\"count\":");
  AppendJsonSampleValue(histogram.count, out);
  out->append(",\"sum\":");
  AppendJsonSampleValue(histogram.sum, out);
  bool found = false;
  for (const model::BucketRange& bucket : histogram.AllBuckets()) {
    if (bucket.count == 0) continue;
    out->append(found ? "," : ",\"buckets\":[");
    found = true;
    int boundaries = 2;
    if (bucket.lower_inclusive) {
      boundaries = bucket.upper_inclusive ? 3 : 1;
    } else if (bucket.upper_inclusive) {
      boundaries = 0;
    }
    out->push_back('[');
    out->append(std::to_string(boundaries));
    out->push_back(',');
    AppendJsonSampleValue(bucket.lower, out);
    out->push_back(',');
    AppendJsonSampleValue(bucket.upper, out);
    out->push_back(',');
    AppendJsonSampleValue(bucket.count, out);
    out->push_back(']');
  }
  if (found) out->push_back(']');
  out->push_back('}');
}

namespace {

// Go's encoding/json float64: shortest 'f', or 'e' outside [1e-6, 1e21)
// with a two-digit exponent trimmed to one ("1e-07" -> "1e-7").
void AppendGoJsonNumber(double value, std::string* out) {
  const double magnitude = std::fabs(value);
  const bool exponent_form = magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21);
  std::string text;
  AppendShortest(value, exponent_form, &text);
  const size_t n = text.size();
  if (exponent_form && n >= 4 && text[n - 4] == 'e' && text[n - 3] == '-' && text[n - 2] == '0') {
    text.erase(n - 2, 1);
  }
  out->append(text);
}

}  // namespace

void AppendJsonQueryData(const QueryResult& result, std::string* out) {
  out->append("{\"resultType\":\"");
  out->append(ResultTypeName(result.type));
  out->append("\",\"result\":");
  switch (result.type) {
    case ResultType::kScalar:
      out->push_back('[');
      AppendGoJsonNumber(static_cast<double>(result.scalar.timestamp_ms) / 1000, out);
      out->push_back(',');
      AppendJsonString(promql::FormatGoFloatFixed(result.scalar.value), out);
      out->push_back(']');
      break;
    case ResultType::kString:
      out->push_back('[');
      AppendGoJsonNumber(static_cast<double>(result.string_timestamp_ms) / 1000, out);
      out->push_back(',');
      AppendJsonString(result.string_value, out);
      out->push_back(']');
      break;
    case ResultType::kVector:
      out->push_back('[');
      for (size_t i = 0; i < result.vector.size(); ++i) {
        const ResultSample& sample = result.vector[i];
        if (i > 0) out->push_back(',');
        out->append("{\"metric\":");
        AppendJsonLabels(sample.labels, out);
        out->append(sample.histogram ? ",\"histogram\":[" : ",\"value\":[");
        AppendJsonTimestamp(sample.timestamp_ms, out);
        out->push_back(',');
        if (sample.histogram) {
          AppendJsonHistogram(*sample.histogram, out);
        } else {
          AppendJsonSampleValue(sample.value, out);
        }
        out->append("]}");
      }
      out->push_back(']');
      break;
    case ResultType::kMatrix:
      out->push_back('[');
      for (size_t i = 0; i < result.matrix.size(); ++i) {
        const ResultSeries& series = result.matrix[i];
        if (i > 0) out->push_back(',');
        out->append("{\"metric\":");
        AppendJsonLabels(series.labels, out);
        if (!series.floats.empty()) {
          out->append(",\"values\":[");
          for (size_t k = 0; k < series.floats.size(); ++k) {
            if (k > 0) out->push_back(',');
            out->push_back('[');
            AppendJsonTimestamp(series.floats[k].timestamp_ms, out);
            out->push_back(',');
            AppendJsonSampleValue(series.floats[k].value, out);
            out->push_back(']');
          }
          out->push_back(']');
        }
        if (!series.histograms.empty()) {
          out->append(",\"histograms\":[");
          for (size_t k = 0; k < series.histograms.size(); ++k) {
            if (k > 0) out->push_back(',');
            out->push_back('[');
            AppendJsonTimestamp(series.histograms[k].timestamp_ms, out);
            out->push_back(',');
            AppendJsonHistogram(series.histograms[k].histogram, out);
            out->push_back(']');
          }
          out->push_back(']');
        }
        out->push_back('}');
      }
      out->push_back(']');
      break;
  }
  out->push_back('}');
}

}  // namespace tsvault::query
