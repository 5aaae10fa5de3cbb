#include "workload/seed_workload.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>

namespace tsvault::workload {

namespace {

const std::vector<double> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,    2.5,   5,    10};
const std::vector<double> kSizeBuckets = {100, 1000, 10000, 100000, 1000000};

struct SeriesState {
  Labels labels;
  SeriesKind kind;
  double value = 0;
  double rate = 0;          // counters: increase per second; gauges: step size
  double level = 0;         // gauges: mean the random walk reverts to
  // Decimal places the value is rounded to, as the exporter would report it:
  // 0 for counts, 2 for loads and CPU seconds, -1 for full precision.
  int decimals = 0;
  int32_t group = -1;       // histogram group
  Labels stale_labels;      // labels to end with a staleness marker
  bool emit_stale = false;
  std::string base_instance;  // the instance before any churn (set on the first)
};

struct HistogramGroup {
  std::vector<size_t> buckets;  // series indices, ascending le, +Inf last
  std::vector<double> bounds;   // upper bounds (+Inf last)
  size_t sum_index = 0;
  size_t count_index = 0;
  double rate = 1;              // observations per second
  double median = 0.1;
};

}  // namespace

struct SeedWorkload::State {
  WorkloadOptions options;
  std::mt19937_64 rng;
  std::vector<SeriesState> series;
  std::vector<HistogramGroup> groups;
  std::vector<storage::MetricMetadata> metadata;
  int64_t last_timestamp = 0;
  bool started = false;
  uint64_t churn_generation = 0;

  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng); }

  Labels Make(const std::string& name, std::vector<Label> extra) {
    extra.push_back(Label{"__name__", name});
    SortLabels(&extra);
    return extra;
  }

  void AddMeta(const std::string& family, storage::MetricType type, const std::string& help,
               const std::string& unit = "") {
    metadata.push_back(storage::MetricMetadata{family, type, help, unit});
  }

  void Counter(const std::string& name, std::vector<Label> labels, double rate, int decimals = 0) {
    SeriesState s;
    s.labels = Make(name, std::move(labels));
    s.kind = SeriesKind::kCounter;
    s.rate = rate * (0.2 + 1.6 * Uniform());
    s.value = std::floor(Uniform() * 1000);
    s.decimals = decimals;
    series.push_back(std::move(s));
  }

  void Gauge(const std::string& name, std::vector<Label> labels, double level, double step,
             int decimals = 0) {
    SeriesState s;
    s.labels = Make(name, std::move(labels));
    s.kind = SeriesKind::kGauge;
    s.level = level;
    s.value = level;
    s.rate = step;
    s.decimals = decimals;
    series.push_back(std::move(s));
  }

  static double Round(double v, int decimals) {
    if (decimals < 0) return v;
    double scale = std::pow(10.0, decimals);
    return std::round(v * scale) / scale;
  }

  void Histogram(const std::string& name, const std::vector<Label>& labels,
                 const std::vector<double>& bounds, double rate, double median) {
    HistogramGroup group;
    group.rate = rate * (0.2 + 1.6 * Uniform());
    group.median = median * (0.5 + Uniform());
    const int32_t group_index = static_cast<int32_t>(groups.size());
    auto add = [&](const std::string& metric, std::vector<Label> l, SeriesKind kind) {
      SeriesState s;
      s.labels = Make(metric, std::move(l));
      s.kind = kind;
      s.group = group_index;
      series.push_back(std::move(s));
      return series.size() - 1;
    };
    std::vector<double> all = bounds;
    all.push_back(INFINITY);
    for (double le : all) {
      std::vector<Label> l = labels;
      char buf[32];
      if (std::isinf(le)) {
        std::strcpy(buf, "+Inf");
      } else {
        std::snprintf(buf, sizeof buf, "%g", le);
      }
      l.push_back(Label{"le", buf});
      group.buckets.push_back(add(name + "_bucket", std::move(l), SeriesKind::kHistogramBucket));
      group.bounds.push_back(le);
    }
    group.sum_index = add(name + "_sum", labels, SeriesKind::kHistogramSum);
    group.count_index = add(name + "_count", labels, SeriesKind::kHistogramCount);
    groups.push_back(std::move(group));
  }

  // Keeps about `fraction` of the series, spread over the whole table
  // so every family stays represented. A histogram group (its buckets, _sum
  // and _count) is one unit: kept or dropped whole.
  void KeepFraction(double fraction) {
    std::vector<SeriesState> kept_series;
    std::vector<HistogramGroup> kept_groups;
    std::vector<int32_t> new_group(groups.size(), -1);
    size_t unit = 0;
    int32_t previous_group = -1;
    for (size_t i = 0; i < series.size(); ++i) {
      const int32_t group = series[i].group;
      if (group < 0 || group != previous_group) ++unit;
      previous_group = group;
      // A fixed hash of the unit number decides, so the choice is the same
      // for every seed and does not alias with the table's interleaving.
      uint64_t mixed = unit * 0x9E3779B97F4A7C15ull;
      mixed = (mixed ^ (mixed >> 31)) * 0xBF58476D1CE4E5B9ull;
      mixed ^= mixed >> 29;
      const bool keep = static_cast<double>(mixed % 1'000'000) < fraction * 1'000'000;
      if (!keep) continue;
      if (group >= 0) {
        if (new_group[group] < 0) {
          new_group[group] = static_cast<int32_t>(kept_groups.size());
          HistogramGroup copy = groups[group];
          copy.buckets.clear();
          kept_groups.push_back(std::move(copy));
        }
        HistogramGroup& target = kept_groups[new_group[group]];
        const size_t index = kept_series.size();
        switch (series[i].kind) {
          case SeriesKind::kHistogramBucket: target.buckets.push_back(index); break;
          case SeriesKind::kHistogramSum: target.sum_index = index; break;
          case SeriesKind::kHistogramCount: target.count_index = index; break;
          default: break;
        }
        series[i].group = new_group[group];
      }
      kept_series.push_back(std::move(series[i]));
    }
    if (kept_series.empty() && !series.empty()) kept_series.push_back(series.front());
    series = std::move(kept_series);
    groups = std::move(kept_groups);
  }

  void Build(const std::string& host) {
    const Label inst{"instance", host};
    // Host metrics (node_exporter): 5 hosts x 8 cores x 8 modes.
    static const char* kModes[] = {"idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"};
    for (int h = 0; h < 5; ++h) {
      Label node{"instance", host + "-node" + std::to_string(h) + ":9100"};
      Label job{"job", "node"};
      for (int cpu = 0; cpu < 8; ++cpu) {
        for (const char* mode : kModes) {
          Counter("node_cpu_seconds_total", {node, job, {"cpu", std::to_string(cpu)}, {"mode", mode}},
                  std::string(mode) == "idle" ? 0.7 : 0.05, 2);
        }
      }
      Gauge("node_memory_MemTotal_bytes", {node, job}, 16e9, 0);
      Gauge("node_memory_MemAvailable_bytes", {node, job}, 8e9, 5e7);  // rounded to pages below
      Gauge("node_load1", {node, job}, 1.5, 0.2, 2);
      Gauge("node_load5", {node, job}, 1.4, 0.1, 2);
      Gauge("node_load15", {node, job}, 1.3, 0.05, 2);
      Gauge("node_boot_time_seconds", {node, job}, 1.7e9, 0);
    }
    // Health checks (blackbox_exporter): ~20 targets.
    static const char* kPhases[] = {"resolve", "connect", "tls", "processing", "transfer"};
    for (int t = 0; t < 20; ++t) {
      Label target{"instance", "https://" + host + "-app" + std::to_string(t) + ".example.com/health"};
      Label job{"job", "blackbox"};
      Gauge("probe_success", {target, job}, 1, 0);
      Gauge("probe_http_status_code", {target, job}, 200, 0);
      Gauge("probe_duration_seconds", {target, job}, 0.2, 0.02, -1);
      for (const char* phase : kPhases) {
        Gauge("probe_http_duration_seconds", {target, job, {"phase", phase}}, 0.03, 0.005, -1);
      }
    }
    // Databases.
    for (const char* datname : {"app", "analytics", "postgres"}) {
      Gauge("pg_stat_database_numbackends", {inst, {"job", "postgres"}, {"datname", datname}}, 12, 1);
    }
    Gauge("pg_up", {inst, {"job", "postgres"}}, 1, 0);
    Gauge("redis_up", {inst, {"job", "redis"}}, 1, 0);
    Gauge("redis_connected_clients", {inst, {"job", "redis"}}, 40, 2);
    // Queues (BullMQ).
    static const char* kQueues[] = {"push", "email", "reengagement", "telegram", "courses", "cleanup"};
    static const char* kStates[] = {"waiting", "active", "completed", "failed", "delayed"};
    for (const char* queue : kQueues) {
      Label q{"queue", queue};
      for (const char* state : kStates) Gauge("bullmq_queue_size", {inst, q, {"state", state}}, 20, 3);
      Histogram("bullmq_job_duration_seconds", {inst, q}, kLatencyBuckets, 2, 0.3);
      Counter("bullmq_job_failures_total", {inst, q}, 0.01);
      Counter("bullmq_job_retries_total", {inst, q}, 0.02);
    }
    // HTTP (prom-client middleware).
    static const char* kApps[] = {"web", "trainer-panel", "admin-panel", "error-dashboard"};
    static const char* kRoutes[] = {"/", "/api/courses", "/api/users", "/api/login", "/api/health",
                                    "/dashboard", "/api/notifications", "/api/stats", "/settings", "/api/errors"};
    static const char* kStatuses[] = {"200", "304", "404", "500"};
    for (const char* app : kApps) {
      Label a{"app", app};
      Gauge("http_active_connections", {inst, a}, 30, 3);
      for (const char* route : kRoutes) {
        Label r{"route", route};
        for (const char* method : {"GET", "POST"}) {
          Label m{"method", method};
          for (const char* status : kStatuses) {
            Label st{"status", status};
            double rate = std::string(status) == "200" ? 5 : 0.1;
            Counter("http_requests_total", {inst, a, m, r, st}, rate);
            Histogram("http_request_duration_seconds", {inst, a, m, r, st}, kLatencyBuckets, rate, 0.08);
          }
        }
        Histogram("http_request_size_bytes", {inst, a, r}, kSizeBuckets, 3, 800);
        Histogram("http_response_size_bytes", {inst, a, r}, kSizeBuckets, 3, 20000);
      }
      // Errors.
      static const char* kTypes[] = {"TypeError", "ReferenceError", "NetworkError", "ValidationError",
                                     "AuthError", "TimeoutError", "PrismaError", "RedisError",
                                     "NotFoundError", "UnknownError"};
      for (const char* type : kTypes) {
        Counter("app_errors_total", {inst, a, {"type", type}, {"environment", "production"}}, 0.01);
      }
      // Web vitals.
      static const char* kPages[] = {"/", "/courses", "/course/[id]", "/profile", "/login"};
      for (const char* page : kPages) {
        Label p{"page", page};
        Histogram("web_vitals_fcp_seconds", {inst, a, p}, kLatencyBuckets, 0.5, 1.2);
        Histogram("web_vitals_lcp_seconds", {inst, a, p}, kLatencyBuckets, 0.5, 2.0);
        Histogram("web_vitals_ttfb_seconds", {inst, a, p}, kLatencyBuckets, 0.5, 0.3);
        Histogram("web_vitals_fid_seconds", {inst, a, p}, kLatencyBuckets, 0.5, 0.02);
        Histogram("web_vitals_cls", {inst, a, p}, {0.01, 0.05, 0.1, 0.25, 0.5}, 0.5, 0.05);
      }
    }
    // Prisma.
    static const char* kModels[] = {"User", "Course", "Lesson", "Enrollment", "Notification",
                                    "Campaign", "ReengagementMetrics", "Session"};
    static const char* kOperations[] = {"findMany", "findUnique", "create", "update", "delete"};
    for (const char* model : kModels) {
      for (const char* op : kOperations) {
        std::vector<Label> l = {inst, {"model", model}, {"operation", op}};
        Histogram("prisma_query_duration_seconds", l, kLatencyBuckets, 3, 0.01);
        Counter("prisma_query_total", l, 3);
        Counter("prisma_query_errors_total", l, 0.001);
      }
    }
    Gauge("prisma_pool_connections", {inst}, 10, 1);
    // Re-engagement (business).
    for (int c = 0; c < 4; ++c) {
      Label campaign{"campaign", "spring-" + std::to_string(c)};
      Gauge("reengagement_campaigns_active", {inst, campaign}, 1, 0);
      for (int level = 1; level <= 5; ++level) {
        for (const char* type : {"push", "email", "telegram"}) {
          std::vector<Label> l = {inst, campaign, {"level", std::to_string(level)}, {"type", type}};
          Counter("reengagement_notifications_sent_total", l, 0.05);
          Counter("reengagement_users_returned_total", l, 0.005);
          Counter("reengagement_clicks_total", l, 0.01);
          Counter("reengagement_opens_total", l, 0.02);
        }
      }
    }
    // Courses (business).
    for (const char* status : {"draft", "published", "archived"}) {
      Gauge("courses_total", {inst, {"status", status}}, 40, 0.1);
    }
    for (int course = 0; course < 50; ++course) {
      Label id{"course_id", std::to_string(1000 + course)};
      Gauge("courses_users_total", {inst, id, {"status", "active"}}, 300, 2);
      Counter("courses_completions_total", {inst, id}, 0.002);
      Histogram("courses_completion_seconds", {inst, id}, {3600, 86400, 604800, 2592000}, 0.002, 400000);
    }
  }

  void BuildMetadata() {
    using T = storage::MetricType;
    AddMeta("node_cpu_seconds_total", T::kCounter, "Seconds the CPUs spent in each mode.", "seconds");
    AddMeta("node_load1", T::kGauge, "1m load average.");
    AddMeta("probe_success", T::kGauge, "Displays whether or not the probe was a success");
    AddMeta("bullmq_queue_size", T::kGauge, "Jobs in the queue by state.");
    AddMeta("bullmq_job_duration_seconds", T::kHistogram, "Job processing time.", "seconds");
    AddMeta("http_requests_total", T::kCounter, "HTTP requests served.");
    AddMeta("http_request_duration_seconds", T::kHistogram, "HTTP request latency.", "seconds");
    AddMeta("app_errors_total", T::kCounter, "Application errors by type.");
    AddMeta("prisma_query_duration_seconds", T::kHistogram, "Prisma query latency.", "seconds");
    AddMeta("reengagement_notifications_sent_total", T::kCounter, "Re-engagement notifications sent.");
    AddMeta("courses_completions_total", T::kCounter, "Course completions.");
  }

  void StepHistogram(const HistogramGroup& group, double seconds, bool reset) {
    double n = std::floor(group.rate * seconds * (0.5 + Uniform()));
    for (size_t i = 0; i < group.buckets.size(); ++i) {
      SeriesState& bucket = series[group.buckets[i]];
      double fraction = 1.0;
      if (!std::isinf(group.bounds[i])) {
        // Log-normal latency distribution around the group's median.
        double z = std::log(group.bounds[i] / group.median) / 0.8;
        fraction = 0.5 * std::erfc(-z / std::sqrt(2.0));
      }
      if (reset) bucket.value = 0;
      bucket.value += std::floor(n * fraction);
    }
    SeriesState& count = series[group.count_index];
    SeriesState& sum = series[group.sum_index];
    if (reset) count.value = sum.value = 0;
    count.value += n;
    sum.value += n * group.median * (0.8 + 0.4 * Uniform());
  }
};

