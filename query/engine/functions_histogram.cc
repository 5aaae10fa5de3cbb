// Histogram functions: histogram_quantile over classic `le` buckets
// (Prometheus' bucketQuantile with coalescing and the monotonicity fix) and
// over native histograms, histogram_count, histogram_sum and
// histogram_fraction.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

namespace {

struct Bucket {
  double upper_bound;
  double count;
};

// Go's strconv.ParseFloat for `le` values: decimal/hex floats, Inf, NaN
// (case-insensitive, optional sign) and "_" digit separators are not
// accepted; the whole string must parse.
bool ParseBucketBound(std::string_view text, double* out) {
  if (text.empty()) return false;
  std::string copy(text);
  std::string lower;
  for (char c : copy) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  std::string_view body = lower;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    *out = negative ? -INFINITY : INFINITY;
    return true;
  }
  if (body == "nan") {
    *out = NAN;
    return true;
  }
  for (char c : body) {
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'x' || c == 'p' || c == 'e' ||
          c == '+' || c == '-')) {
      return false;
    }
  }
  char* end = nullptr;
  *out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

double BucketQuantile(double q, std::vector<Bucket>* buckets) {
  if (std::isnan(q)) return NAN;
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::stable_sort(buckets->begin(), buckets->end(),
                   [](const Bucket& a, const Bucket& b) { return a.upper_bound < b.upper_bound; });
  if (!(std::isinf(buckets->back().upper_bound) && buckets->back().upper_bound > 0)) return NAN;
  // Coalesce buckets with the same upper bound.
  size_t i = 0;
  Bucket last = (*buckets)[0];
  for (size_t j = 1; j < buckets->size(); ++j) {
    if ((*buckets)[j].upper_bound == last.upper_bound) {
      last.count += (*buckets)[j].count;
    } else {
      (*buckets)[i++] = last;
      last = (*buckets)[j];
    }
  }
  (*buckets)[i] = last;
  buckets->resize(i + 1);
  // Ensure monotonic counts.
  double max = (*buckets)[0].count;
  for (size_t j = 1; j < buckets->size(); ++j) {
    if ((*buckets)[j].count > max) {
      max = (*buckets)[j].count;
    } else if ((*buckets)[j].count < max) {
      (*buckets)[j].count = max;
    }
  }
  const std::vector<Bucket>& b = *buckets;
  if (b.size() < 2) return NAN;
  const double observations = b.back().count;
  if (observations == 0) return NAN;
  double rank = q * observations;
  // sort.Search over all but the last bucket.
  size_t index = 0, hi = b.size() - 1;
  while (index < hi) {
    const size_t mid = index + (hi - index) / 2;
    if (!(b[mid].count >= rank)) {
      index = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (index == b.size() - 1) return b[b.size() - 2].upper_bound;
  if (index == 0 && b[0].upper_bound <= 0) return b[0].upper_bound;
  double bucket_start = 0;
  const double bucket_end = b[index].upper_bound;
  double count = b[index].count;
  if (index > 0) {
    bucket_start = b[index - 1].upper_bound;
    count -= b[index - 1].count;
    rank -= b[index - 1].count;
  }
  return bucket_start + (bucket_end - bucket_start) * (rank / count);
}

struct ClassicGroup {
  MetricRef metric;
  std::vector<Bucket> buckets;
};

void HistogramQuantileFunction(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  const double q = ScalarArgument(*in.args, 0);
  const Vector& vector = (*in.args)[1];
  static const std::vector<std::string> kLe = {"le"};
  std::unordered_map<std::string, size_t> index;
  std::vector<ClassicGroup> groups;
  std::vector<const Sample*> native;
  std::string key;
  for (const Sample& s : vector) {
    if (s.h) {
      native.push_back(&s);
      continue;
    }
    double upper;
    if (!ParseBucketBound(GetLabelValue(s.metric->labels, "le"), &upper)) continue;
    LabelsKeyWithout(s.metric->labels, kLe, &key);
    auto [it, created] = index.try_emplace(key, groups.size());
    if (created) {
      static const std::vector<std::string> kExcluded = {"__name__", "le"};
      groups.push_back({enh.state->arena.Make(LabelsWithout(s.metric->labels, kExcluded, true)), {}});
    }
    groups[it->second].buckets.push_back({upper, s.f});
  }
  for (const Sample* s : native) {
    LabelsKeyWithout(s->metric->labels, kLe, &key);
    auto it = index.find(key);
    if (it != index.end() && !groups[it->second].buckets.empty()) {
      // Classic buckets and a native histogram with the same labels:
      // evaluate neither (Prometheus drops the group).
      groups[it->second].buckets.clear();
      continue;
    }
    out->push_back(Sample{enh.DropMetricName(s->metric), s->t, model::HistogramQuantile(q, *s->h), nullptr});
  }
  for (ClassicGroup& group : groups) {
    if (group.buckets.empty()) continue;
    out->push_back(Sample{group.metric, enh.ts, BucketQuantile(q, &group.buckets), nullptr});
  }
}

void HistogramCount(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  for (const Sample& s : (*in.args)[0]) {
    if (s.h) out->push_back(Sample{enh.DropMetricName(s.metric), s.t, s.h->count, nullptr});
  }
}

void HistogramSum(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  for (const Sample& s : (*in.args)[0]) {
    if (s.h) out->push_back(Sample{enh.DropMetricName(s.metric), s.t, s.h->sum, nullptr});
  }
}

void HistogramFractionFunction(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  const double lower = ScalarArgument(*in.args, 0);
  const double upper = ScalarArgument(*in.args, 1);
  for (const Sample& s : (*in.args)[2]) {
    if (!s.h) continue;
    out->push_back(Sample{enh.DropMetricName(s.metric), s.t, model::HistogramFraction(lower, upper, *s.h), nullptr});
  }
}

const FunctionEntry kHistogramFunctions[] = {
    {"histogram_quantile", HistogramQuantileFunction},
    {"histogram_count", HistogramCount},
    {"histogram_sum", HistogramSum},
    {"histogram_fraction", HistogramFractionFunction},
};

}  // namespace

std::span<const FunctionEntry> HistogramFunctions() { return kHistogramFunctions; }

}  // namespace tsvault::query::eval
