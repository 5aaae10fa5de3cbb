#include "common/labels.h"

#include <algorithm>

namespace tsvault {

void SortLabels(Labels* labels) {
  std::sort(labels->begin(), labels->end(), [](const Label& a, const Label& b) {
    if (a.name != b.name) return a.name < b.name;
    return a.value < b.value;
  });
}

std::string_view GetLabelValue(const Labels& labels, std::string_view name) {
  for (const Label& label : labels) {
    if (label.name == name) return label.value;
  }
  return {};
}

namespace {
void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      case '\r': out->append("\\r"); break;
      default: out->push_back(c);
    }
  }
  out->push_back('"');
}
}  // namespace

std::string LabelsToString(const Labels& labels) {
  std::string out;
  out.append(MetricName(labels));
  out.push_back('{');
  bool first = true;
  for (const Label& label : labels) {
    if (label.name == kMetricNameLabel) continue;
    if (!first) out.append(", ");
    first = false;
    out.append(label.name);
    out.push_back('=');
    AppendQuoted(&out, label.value);
  }
  out.push_back('}');
  return out;
}

namespace {
inline uint64_t Mix(uint64_t h, std::string_view s) {
  // FNV-1a over bytes, then a final avalanche; fast enough for hash maps.
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

uint64_t HashLabels(const Labels& labels) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const Label& label : labels) {
    h = Mix(h, label.name);
    h ^= 0xff;
    h *= 0x100000001b3ULL;
    h = Mix(h, label.value);
    h ^= 0xfe;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

int CompareLabels(const Labels& a, const Labels& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = a[i].name.compare(b[i].name); c != 0) return c < 0 ? -1 : 1;
    if (int c = a[i].value.compare(b[i].value); c != 0) return c < 0 ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

}  // namespace tsvault
