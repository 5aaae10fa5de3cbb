// Time functions: time(), timestamp() and the UTC calendar functions
// (minute, hour, day_of_week, day_of_month, day_of_year, days_in_month,
// month, year) applied to sample values or to the evaluation time.
#include <cmath>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

namespace {

struct CivilTime {
  int64_t year;
  int64_t month;  // 1..12
  int64_t day;    // 1..31
  int64_t hour;
  int64_t minute;
  int64_t day_of_week;  // 0 = Sunday
  int64_t day_of_year;  // 1..366
};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsLeap(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int64_t DaysInMonth(int64_t year, int64_t month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeap(year)) return 29;
  return kDays[month - 1];
}

// UTC calendar fields of Unix seconds (proleptic Gregorian, as Go's time).
CivilTime ToCivil(int64_t seconds) {
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t second_of_day = ((seconds % 86400) + 86400) % 86400;
  // Howard Hinnant's civil_from_days.
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilTime c;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  c.hour = second_of_day / 3600;
  c.minute = (second_of_day % 3600) / 60;
  c.day_of_week = ((days % 7) + 7 + 4) % 7;
  static const int kBefore[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  c.day_of_year = kBefore[c.month - 1] + c.day + ((c.month > 2 && IsLeap(c.year)) ? 1 : 0);
  return c;
}

// Go's int64(float64) on amd64: out-of-range values and NaN give MinInt64.
int64_t GoFloatToInt64(double v) {
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(v);
}

template <double (*F)(const CivilTime&)>
void DateFunction(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  if (in.call->args.empty()) {
    const int64_t seconds = enh.ts / 1000;
    out->push_back(Sample{enh.state->arena.Empty(), enh.ts, F(ToCivil(seconds)), nullptr});
    return;
  }
  for (const Sample& s : (*in.args)[0]) {
    if (s.h) continue;
    out->push_back(Sample{enh.DropMetricName(s.metric), s.t, F(ToCivil(GoFloatToInt64(s.f))), nullptr});
  }
}

double Minute(const CivilTime& c) { return static_cast<double>(c.minute); }
double Hour(const CivilTime& c) { return static_cast<double>(c.hour); }
double DayOfWeek(const CivilTime& c) { return static_cast<double>(c.day_of_week); }
double DayOfMonth(const CivilTime& c) { return static_cast<double>(c.day); }
double DayOfYear(const CivilTime& c) { return static_cast<double>(c.day_of_year); }
double DaysInMonthOf(const CivilTime& c) { return static_cast<double>(DaysInMonth(c.year, c.month)); }
double Month(const CivilTime& c) { return static_cast<double>(c.month); }
double Year(const CivilTime& c) { return static_cast<double>(c.year); }

void Time(const FunctionInput&, NodeHelper& enh, Vector* out) {
  out->push_back(Sample{enh.state->arena.Empty(), enh.ts, static_cast<double>(enh.ts) / 1000, nullptr});
}

// timestamp() of a computed vector: the evaluation time of each element
// (timestamp() of a plain selector is handled by the evaluator).
void Timestamp(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  for (const Sample& s : (*in.args)[0]) {
    out->push_back(Sample{enh.DropMetricName(s.metric), s.t, static_cast<double>(s.t) / 1000, nullptr});
  }
}

const FunctionEntry kTimeFunctions[] = {
    {"time", Time},
    {"timestamp", Timestamp},
    {"minute", DateFunction<Minute>},
    {"hour", DateFunction<Hour>},
    {"day_of_week", DateFunction<DayOfWeek>},
    {"day_of_month", DateFunction<DayOfMonth>},
    {"day_of_year", DateFunction<DayOfYear>},
    {"days_in_month", DateFunction<DaysInMonthOf>},
    {"month", DateFunction<Month>},
    {"year", DateFunction<Year>},
};

}  // namespace

std::span<const FunctionEntry> TimeFunctions() { return kTimeFunctions; }

}  // namespace tsvault::query::eval
