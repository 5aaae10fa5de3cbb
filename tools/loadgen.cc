// `tsvault loadgen`: sends the seed workload to any Remote Write receiver,
// live (at the scrape interval, like a Prometheus) or as a backfill (as fast
// as the receiver takes it, in timestamp order across series).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "common/time_parse.h"
#include "storage/matcher.h"
#include "tools/commands.h"
#include "tools/loadgen_sender.h"
#include "workload/seed_workload.h"

namespace tsvault::tools {

namespace {

struct LoadgenFlags {
  std::string url = "http://127.0.0.1:9201/api/v1/write";
  std::string protocol = "v1";
  double scale = 1;
  std::string interval = "15s";
  bool live = false;
  bool backfill = false;
  std::string from = "-2h";
  std::string to = "now";
  std::string duration = "1m";
  int concurrency = 4;
  size_t batch = 2000;
  int max_retries = 10;
  uint64_t seed = 1;
  double churn = 0;
  std::string openmetrics_out;
  std::string metric_filter;  // RE2, fully anchored, on __name__; empty = all
  int steps_per_request = 1;  // backfill: scrapes packed into one request per batch
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "now", "-30d" (relative to now), a Unix time in seconds or RFC 3339.
Status ParseTimeFlag(const std::string& text, int64_t now, int64_t* ms) {
  if (text == "now") {
    *ms = now;
    return Status::OK();
  }
  if (!text.empty() && text[0] == '-') {
    int64_t ago;
    if (ParsePromDuration(text.substr(1), &ago).ok()) {
      *ms = now - ago;
      return Status::OK();
    }
  }
  return ParseTimeParam(text, ms);
}

// The series a run sends, as batches of at most `batch` series, each batch a
// list of [begin, end) index ranges of the workload. Batch i always holds the
// same series, so it can be pinned to one connection.
using SeriesBatch = std::vector<std::pair<size_t, size_t>>;

// Builds the --metric-filter matcher (fully anchored RE2 on the metric
// name); *filter stays empty when `pattern` is empty (every series).
Status MakeMetricFilter(const std::string& pattern, std::optional<storage::LabelMatcher>* filter) {
  filter->reset();
  if (pattern.empty()) return Status::OK();
  storage::LabelMatcher matcher;
  Status s = storage::LabelMatcher::Create(storage::MatchType::kRegexMatch, "__name__", pattern, &matcher);
  if (!s.ok()) return Status::InvalidArgument("--metric-filter: " + s.message());
  *filter = std::move(matcher);
  return Status::OK();
}

// Splits the series whose metric name `filter` accepts (every series when
// unset) into batches of at most `batch` series.
void PlanBatches(const workload::SeedWorkload& workload, const std::optional<storage::LabelMatcher>& filter,
                 size_t batch, std::vector<SeriesBatch>* batches, size_t* selected) {
  batches->clear();
  *selected = 0;
  size_t in_batch = 0;
  for (size_t i = 0; i < workload.num_series(); ++i) {
    if (filter && !filter->Matches(MetricName(workload.labels(i)))) continue;
    if (batches->empty() || in_batch == batch) {
      batches->emplace_back();
      in_batch = 0;
    }
    SeriesBatch& current = batches->back();
    if (!current.empty() && current.back().second == i) {
      current.back().second = i + 1;  // extend the run
    } else {
      current.emplace_back(i, i + 1);
    }
    ++in_batch;
    ++*selected;
  }
}

// True when metadata of `family` belongs to a metric name `filter` accepts.
bool FamilySelected(const std::string& family, const std::optional<storage::LabelMatcher>& filter) {
  if (!filter) return true;
  for (const char* suffix : {"", "_bucket", "_sum", "_count"}) {
    if (filter->Matches(family + suffix)) return true;
  }
  return false;
}

// A bounded queue of requests for one sender thread. Push, Pop and Close
// take mutex_ and may be called from any thread.
class RequestQueue {
 public:
  void Push(storage::WriteInput input) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [&] { return queue_.size() < 4; });
    queue_.push_back(std::move(input));
    not_empty_.notify_one();
  }
  bool Pop(storage::WriteInput* input) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return false;
    *input = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  // Guards queue_ and closed_; not_empty_ and not_full_ are waited on and
  // notified with it held.
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<storage::WriteInput> queue_;  // Guarded by mutex_.
  bool closed_ = false;                    // Guarded by mutex_.
};

// One series as OpenMetrics text wants it: name{a="x",b="y"}, no spaces,
// values escaped (backslash, double quote, newline).
std::string OpenMetricsSeriesName(const Labels& labels) {
  std::string name, rest;
  for (const Label& label : labels) {
    if (label.name == "__name__") {
      name = label.value;
      continue;
    }
    rest += rest.empty() ? "{" : ",";
    rest += label.name;
    rest += "=\"";
    for (char c : label.value) {
      if (c == '\\' || c == '"') rest += '\\';
      if (c == '\n') {
        rest += "\\n";
        continue;
      }
      rest += c;
    }
    rest += '"';
  }
  if (!rest.empty()) rest += '}';
  return name + rest;
}

void WriteOpenMetrics(const storage::WriteInput& input, std::ofstream* out) {
  for (const auto& series : input.series) {
    const std::string name = OpenMetricsSeriesName(series.labels);
    for (const auto& sample : series.samples) {
      char value[40];
      if (std::isnan(sample.value)) {
        std::snprintf(value, sizeof value, "NaN");
      } else if (std::isinf(sample.value)) {
        std::snprintf(value, sizeof value, "%s", sample.value > 0 ? "+Inf" : "-Inf");
      } else {
        std::snprintf(value, sizeof value, "%.17g", sample.value);
      }
      // Seconds with millisecond precision; floor division keeps negative
      // times right.
      int64_t seconds = sample.timestamp_ms / 1000, millis = sample.timestamp_ms % 1000;
      if (millis < 0) {
        millis += 1000;
        seconds -= 1;
      }
      char line_end[64];
      std::snprintf(line_end, sizeof line_end, " %s %lld.%03lld\n", value, static_cast<long long>(seconds),
                    static_cast<long long>(millis));
      *out << name << line_end;
    }
  }
}

// Adds one scrape of a batch (`step`) to the request being assembled for that
// batch: each series' new sample joins its entry when the series list is the
// same as before; otherwise (churn changed it) the entries are appended, which
// still keeps every series' samples in timestamp order within the request.
void MergeStep(storage::WriteInput&& step, storage::WriteInput* pending) {
  if (pending->series.empty()) {
    *pending = std::move(step);
    return;
  }
  bool same = pending->series.size() == step.series.size();
  for (size_t i = 0; same && i < step.series.size(); ++i) {
    same = pending->series[i].labels == step.series[i].labels;
  }
  for (size_t i = 0; i < step.series.size(); ++i) {
    if (same) {
      auto& samples = pending->series[i].samples;
      samples.insert(samples.end(), step.series[i].samples.begin(), step.series[i].samples.end());
    } else {
      pending->series.push_back(std::move(step.series[i]));
    }
  }
}

int RunLoadgen(const LoadgenFlags& flags) {
  if (flags.live == flags.backfill) {
    std::fprintf(stderr, "loadgen: choose exactly one of --live and --backfill\n");
    return 2;
  }
  int64_t interval_ms, from_ms, to_ms, duration_ms;
  const int64_t now = NowMs();
  Status s = ParsePromDuration(flags.interval, &interval_ms);
  if (s.ok() && interval_ms <= 0) s = Status::InvalidArgument("interval must be positive");
  if (s.ok()) s = ParseTimeFlag(flags.from, now, &from_ms);
  if (s.ok()) s = ParseTimeFlag(flags.to, now, &to_ms);
  if (s.ok()) s = ParsePromDuration(flags.duration, &duration_ms);
  if (!s.ok()) {
    std::fprintf(stderr, "loadgen: %s\n", s.message().c_str());
    return 2;
  }
  const auto protocol = flags.protocol == "v2" ? remote_write::Protocol::kV2 : remote_write::Protocol::kV1;

  workload::WorkloadOptions options;
  options.scale = flags.scale;
  options.seed = flags.seed;
  options.churn_probability = flags.churn;
  workload::SeedWorkload workload(options);
  std::optional<storage::LabelMatcher> metric_filter;
  s = MakeMetricFilter(flags.metric_filter, &metric_filter);
  std::vector<SeriesBatch> batches;
  size_t selected_series = 0;
  if (s.ok()) PlanBatches(workload, metric_filter, flags.batch, &batches, &selected_series);
  if (s.ok() && selected_series == 0) s = Status::InvalidArgument("--metric-filter matches no series");
  if (!s.ok()) {
    std::fprintf(stderr, "loadgen: %s\n", s.message().c_str());
    return 2;
  }
  std::vector<storage::MetricMetadata> metadata;
  for (auto& entry : workload.Metadata()) {
    if (FamilySelected(entry.metric_family_name, metric_filter)) metadata.push_back(std::move(entry));
  }
  std::ofstream openmetrics;
  if (!flags.openmetrics_out.empty()) openmetrics.open(flags.openmetrics_out);

  LoadgenCounters counters;
  std::vector<RequestQueue> queues(flags.concurrency);
  std::vector<std::thread> senders;
  for (int i = 0; i < flags.concurrency; ++i) {
    senders.emplace_back([&, i] {
      LoadgenSender sender(flags.url, protocol, flags.max_retries, &counters);
      storage::WriteInput input;
      while (queues[i].Pop(&input)) sender.Send(input);
    });
  }
  std::atomic<bool> done{false};
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  std::thread progress([&] {
    uint64_t last = 0;
    while (!done) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      uint64_t acked = counters.samples_acknowledged;
      std::fprintf(stderr,
                   "loadgen: %.0fs %llu samples acked (%.0f/s) requests=%llu retries=%llu failed=%llu "
                   "p50=%.1fms p99=%.1fms\n",
                   elapsed(), static_cast<unsigned long long>(acked), static_cast<double>(acked - last),
                   static_cast<unsigned long long>(counters.requests.load()),
                   static_cast<unsigned long long>(counters.retries.load()),
                   static_cast<unsigned long long>(counters.failed_requests.load()),
                   counters.LatencyQuantile(0.5) * 1000, counters.LatencyQuantile(0.99) * 1000);
      last = acked;
    }
  });

