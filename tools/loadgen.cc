// `tsvault loadgen`: sends the seed workload to any Remote Write receiver,
// live (at the scrape interval, like a Prometheus) or as a backfill (as fast
// as the receiver takes it, in timestamp order across series).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include "query/time_parse.h"
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
    if (query::ParsePromDuration(text.substr(1), &ago).ok()) {
      *ms = now - ago;
      return Status::OK();
    }
  }
  return query::ParseTimeParam(text, ms);
}

// A bounded queue of requests for one sender thread.
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
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<storage::WriteInput> queue_;
  bool closed_ = false;
};

void WriteOpenMetrics(const storage::WriteInput& input, std::ofstream* out) {
  for (const auto& series : input.series) {
    std::string line = LabelsToString(series.labels);
    if (line.size() >= 2 && line.compare(line.size() - 2, 2, "{}") == 0) line.resize(line.size() - 2);
    for (const auto& sample : series.samples) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " %.17g %lld.%03lld\n", sample.value,
                    static_cast<long long>(sample.timestamp_ms / 1000),
                    static_cast<long long>(sample.timestamp_ms % 1000));
      if (std::isnan(sample.value)) std::snprintf(buf, sizeof buf, " NaN %lld.%03lld\n",
                                                  static_cast<long long>(sample.timestamp_ms / 1000),
                                                  static_cast<long long>(sample.timestamp_ms % 1000));
      *out << line << buf;
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
  Status s = query::ParsePromDuration(flags.interval, &interval_ms);
  if (s.ok() && interval_ms <= 0) s = Status::InvalidArgument("interval must be positive");
  if (s.ok()) s = ParseTimeFlag(flags.from, now, &from_ms);
  if (s.ok()) s = ParseTimeFlag(flags.to, now, &to_ms);
  if (s.ok()) s = query::ParsePromDuration(flags.duration, &duration_ms);
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
  auto emit_step = [&](int64_t t, bool first) {
    workload.Step(t);
    size_t batch_index = 0;
    for (size_t begin = 0; begin < workload.num_series(); begin += flags.batch, ++batch_index) {
      storage::WriteInput input;
      workload.AppendSamples(begin, begin + flags.batch, &input);
      if (first && batch_index == 0) input.metadata = workload.Metadata();
      if (openmetrics.is_open()) WriteOpenMetrics(input, &openmetrics);
      queues[batch_index % queues.size()].Push(std::move(input));
    }
  };
  if (flags.backfill) {
    bool first = true;
    for (int64_t t = from_ms - from_ms % interval_ms; t <= to_ms; t += interval_ms) {
      emit_step(t, first);
      first = false;
    }
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
  done = true;
  progress.join();
  if (openmetrics.is_open()) openmetrics << "# EOF\n";

  const double seconds = elapsed();
  std::printf(
      "{\"series\":%zu,\"samples_sent\":%llu,\"samples_acknowledged\":%llu,\"requests\":%llu,"
      "\"retries\":%llu,\"failed_requests\":%llu,\"transport_errors\":%llu,\"seconds\":%.3f,"
      "\"samples_per_second\":%.0f,\"latency_p50_seconds\":%.6f,\"latency_p99_seconds\":%.6f,"
      "\"last_error\":\"%s\"}\n",
      workload.num_series(), static_cast<unsigned long long>(counters.samples_sent.load()),
      static_cast<unsigned long long>(counters.samples_acknowledged.load()),
      static_cast<unsigned long long>(counters.requests.load()),
      static_cast<unsigned long long>(counters.retries.load()),
      static_cast<unsigned long long>(counters.failed_requests.load()),
      static_cast<unsigned long long>(counters.transport_errors.load()), seconds,
      static_cast<double>(counters.samples_acknowledged.load()) / seconds,
      counters.LatencyQuantile(0.5), counters.LatencyQuantile(0.99),
      counters.failed_requests > 0 ? "see progress lines" : "");
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
  cmd->callback([flags] { std::exit(RunLoadgen(*flags)); });
}

}  // namespace tsvault::tools
