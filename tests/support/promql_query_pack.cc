#include "tests/support/promql_query_pack.h"

#include <bit>
#include <cmath>
#include <limits>
#include <set>

namespace tsvault::testing {
namespace {

// Counters and gauges of the seed workload present at loadgen --scale 0.1,
// plus the edge series.
const std::vector<std::string> kCounters = {
    "http_requests_total", "node_cpu_seconds_total{mode=\"idle\"}", "app_errors_total",
    "prisma_query_total", "reengagement_notifications_sent_total", "edge_counter"};
const std::vector<std::string> kGauges = {
    "node_load1", "bullmq_queue_size", "probe_http_duration_seconds", "courses_users_total", "edge_gauge"};
const std::vector<std::string> kBuckets = {"http_request_duration_seconds_bucket",
                                           "prisma_query_duration_seconds_bucket",
                                           "web_vitals_lcp_seconds_bucket"};

void Add(std::vector<std::string>* pack, std::set<std::string>* seen, const std::string& query) {
  if (seen->insert(query).second) pack->push_back(query);
}

}  // namespace

std::vector<std::string> DifferentialQueryPack() {
  std::vector<std::string> pack;
  std::set<std::string> seen;
  auto add = [&](const std::string& q) { Add(&pack, &seen, q); };

  // Selectors, matchers, offsets, @.
  for (const auto& s : kCounters) add(s);
  for (const auto& s : kGauges) add(s);
  add("http_requests_total{app=\"web\"}");
  add("http_requests_total{app!=\"web\", status=~\"5..|404\"}");
  add("http_requests_total{route!~\"/api/.*\"}");
  add("{__name__=~\"node_load.*\"}");
  add("{__name__=~\"http_requests_total|app_errors_total\", app=~\"web|admin-panel\"}");
  add("http_requests_total offset 10m");
  add("http_requests_total offset -5m");
  add("node_load1 @ end()");
  add("node_load1 @ start()");
  add("edge_gauge offset 7m30s");

  // Range functions on counters, several windows and offsets.
  for (const char* fn : {"rate", "increase", "irate", "resets", "changes", "delta", "idelta", "deriv"}) {
    for (const auto& s : kCounters) {
      for (const char* window : {"[1m]", "[5m]", "[13m]"}) add(std::string(fn) + "(" + s + window + ")");
    }
    add(std::string(fn) + "(http_requests_total[5m] offset 10m)");
    add(std::string(fn) + "(http_requests_total[5m] @ end())");
  }
  for (const auto& s : kGauges) {
    for (const char* fn : {"delta", "idelta", "deriv", "changes"}) add(std::string(fn) + "(" + s + "[10m])");
    add("predict_linear(" + s + "[10m], 600)");
    add("holt_winters(" + s + "[10m], 0.5, 0.3)");
  }
  add("predict_linear(http_requests_total[15m], -300)");
  add("holt_winters(node_cpu_seconds_total[5m], 0.1, 0.9)");

  // *_over_time.
  for (const char* fn : {"avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
                         "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time"}) {
    for (const auto& s : kGauges) add(std::string(fn) + "(" + s + "[5m])");
    add(std::string(fn) + "(http_requests_total[20m])");
  }
  for (const char* q : {"0", "0.25", "0.5", "0.99", "1", "-1", "2"}) {
    add(std::string("quantile_over_time(") + q + ", bullmq_queue_size[10m])");
  }
  add("quantile_over_time(0.9, edge_gauge[10m])");
  add("absent_over_time(node_load1[5m])");
  add("absent_over_time(nonexistent_metric{job=\"x\"}[5m])");
  add("absent_over_time(edge_gauge{case=\"stale\"}[1m])");

  // Aggregations.
  for (const char* agg : {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count"}) {
    add(std::string(agg) + "(http_requests_total)");
    add(std::string(agg) + " by (app) (rate(http_requests_total[5m]))");
    add(std::string(agg) + " without (instance, route) (rate(http_requests_total[5m]))");
    add(std::string(agg) + "(edge_gauge)");
    add(std::string(agg) + " by (queue) (bullmq_queue_size)");
  }
  add("sum by (app, status) (rate(http_requests_total[5m]))");
  add("sum(rate(http_requests_total[5m])) by (app)");
  add("count_values(\"value\", bullmq_queue_size)");
  add("count_values by (state) (\"v\", bullmq_queue_size)");
  add("count_values(\"status\", probe_http_status_code)");
  for (const char* k : {"1", "3", "100"}) {
    add(std::string("topk(") + k + ", rate(http_requests_total[5m]))");
    add(std::string("bottomk(") + k + ", bullmq_queue_size)");
  }
  add("topk by (app) (2, rate(http_requests_total[5m]))");
  add("bottomk without (route) (1, http_requests_total)");
  for (const char* q : {"0", "0.5", "0.9", "1", "1.5", "-0.5"}) {
    add(std::string("quantile(") + q + ", rate(http_requests_total[5m]))");
  }
  add("quantile by (app) (0.75, rate(http_requests_total[5m]))");
  add("avg(edge_gauge) by (case)");
  add("sum(http_requests_total) / count(http_requests_total)");

  // Binary operators: scalar/vector, vector/vector with matching.
  for (const char* op : {"+", "-", "*", "/", "%", "^", "atan2"}) {
    add(std::string("node_load1 ") + op + " 2");
    add(std::string("3 ") + op + " bullmq_queue_size");
    add(std::string("edge_gauge ") + op + " edge_gauge");
    add(std::string("rate(http_requests_total[5m]) ") + op + " on (app, method, route, status, instance) " +
        "rate(http_requests_total[10m])");
  }
  add("2 ^ 3 ^ 2");
  add("-node_load1 ^ 2");
  add("(1 + 2) * 3 - 4 / 2 % 3");
  for (const char* op : {"==", "!=", ">", "<", ">=", "<="}) {
    add(std::string("bullmq_queue_size ") + op + " 20");
    add(std::string("bullmq_queue_size ") + op + " bool 20");
    add(std::string("1 ") + op + " bool 2");
    add(std::string("edge_gauge ") + op + " edge_gauge offset 1m");
  }
  add("sum by (app) (rate(http_requests_total{status=\"500\"}[5m])) / sum by (app) (rate(http_requests_total[5m]))");
  add("rate(http_requests_total[5m]) / ignoring (status) group_left sum without (status) (rate(http_requests_total[5m]))");
  add("sum without (status) (rate(http_requests_total[5m])) / ignoring (status) group_right rate(http_requests_total[5m])");
  add("http_requests_total * on (app) group_left (instance) sum by (app) (http_requests_total)");
  add("bullmq_queue_size > on (queue) group_left sum by (queue) (bullmq_queue_size) / 10");
  add("http_requests_total and http_requests_total{status=\"200\"}");
  add("http_requests_total or app_errors_total");
  add("http_requests_total unless http_requests_total{app=\"web\"}");
  add("http_requests_total and on (app) app_errors_total");
  add("node_load1 or vector(0)");
  add("sum(http_requests_total{app=\"none\"}) or vector(1)");
  add("http_requests_total + on () group_left sum(http_requests_total)");
  add("http_requests_total + app_errors_total");
  add("http_requests_total / on (app) app_errors_total");
  add("edge_gauge{case=\"nan\"} == edge_gauge{case=\"nan\"}");

  // Math, clamping, rounding.
  for (const char* fn : {"abs", "ceil", "floor", "round", "sqrt", "exp", "ln", "log2", "log10", "sgn"}) {
    add(std::string(fn) + "(edge_gauge)");
    add(std::string(fn) + "(node_load1 - 1.5)");
  }
  add("round(probe_http_duration_seconds, 0.01)");
  add("round(bullmq_queue_size, 5)");
  add("round(edge_gauge, -0.3)");
  add("clamp(bullmq_queue_size, 15, 25)");
  add("clamp(bullmq_queue_size, 25, 15)");
  add("clamp_min(edge_gauge, 0)");
  add("clamp_max(edge_gauge, 1)");
  add("exp(probe_http_duration_seconds * 100)");
  for (const char* fn : {"acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan",
                         "tanh", "deg", "rad"}) {
    add(std::string(fn) + "(probe_http_duration_seconds * 10)");
    add(std::string(fn) + "(edge_gauge / 10)");
  }
  add("pi()");
  add("pi() * node_load1");

  // Time and date.
  add("time()");
  add("timestamp(node_load1)");
  add("timestamp(edge_gauge)");
  add("time() - timestamp(edge_gauge)");
  for (const char* fn : {"minute", "hour", "day_of_week", "day_of_month", "day_of_year", "days_in_month", "month",
                         "year"}) {
    add(std::string(fn) + "()");
    add(std::string(fn) + "(timestamp(node_load1))");
    add(std::string(fn) + "(vector(1700000000))");
  }

  // Labels, sorting, scalar/vector, absent.
  add("label_replace(http_requests_total, \"route_group\", \"$1\", \"route\", \"/api/(.*)\")");
  add("label_replace(http_requests_total, \"app\", \"x-$1\", \"app\", \"(.*)-panel\")");
  add("label_replace(node_load1, \"new\", \"v\", \"nonexistent\", \"\")");
  add("label_join(http_requests_total, \"key\", \"/\", \"app\", \"method\", \"status\")");
  add("label_join(bullmq_queue_size, \"queue\", \"\")");
  add("sort(rate(http_requests_total[5m]))");
  add("sort_desc(bullmq_queue_size)");
  add("sort_desc(sum by (app) (rate(http_requests_total[5m])))");
  add("scalar(node_load1)");
  add("scalar(bullmq_queue_size)");
  add("node_load1 * scalar(sum(node_load1))");
  add("vector(time())");
  add("vector(scalar(node_load1))");
  add("absent(node_load1)");
  add("absent(nonexistent_metric{job=\"x\", env=~\"p.*\"})");
  add("absent(sum(nonexistent_metric))");

  // Classic histograms.
  for (const auto& b : kBuckets) {
    for (const char* q : {"0.5", "0.95", "0.99"}) {
      add(std::string("histogram_quantile(") + q + ", sum by (le) (rate(" + b + "[5m])))");
    }
    add("histogram_quantile(0.9, rate(" + b + "[5m]))");
  }
  add("histogram_quantile(0.95, sum by (le, app) (rate(http_request_duration_seconds_bucket[5m])))");
  add("histogram_quantile(0, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))");
  add("histogram_quantile(1, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))");
  add("histogram_quantile(1.5, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))");
  add("histogram_quantile(-1, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))");
  add("histogram_quantile(0.5, http_request_duration_seconds_bucket)");
  add("histogram_quantile(0.5, sum by (le) (http_request_duration_seconds_bucket{le=~\"0.1|\\\\+Inf\"}))");
  add("histogram_quantile(0.5, sum by (le) (increase(web_vitals_lcp_seconds_bucket[10m])))");
  add("histogram_count(http_request_duration_seconds_bucket)");
  add("histogram_sum(rate(http_request_duration_seconds_bucket[5m]))");
  add("histogram_fraction(0, 0.1, http_request_duration_seconds_bucket)");
  add("sum(rate(http_request_duration_seconds_sum[5m])) / sum(rate(http_request_duration_seconds_count[5m]))");

  // Subqueries.
  add("max_over_time(rate(http_requests_total[5m])[30m:1m])");
  add("avg_over_time(node_load1[10m:30s])");
  add("rate(http_requests_total[10m:1m])");
  add("min_over_time(sum by (app) (rate(http_requests_total[2m]))[20m:45s] offset 5m)");
  add("max_over_time(deriv(bullmq_queue_size[5m])[15m:])");
  add("last_over_time(edge_gauge[20m:1m] @ end())");
  add("sum_over_time(edge_counter[5m:10s])");

  // Edge series and staleness.
  add("edge_gauge{case=\"stale\"}");
  add("edge_gauge{case=\"gap\"}");
  add("count_over_time(edge_gauge{case=\"gap\"}[2m])");
  add("rate(edge_counter{case=\"reset\"}[3m])");
  add("increase(edge_counter[30m])");
  add("resets(edge_counter[1h])");
  add("max(edge_gauge) - min(edge_gauge)");
  add("edge_gauge > 0");
  add("-edge_gauge");
  add("+edge_gauge");
  add("1 / edge_gauge");
  add("edge_gauge % 0.7");
  add("timestamp(edge_gauge{case=\"stale\"})");
  return pack;
}

storage::WriteInput DifferentialEdgeSeries(int64_t start_ms, int64_t end_ms, int64_t step_ms) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const double stale = std::bit_cast<double>(storage::kStaleNaNBits);
  const int64_t half = start_ms + (end_ms - start_ms) / 2;
  auto series = [](const std::string& name, const std::string& kase) {
    storage::SeriesWrite write;
    write.labels = {{"__name__", name}, {"case", kase}, {"job", "edge"}};
    return write;
  };
  storage::SeriesWrite with_nan = series("edge_gauge", "nan");
  storage::SeriesWrite with_inf = series("edge_gauge", "inf");
  storage::SeriesWrite stale_half = series("edge_gauge", "stale");
  storage::SeriesWrite with_gap = series("edge_gauge", "gap");
  storage::SeriesWrite negative = series("edge_gauge", "negative");
  storage::SeriesWrite with_resets = series("edge_counter", "reset");
  storage::SeriesWrite slow = series("edge_counter", "slow");
  double counter = 0;
  int64_t i = 0;
  for (int64_t t = start_ms; t <= end_ms; t += step_ms, ++i) {
    const double wave = std::sin(static_cast<double>(i) / 7.0) * 3.5 + 0.25;
    with_nan.samples.push_back({t, i % 9 == 4 ? nan : wave});
    with_inf.samples.push_back({t, i % 13 == 5 ? inf : (i % 13 == 9 ? -inf : wave * 1e3)});
    if (t < half) {
      stale_half.samples.push_back({t, 10 + wave});
    } else if (stale_half.samples.empty() || !std::isnan(stale_half.samples.back().value)) {
      stale_half.samples.push_back({t, stale});
    }
    // A 10-minute hole (longer than the 5m lookback) in the middle.
    if (t < half - 5 * 60'000 || t >= half + 5 * 60'000) with_gap.samples.push_back({t, wave * wave});
    negative.samples.push_back({t, -0.001 * static_cast<double>(i * i) + wave});
    counter = (i % 37 == 36) ? 1.5 : counter + 2.5 + wave;  // a reset every 37 steps
    with_resets.samples.push_back({t, counter});
    if (i % 8 == 0) slow.samples.push_back({t, static_cast<double>(i / 8)});
  }
  storage::WriteInput input;
  for (auto* write : {&with_nan, &with_inf, &stale_half, &with_gap, &negative, &with_resets, &slow}) {
    input.series.push_back(std::move(*write));
  }
  return input;
}

}  // namespace tsvault::testing