  // Each sender owns a fixed slice of the series, so one series' samples
  // always travel in timestamp order through one connection.
  // With --steps-per-request N a batch's request holds N scrapes.
  const int steps_per_request = flags.backfill ? flags.steps_per_request : 1;
  std::vector<storage::WriteInput> pending(batches.size());
  int pending_steps = 0;
  auto flush = [&] {
    for (size_t batch_index = 0; batch_index < batches.size(); ++batch_index) {
      if (pending[batch_index].series.empty()) continue;
      queues[batch_index % queues.size()].Push(std::move(pending[batch_index]));
      pending[batch_index] = storage::WriteInput();
    }
    pending_steps = 0;
  };
  auto emit_step = [&](int64_t t, bool first) {
    workload.Step(t);
    for (size_t batch_index = 0; batch_index < batches.size(); ++batch_index) {
      storage::WriteInput input;
      for (const auto& [begin, end] : batches[batch_index]) workload.AppendSamples(begin, end, &input);
      if (first && batch_index == 0) input.metadata = metadata;
      if (openmetrics.is_open()) WriteOpenMetrics(input, &openmetrics);
      MergeStep(std::move(input), &pending[batch_index]);
    }
    if (++pending_steps >= steps_per_request) flush();
  };
  if (flags.backfill) {
    bool first = true;
    for (int64_t t = from_ms - from_ms % interval_ms; t <= to_ms; t += interval_ms) {
      emit_step(t, first);
      first = false;
    }
    flush();
  } else {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(duration_ms);
    bool first = true;
    while (std::chrono::steady_clock::now() < end) {
      emit_step(NowMs(), first);
      first = false;
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
  }
  for (auto& queue : queues) queue.Close();
  for (auto& sender : senders) sender.join();
  const double seconds = elapsed();  // before the progress thread's last sleep
  done = true;
  progress.join();
  if (openmetrics.is_open()) openmetrics << "# EOF\n";

  // The last failure's text (a 4xx answer names what was wrong), as JSON.
  std::string last_error_text;
  if (counters.failed_requests > 0 || counters.transport_errors > 0) {
    std::lock_guard<std::mutex> lock(counters.latency_mutex);
    last_error_text = counters.last_error;
  }
  const std::string last_error =
      nlohmann::json(last_error_text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::printf(
      "{\"series\":%zu,\"samples_sent\":%llu,\"samples_acknowledged\":%llu,\"requests\":%llu,"
      "\"retries\":%llu,\"failed_requests\":%llu,\"transport_errors\":%llu,\"seconds\":%.3f,"
      "\"samples_per_second\":%.0f,\"latency_p50_seconds\":%.6f,\"latency_p99_seconds\":%.6f,"
      "\"last_error\":%s}\n",
      selected_series, static_cast<unsigned long long>(counters.samples_sent.load()),
      static_cast<unsigned long long>(counters.samples_acknowledged.load()),
      static_cast<unsigned long long>(counters.requests.load()),
      static_cast<unsigned long long>(counters.retries.load()),
      static_cast<unsigned long long>(counters.failed_requests.load()),
      static_cast<unsigned long long>(counters.transport_errors.load()), seconds,
      static_cast<double>(counters.samples_acknowledged.load()) / seconds,
      counters.LatencyQuantile(0.5), counters.LatencyQuantile(0.99), last_error.c_str());
  return counters.failed_requests > 0 ? 1 : 0;
}

}  // namespace

void AddLoadgenCommand(CLI::App* app) {
  auto flags = std::make_shared<LoadgenFlags>();
  CLI::App* cmd = app->add_subcommand("loadgen", "Send the seed workload to a Remote Write receiver");
  cmd->add_option("--url", flags->url, "Remote Write URL")->capture_default_str();
  cmd->add_option("--protocol", flags->protocol, "v1 or v2")->capture_default_str()->check(CLI::IsMember({"v1", "v2"}));
  cmd->add_option("--scale", flags->scale, "Cardinality multiplier (1 = the seed table, ~8.7k series)")->capture_default_str();
  cmd->add_option("--interval", flags->interval, "Scrape interval between samples of a series")->capture_default_str();
  cmd->add_flag("--live", flags->live, "Send at the interval in real time, for --duration");
  cmd->add_flag("--backfill", flags->backfill, "Send [--from, --to] as fast as the receiver takes it");
  cmd->add_option("--from", flags->from, "Backfill start: now, -30d, Unix seconds or RFC 3339")->capture_default_str();
  cmd->add_option("--to", flags->to, "Backfill end")->capture_default_str();
  cmd->add_option("--duration", flags->duration, "Live mode: how long to run")->capture_default_str();
  cmd->add_option("--concurrency", flags->concurrency, "Connections")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--batch", flags->batch, "Series per request")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-retries", flags->max_retries, "Retries of a 5xx/429 request")->capture_default_str();
  cmd->add_option("--seed", flags->seed, "Random seed (same seed, same data)")->capture_default_str();
  cmd->add_option("--churn", flags->churn, "Per-step probability a series ends (stale marker) and a new one starts")->capture_default_str();
  cmd->add_option("--openmetrics-out", flags->openmetrics_out, "Also write the data as an OpenMetrics text file");
  cmd->add_option("--metric-filter", flags->metric_filter,
                  "RE2 regex, fully anchored, on the metric name: only matching series are generated and "
                  "sent (and written to --openmetrics-out); default all");
  cmd->add_option("--steps-per-request", flags->steps_per_request,
                  "Backfill: scrapes packed into one request per batch (each series then carries that "
                  "many samples, in order)")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->callback([flags] { std::exit(RunLoadgen(*flags)); });
}

}  // namespace tsvault::tools
