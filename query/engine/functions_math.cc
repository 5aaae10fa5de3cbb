// Element-wise math functions on instant vectors (abs, ln, trig, ...),
// clamp*, round, sgn and pi(). Histogram samples are skipped.
#include <cmath>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

namespace {

template <double (*F)(double)>
void Simple(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  for (const Sample& s : (*in.args)[0]) {
    if (s.h) continue;
    out->push_back(Sample{enh.DropMetricName(s.metric), s.t, F(s.f), nullptr});
  }
}

double Abs(double v) { return std::fabs(v); }
double Ceil(double v) { return std::ceil(v); }
double Floor(double v) { return std::floor(v); }
double Exp(double v) { return std::exp(v); }
double Sqrt(double v) { return std::sqrt(v); }
double Ln(double v) { return std::log(v); }
double Log2(double v) { return std::log2(v); }
double Log10(double v) { return std::log10(v); }
double Sin(double v) { return std::sin(v); }
double Cos(double v) { return std::cos(v); }
double Tan(double v) { return std::tan(v); }
double Asin(double v) { return std::asin(v); }
double Acos(double v) { return std::acos(v); }
double Atan(double v) { return std::atan(v); }
double Sinh(double v) { return std::sinh(v); }
double Cosh(double v) { return std::cosh(v); }
double Tanh(double v) { return std::tanh(v); }
double Asinh(double v) { return std::asinh(v); }
double Acosh(double v) { return std::acosh(v); }
double Atanh(double v) { return std::atanh(v); }
double Rad(double v) { return v * M_PI / 180; }
double Deg(double v) { return v * 180 / M_PI; }
double Sgn(double v) {
  if (v < 0) return -1;
  if (v > 0) return 1;
  return v;
}

// Go's math.Max and math.Min (NaN and signed-zero rules).
double GoMax(double x, double y) {
  if ((std::isinf(x) && x > 0) || (std::isinf(y) && y > 0)) return INFINITY;
  if (std::isnan(x) || std::isnan(y)) return NAN;
  if (x == 0 && x == y) return std::signbit(x) ? y : x;
  return x > y ? x : y;
}

double GoMin(double x, double y) {
  if ((std::isinf(x) && x < 0) || (std::isinf(y) && y < 0)) return -INFINITY;
  if (std::isnan(x) || std::isnan(y)) return NAN;
  if (x == 0 && x == y) return std::signbit(x) ? x : y;
  return x < y ? x : y;
}

void Clamp(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  const double min = ScalarArgument(*in.args, 1);
  const double max = ScalarArgument(*in.args, 2);
  if (max < min) return;
  for (const Sample& s : (*in.args)[0]) {
    if (s.h) continue;
    out->push_back(Sample{enh.DropMetricName(s.metric), s.t, GoMax(min, GoMin(max, s.f)), nullptr});
  }
}

void ClampMax(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  const double max = ScalarArgument(*in.args, 1);
  for (const Sample& s : (*in.args)[0]) {
    if (s.h) continue;
    out->push_back(Sample{enh.DropMetricName(s.metric), s.t, GoMin(max, s.f), nullptr});
  }
}

void ClampMin(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  const double min = ScalarArgument(*in.args, 1);
  for (const Sample& s : (*in.args)[0]) {
    if (s.h) continue;
    out->push_back(Sample{enh.DropMetricName(s.metric), s.t, GoMax(min, s.f), nullptr});
  }
}

void Round(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  double to_nearest = 1;
  if (in.call->args.size() >= 2) to_nearest = ScalarArgument(*in.args, 1);
  const double inverse = 1.0 / to_nearest;
  for (const Sample& s : (*in.args)[0]) {
    if (s.h) continue;
    out->push_back(Sample{enh.DropMetricName(s.metric), s.t, std::floor(s.f * inverse + 0.5) / inverse, nullptr});
  }
}

void Pi(const FunctionInput&, NodeHelper& enh, Vector* out) {
  out->push_back(Sample{enh.state->arena.Empty(), enh.ts, M_PI, nullptr});
}

const FunctionEntry kMathFunctions[] = {
    {"abs", Simple<Abs>},     {"ceil", Simple<Ceil>},   {"floor", Simple<Floor>}, {"exp", Simple<Exp>},
    {"sqrt", Simple<Sqrt>},   {"ln", Simple<Ln>},       {"log2", Simple<Log2>},   {"log10", Simple<Log10>},
    {"sin", Simple<Sin>},     {"cos", Simple<Cos>},     {"tan", Simple<Tan>},     {"asin", Simple<Asin>},
    {"acos", Simple<Acos>},   {"atan", Simple<Atan>},   {"sinh", Simple<Sinh>},   {"cosh", Simple<Cosh>},
    {"tanh", Simple<Tanh>},   {"asinh", Simple<Asinh>}, {"acosh", Simple<Acosh>}, {"atanh", Simple<Atanh>},
    {"rad", Simple<Rad>},     {"deg", Simple<Deg>},     {"sgn", Simple<Sgn>},     {"clamp", Clamp},
    {"clamp_max", ClampMax},  {"clamp_min", ClampMin},  {"round", Round},         {"pi", Pi},
};

}  // namespace

std::span<const FunctionEntry> MathFunctions() { return kMathFunctions; }

}  // namespace tsvault::query::eval
