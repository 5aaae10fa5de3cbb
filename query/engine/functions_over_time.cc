// The <aggregation>_over_time functions over a range vector window, with
// Prometheus' Kahan summation, and absent_over_time/present_over_time.
#include <algorithm>
#include <cmath>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

namespace {

void Emit(double value, Vector* out) { out->push_back(Sample{nullptr, 0, value, nullptr}); }

void AvgOverTime(const FunctionInput& in, NodeHelper&, Vector* out) {
  if (!in.floats.empty() && !in.histograms.empty()) return;
  if (in.floats.empty()) {
    auto mean = std::make_shared<model::FloatHistogram>(*in.histograms[0].h);
    for (size_t i = 1; i < in.histograms.size(); ++i) mean->Add(*in.histograms[i].h);
    mean->Divide(static_cast<double>(in.histograms.size()));
    out->push_back(Sample{nullptr, 0, 0, std::move(mean)});
    return;
  }
  double mean = 0, count = 0, c = 0;
  for (const FPoint& p : in.floats) {
    count++;
    if (std::isinf(mean)) {
      if (std::isinf(p.f) && (mean > 0) == (p.f > 0)) continue;
      if (!std::isinf(p.f) && !std::isnan(p.f)) continue;
    }
    KahanAdd(p.f / count - mean / count, &mean, &c);
  }
  Emit(std::isinf(mean) ? mean : mean + c, out);
}

void SumOverTime(const FunctionInput& in, NodeHelper&, Vector* out) {
  if (!in.floats.empty() && !in.histograms.empty()) return;
  if (in.floats.empty()) {
    auto sum = std::make_shared<model::FloatHistogram>(*in.histograms[0].h);
    for (size_t i = 1; i < in.histograms.size(); ++i) sum->Add(*in.histograms[i].h);
    out->push_back(Sample{nullptr, 0, 0, std::move(sum)});
    return;
  }
  double sum = 0, c = 0;
  for (const FPoint& p : in.floats) KahanAdd(p.f, &sum, &c);
  Emit(std::isinf(sum) ? sum : sum + c, out);
}

void CountOverTime(const FunctionInput& in, NodeHelper&, Vector* out) {
  Emit(static_cast<double>(in.floats.size() + in.histograms.size()), out);
}

void LastOverTime(const FunctionInput& in, NodeHelper&, Vector* out) {
  const bool float_last =
      !in.floats.empty() && (in.histograms.empty() || in.floats.back().t > in.histograms.back().t);
  if (float_last) {
    Emit(in.floats.back().f, out);
  } else {
    out->push_back(Sample{nullptr, 0, 0, in.histograms.back().h});
  }
}

void MaxOverTime(const FunctionInput& in, NodeHelper&, Vector* out) {
  if (in.floats.empty()) return;
  double max = in.floats[0].f;
  for (const FPoint& p : in.floats) {
    if (p.f > max || std::isnan(max)) max = p.f;
  }
  Emit(max, out);
}

void MinOverTime(const FunctionInput& in, NodeHelper&, Vector* out) {
  if (in.floats.empty()) return;
  double min = in.floats[0].f;
  for (const FPoint& p : in.floats) {
    if (p.f < min || std::isnan(min)) min = p.f;
  }
  Emit(min, out);
}

void QuantileOverTime(const FunctionInput& in, NodeHelper&, Vector* out) {
  if (in.floats.empty()) return;
  const double q = ScalarArgument(*in.args, 0);
  std::vector<double> values;
  values.reserve(in.floats.size());
  for (const FPoint& p : in.floats) values.push_back(p.f);
  Emit(Quantile(q, &values), out);
}

// Welford's variance with Kahan-compensated sums, as Prometheus.
double Variance(std::span<const FPoint> points) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const FPoint& p : points) {
    count++;
    const double delta = p.f - (mean + c_mean);
    KahanAdd(delta / count, &mean, &c_mean);
    KahanAdd(delta * (p.f - (mean + c_mean)), &aux, &c_aux);
  }
  return (aux + c_aux) / count;
}

void StddevOverTime(const FunctionInput& in, NodeHelper&, Vector* out) {
  if (in.floats.empty()) return;
  Emit(std::sqrt(Variance(in.floats)), out);
}

void StdvarOverTime(const FunctionInput& in, NodeHelper&, Vector* out) {
  if (in.floats.empty()) return;
  Emit(Variance(in.floats), out);
}

void PresentOverTime(const FunctionInput&, NodeHelper&, Vector* out) { Emit(1, out); }

const FunctionEntry kOverTimeFunctions[] = {
    {"avg_over_time", AvgOverTime},
    {"sum_over_time", SumOverTime},
    {"count_over_time", CountOverTime},
    {"last_over_time", LastOverTime},
    {"max_over_time", MaxOverTime},
    {"min_over_time", MinOverTime},
    {"quantile_over_time", QuantileOverTime},
    {"stddev_over_time", StddevOverTime},
    {"stdvar_over_time", StdvarOverTime},
    {"present_over_time", PresentOverTime},
    {"absent_over_time", PresentOverTime},
};

}  // namespace

double Quantile(double q, std::vector<double>* values) {
  if (values->empty() || std::isnan(q)) return NAN;
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::sort(values->begin(), values->end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return !std::isnan(b) && a < b;
  });
  const double n = static_cast<double>(values->size());
  const double rank = q * (n - 1);
  const double lower = std::max(0.0, std::floor(rank));
  const double upper = std::min(n - 1, lower + 1);
  const double weight = rank - std::floor(rank);
  return (*values)[static_cast<size_t>(lower)] * (1 - weight) + (*values)[static_cast<size_t>(upper)] * weight;
}

std::span<const FunctionEntry> OverTimeFunctions() { return kOverTimeFunctions; }

}  // namespace tsvault::query::eval
