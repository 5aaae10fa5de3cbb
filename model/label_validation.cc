#include "model/label_validation.h"

#include <algorithm>
#include <cstdio>

#include "model/utf8.h"

namespace tsvault::model {

namespace {

constexpr size_t kMaxQuotedValueBytes = 64;
constexpr size_t kMaxDescriptionBytes = 512;

bool NameLess(const Label& a, const Label& b) {
  if (a.name != b.name) return a.name < b.name;
  return a.value < b.value;
}

// Name order with a first-byte shortcut: sorted label names nearly always
// differ in their first byte, which saves a memcmp call per label.
inline int CompareNames(const std::string& a, const std::string& b) {
  if (!a.empty() && !b.empty() && a[0] != b[0]) {
    return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]) ? -1 : 1;
  }
  return a.compare(b);
}

bool Fail(LabelProblem* problem, LabelProblemKind kind, std::string detail) {
  problem->kind = kind;
  problem->detail = std::move(detail);
  return false;
}

}  // namespace

std::string QuoteForError(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  out.push_back('"');
  size_t i = 0;
  while (i < text.size() && i < max_bytes) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c >= 0x80) {
      // Keep a whole valid UTF-8 character, escape anything else byte-wise.
      size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (length > 1 && i + length <= text.size() && IsValidUtf8(text.substr(i, length))) {
        out.append(text.substr(i, length));
        i += length;
      } else {
        char buffer[8];
        std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
        out.append(buffer);
        ++i;
      }
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
      out.append(buffer);
      ++i;
    }
  }
  out.push_back('"');
  if (i < text.size()) out.append("...");
  return out;
}

std::string DescribeLabelsForError(const Labels& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (out.size() > kMaxDescriptionBytes) {
      out.append(", ...");
      break;
    }
    if (i > 0) out.append(", ");
    // Names are quoted only when they are not plain identifiers.
    const std::string& name = labels[i].name;
    bool plain = !name.empty() && name.size() <= kMaxQuotedValueBytes;
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
            c == ':')) {
        plain = false;
        break;
      }
    }
    out.append(plain ? name : QuoteForError(name, kMaxQuotedValueBytes));
    out.push_back('=');
    out.append(QuoteForError(labels[i].value, kMaxQuotedValueBytes));
  }
  out.push_back('}');
  return out;
}

bool CanonicalizeLabels(Labels* labels, const LabelLimits& limits, LabelSetKind kind,
                        bool utf8_already_checked, LabelProblem* problem) {
  // One pass: per-label checks, dropping empty values, sortedness.
  size_t kept = 0;
  bool sorted = true;
  bool duplicate = false;
  bool has_metric_name = false;
  Labels& set = *labels;
  // Failing inside the loop: drop the moved-from slots so the set still reads
  // sensibly in the error message.
  auto fail_in_loop = [&](size_t i, LabelProblemKind kind, std::string detail) {
    set.erase(set.begin() + static_cast<std::ptrdiff_t>(kept), set.begin() + static_cast<std::ptrdiff_t>(i));
    return Fail(problem, kind, std::move(detail));
  };
  for (size_t i = 0; i < set.size(); ++i) {
    Label& label = set[i];
    if (!utf8_already_checked) {
      if (!IsValidUtf8(label.name)) {
        return fail_in_loop(i, LabelProblemKind::kInvalidUtf8,
                    "label name " + QuoteForError(label.name, kMaxQuotedValueBytes) +
                        " is not valid UTF-8");
      }
      if (!IsValidUtf8(label.value)) {
        return fail_in_loop(i, LabelProblemKind::kInvalidUtf8,
                    "value of label " + QuoteForError(label.name, kMaxQuotedValueBytes) +
                        " is not valid UTF-8");
      }
    }
    if (label.value.empty()) continue;  // empty value == label absent
    if (label.name.empty()) {
      return fail_in_loop(i, LabelProblemKind::kEmptyLabelName,
                  "empty label name (value " + QuoteForError(label.value, kMaxQuotedValueBytes) + ")");
    }
    if (label.name.size() > limits.max_label_name_bytes) {
      return fail_in_loop(i, LabelProblemKind::kLabelTooLong,
                  "label name " + QuoteForError(label.name, kMaxQuotedValueBytes) + " is " +
                      std::to_string(label.name.size()) + " bytes, limit " +
                      std::to_string(limits.max_label_name_bytes));
    }
    if (label.value.size() > limits.max_label_value_bytes) {
      return fail_in_loop(i, LabelProblemKind::kLabelTooLong,
                  "value of label " + QuoteForError(label.name, kMaxQuotedValueBytes) + " is " +
                      std::to_string(label.value.size()) + " bytes, limit " +
                      std::to_string(limits.max_label_value_bytes));
    }
    if (label.name == kMetricNameLabel) has_metric_name = true;
    if (kept > 0) {
      const int order = CompareNames(label.name, set[kept - 1].name);
      if (order == 0) {
        duplicate = true;
      } else if (order < 0) {
        sorted = false;
      }
    }
    if (kept != i) set[kept] = std::move(label);
    ++kept;
  }
  set.resize(kept);

  if (set.size() > limits.max_labels_per_series) {
    return Fail(problem, LabelProblemKind::kTooManyLabels,
                std::to_string(set.size()) + " labels, limit " +
                    std::to_string(limits.max_labels_per_series));
  }
  if (!sorted) {
    std::sort(set.begin(), set.end(), NameLess);
    for (size_t i = 1; i < set.size(); ++i) {
      if (set[i].name == set[i - 1].name) {
        duplicate = true;
        break;
      }
    }
  }
  if (duplicate) {
    for (size_t i = 1; i < set.size(); ++i) {
      if (set[i].name == set[i - 1].name) {
        return Fail(problem, LabelProblemKind::kDuplicateLabel,
                    "label name " + QuoteForError(set[i].name, kMaxQuotedValueBytes) +
                        " appears more than once");
      }
    }
  }
  if (kind == LabelSetKind::kSeries && !has_metric_name) {
    return Fail(problem, LabelProblemKind::kMissingMetricName, "no metric name (__name__ label)");
  }
  return true;
}

}  // namespace tsvault::model
