// Range-vector functions about change: rate, increase, delta (with
// Prometheus' extrapolation), irate, idelta, deriv, predict_linear,
// holt_winters, resets and changes.
#include <cmath>

#include "query/engine/engine_internal.h"
#include "query/promql/text.h"

namespace tsvault::query::eval {

namespace {

// Prometheus' histogramRate: last minus first (at the lowest schema seen),
// adding back the previous histogram at every counter reset.
HistogramRef HistogramRate(std::span<const HPoint> points, bool is_counter) {
  const model::FloatHistogram& first = *points.front().h;
  const model::FloatHistogram& last = *points.back().h;
  int32_t min_schema = std::min(first.schema, last.schema);
  if (is_counter) {
    for (size_t i = 1; i + 1 < points.size(); ++i) min_schema = std::min(min_schema, points[i].h->schema);
  }
  auto result = std::make_shared<model::FloatHistogram>(last.CopyToSchema(min_schema));
  result->Sub(first);
  if (is_counter) {
    const model::FloatHistogram* previous = &first;
    for (size_t i = 1; i < points.size(); ++i) {
      const model::FloatHistogram* current = points[i].h.get();
      if (current->DetectReset(*previous)) result->Add(*previous);
      previous = current;
    }
  }
  result->reset_hint = model::CounterResetHint::kGauge;
  return result;
}

// Prometheus' extrapolatedRate.
void ExtrapolatedRate(const FunctionInput& in, bool is_counter, bool is_rate, Vector* out) {
  const int64_t range_start = in.window_end_ms - in.range_ms;
  const int64_t range_end = in.window_end_ms;
  if (!in.histograms.empty() && !in.floats.empty()) return;
  double result_float = 0;
  HistogramRef result_histogram;
  int64_t first_t, last_t;
  size_t samples_minus_one;
  if (in.histograms.size() > 1) {
    samples_minus_one = in.histograms.size() - 1;
    first_t = in.histograms.front().t;
    last_t = in.histograms.back().t;
    result_histogram = HistogramRate(in.histograms, is_counter);
  } else if (in.floats.size() > 1) {
    samples_minus_one = in.floats.size() - 1;
    first_t = in.floats.front().t;
    last_t = in.floats.back().t;
    result_float = in.floats.back().f - in.floats.front().f;
    // Without a drop in the window the scan below adds nothing.
    if (is_counter && in.float_drops != 0) {
      double previous = in.floats.front().f;
      for (size_t i = 1; i < in.floats.size(); ++i) {
        if (in.floats[i].f < previous) result_float += previous;
        previous = in.floats[i].f;
      }
    }
  } else {
    return;
  }
  const double factor = ExtrapolationFactor(first_t, last_t, samples_minus_one, !in.floats.empty(),
                                            in.floats.empty() ? 0 : in.floats.front().f, result_float, range_start,
                                            range_end, in.range_ms, is_counter, is_rate);
  if (result_histogram) {
    auto scaled = std::make_shared<model::FloatHistogram>(*result_histogram);
    scaled->Scale(factor);
    out->push_back(Sample{nullptr, 0, 0, std::move(scaled)});
  } else {
    out->push_back(Sample{nullptr, 0, result_float * factor, nullptr});
  }
}

void Rate(const FunctionInput& in, NodeHelper&, Vector* out) { ExtrapolatedRate(in, true, true, out); }
void Increase(const FunctionInput& in, NodeHelper&, Vector* out) { ExtrapolatedRate(in, true, false, out); }
void Delta(const FunctionInput& in, NodeHelper&, Vector* out) { ExtrapolatedRate(in, false, false, out); }

// Prometheus' instantValue (irate/idelta): the last two float samples.
void InstantValue(const FunctionInput& in, bool is_rate, Vector* out) {
  if (in.floats.size() < 2) return;
  const FPoint& last = in.floats[in.floats.size() - 1];
  const FPoint& previous = in.floats[in.floats.size() - 2];
  double result = (is_rate && last.f < previous.f) ? last.f : last.f - previous.f;
  const int64_t interval = last.t - previous.t;
  if (interval == 0) return;
  if (is_rate) result /= static_cast<double>(interval) / 1000;
  out->push_back(Sample{nullptr, 0, result, nullptr});
}

void Irate(const FunctionInput& in, NodeHelper&, Vector* out) { InstantValue(in, true, out); }
void Idelta(const FunctionInput& in, NodeHelper&, Vector* out) { InstantValue(in, false, out); }

// Least-squares fit with Kahan sums; returns slope and the intercept at
// `intercept_time` (Prometheus' linearRegression).
void LinearRegression(std::span<const FPoint> samples, int64_t intercept_time, double* slope, double* intercept) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0, c_x2 = 0;
  const double init_y = samples[0].f;
  bool const_y = true;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (const_y && i > 0 && samples[i].f != init_y) const_y = false;
    n += 1.0;
    const double x = static_cast<double>(samples[i].t - intercept_time) / 1e3;
    KahanAdd(x, &sum_x, &c_x);
    KahanAdd(samples[i].f, &sum_y, &c_y);
    KahanAdd(x * samples[i].f, &sum_xy, &c_xy);
    KahanAdd(x * x, &sum_x2, &c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      *slope = NAN;
      *intercept = NAN;
    } else {
      *slope = 0;
      *intercept = init_y;
    }
    return;
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  const double cov_xy = sum_xy - sum_x * sum_y / n;
  const double var_x = sum_x2 - sum_x * sum_x / n;
  *slope = cov_xy / var_x;
  *intercept = sum_y / n - *slope * sum_x / n;
}

void Deriv(const FunctionInput& in, NodeHelper&, Vector* out) {
  if (in.floats.size() < 2) return;
  double slope, intercept;
  LinearRegression(in.floats, in.floats[0].t, &slope, &intercept);
  out->push_back(Sample{nullptr, 0, slope, nullptr});
}

void PredictLinear(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  const double duration = ScalarArgument(*in.args, 1);
  if (in.floats.size() < 2) return;
  double slope, intercept;
  LinearRegression(in.floats, enh.ts, &slope, &intercept);
  out->push_back(Sample{nullptr, 0, slope * duration + intercept, nullptr});
}

double TrendValue(int i, double trend_factor, double s0, double s1, double b) {
  if (i == 0) return b;
  return trend_factor * (s1 - s0) + (1 - trend_factor) * b;
}

void HoltWinters(const FunctionInput& in, NodeHelper&, Vector* out) {
  const double sf = ScalarArgument(*in.args, 1);
  const double tf = ScalarArgument(*in.args, 2);
  if (sf <= 0 || sf >= 1) {
    ThrowExecution("invalid smoothing factor. Expected: 0 < sf < 1, got: " + promql::FormatGoFixed(sf, 6));
  }
  if (tf <= 0 || tf >= 1) {
    ThrowExecution("invalid trend factor. Expected: 0 < tf < 1, got: " + promql::FormatGoFixed(tf, 6));
  }
  const size_t l = in.floats.size();
  if (l < 2) return;
  double s0 = 0, s1 = in.floats[0].f, b = in.floats[1].f - in.floats[0].f;
  for (size_t i = 1; i < l; ++i) {
    const double x = sf * in.floats[i].f;
    b = TrendValue(static_cast<int>(i) - 1, tf, s0, s1, b);
    const double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  out->push_back(Sample{nullptr, 0, s1, nullptr});
}

void Resets(const FunctionInput& in, NodeHelper&, Vector* out) {
  int resets = 0;
  for (size_t i = 1; i < in.floats.size(); ++i) {
    if (in.floats[i].f < in.floats[i - 1].f) ++resets;
  }
  out->push_back(Sample{nullptr, 0, static_cast<double>(resets), nullptr});
}

void Changes(const FunctionInput& in, NodeHelper&, Vector* out) {
  int changes = 0;
  for (size_t i = 1; i < in.floats.size(); ++i) {
    const double current = in.floats[i].f, previous = in.floats[i - 1].f;
    if (current != previous && !(std::isnan(current) && std::isnan(previous))) ++changes;
  }
  out->push_back(Sample{nullptr, 0, static_cast<double>(changes), nullptr});
}

const FunctionEntry kRangeFunctions[] = {
    {"rate", Rate},
    {"increase", Increase},
    {"delta", Delta},
    {"irate", Irate},
    {"idelta", Idelta},
    {"deriv", Deriv},
    {"predict_linear", PredictLinear},
    {"holt_winters", HoltWinters},
    {"resets", Resets},
    {"changes", Changes},
};

}  // namespace

double ExtrapolationFactor(int64_t first_t, int64_t last_t, size_t samples_minus_one, bool floats,
                           double first_value, double result, int64_t range_start, int64_t range_end,
                           int64_t range_ms, bool is_counter, bool is_rate) {
  double duration_to_start = static_cast<double>(first_t - range_start) / 1000;
  const double duration_to_end = static_cast<double>(range_end - last_t) / 1000;
  const double sampled_interval = static_cast<double>(last_t - first_t) / 1000;
  const double average_between = sampled_interval / static_cast<double>(samples_minus_one);
  if (is_counter && result > 0 && floats && first_value >= 0) {
    const double duration_to_zero = sampled_interval * (first_value / result);
    if (duration_to_zero < duration_to_start) duration_to_start = duration_to_zero;
  }
  const double threshold = average_between * 1.1;
  double extrapolate_to = sampled_interval;
  extrapolate_to += duration_to_start < threshold ? duration_to_start : average_between / 2;
  extrapolate_to += duration_to_end < threshold ? duration_to_end : average_between / 2;
  double factor = extrapolate_to / sampled_interval;
  if (is_rate) factor /= static_cast<double>(range_ms) / 1000;
  return factor;
}

std::span<const FunctionEntry> RangeFunctions() { return kRangeFunctions; }

}  // namespace tsvault::query::eval