SeedWorkload::SeedWorkload(const WorkloadOptions& options) : state_(std::make_unique<State>()) {
  state_->options = options;
  state_->rng.seed(options.seed);
  const int replicas = std::max(1, static_cast<int>(std::ceil(options.scale)));
  for (int r = 0; r < replicas; ++r) state_->Build("host" + std::to_string(r));
  if (options.scale < 1) state_->KeepFraction(options.scale);
  state_->BuildMetadata();
}

SeedWorkload::~SeedWorkload() = default;

size_t SeedWorkload::num_series() const { return state_->series.size(); }
const Labels& SeedWorkload::labels(size_t index) const { return state_->series[index].labels; }
SeriesKind SeedWorkload::kind(size_t index) const { return state_->series[index].kind; }

void SeedWorkload::Step(int64_t timestamp_ms) {
  State& s = *state_;
  const double seconds = s.started ? (timestamp_ms - s.last_timestamp) / 1000.0 : 0.0;
  s.started = true;
  s.last_timestamp = timestamp_ms;
  for (SeriesState& series : s.series) {
    if (series.emit_stale) series.emit_stale = false;
    switch (series.kind) {
      case SeriesKind::kCounter:
        if (s.Uniform() < s.options.counter_reset_probability) {
          series.value = 0;
        } else if (series.decimals == 0) {
          // Whole events: stochastic rounding keeps slow counters moving.
          series.value += std::floor(series.rate * seconds * (0.5 + s.Uniform()) + s.Uniform());
        } else {
          series.value = State::Round(series.value + series.rate * seconds * (0.5 + s.Uniform()),
                                      series.decimals);
        }
        break;
      case SeriesKind::kGauge:
        if (series.rate > 0) {
          series.value += (s.Uniform() - 0.5) * 2 * series.rate + (series.level - series.value) * 0.05;
          if (series.level > 0 && series.value < 0) series.value = 0;
          series.value = State::Round(series.value, series.decimals);
          if (series.level > 1e9) series.value = std::round(series.value / 4096) * 4096;
        }
        break;
      default:
        break;  // histogram series advance per group below
    }
    if (series.group < 0 && s.options.churn_probability > 0 && s.Uniform() < s.options.churn_probability) {
      series.stale_labels = series.labels;
      series.emit_stale = true;
      ++s.churn_generation;
      for (Label& label : series.labels) {
        if (label.name != "instance") continue;
        // Each generation replaces the last one's suffix: label sizes stay
        // those of the seed however long the run.
        if (series.base_instance.empty()) series.base_instance = label.value;
        label.value = series.base_instance + "-r" + std::to_string(s.churn_generation);
      }
    }
  }
  for (const HistogramGroup& group : s.groups) {
    s.StepHistogram(group, seconds, s.Uniform() < s.options.counter_reset_probability);
  }
}

void SeedWorkload::AppendSamples(size_t begin, size_t end, storage::WriteInput* out) const {
  const State& s = *state_;
  end = std::min(end, s.series.size());
  double stale;
  uint64_t stale_bits = storage::kStaleNaNBits;
  std::memcpy(&stale, &stale_bits, sizeof stale);
  for (size_t i = begin; i < end; ++i) {
    const SeriesState& series = s.series[i];
    if (series.emit_stale) {
      out->series.push_back(storage::SeriesWrite{series.stale_labels, {{s.last_timestamp, stale}}, {}, {}});
    }
    out->series.push_back(storage::SeriesWrite{series.labels, {{s.last_timestamp, series.value}}, {}, {}});
  }
}

std::vector<storage::MetricMetadata> SeedWorkload::Metadata() const { return state_->metadata; }

}  // namespace tsvault::workload
