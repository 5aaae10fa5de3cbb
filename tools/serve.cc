// `tsvault serve`: the storage node (remote-write receiver + query API).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

#include "auth/web_security.h"
#include "http/server.h"
#include "query/api/api.h"
#include "query/ui/ui.h"
#include "common/time_parse.h"
#include "compaction/downsampler.h"
#include "remote_write/forward/config.h"
#include "import/import_endpoints.h"
#include "remote_write/forward/forwarder.h"
#include "remote_write/receiver.h"
#include "storage/db.h"
#include "tools/commands.h"
#include "tools/retention_flags.h"
#include "tools/self_metrics.h"

namespace tsvault::tools {

namespace {

struct ServeFlags {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:9201";
  int threads = std::max(2u, std::thread::hardware_concurrency());
  std::string wal_sync = "batch";
  std::string wal_sync_interval = "5ms";
  std::string checkpoint_interval = "1m";
  uint64_t block_cache_bytes = 256ull << 20;
  uint64_t max_series = 0;
  uint64_t max_new_series_per_write = 0;
  remote_write::ReceiverOptions receiver;
  std::string series_cache_max_age = "1h";
  std::string log_level = "info";
  std::string query_lookback_delta = "5m";
  std::string query_timeout = "2m";
  int64_t query_max_samples = 50'000'000;
  int64_t query_max_memory_bytes = 1ll << 30;
  int64_t query_max_total_memory_bytes = 2ll << 30;
  int query_max_concurrency = 20;
  int query_parallelism = 0;
  std::string downsample_grace = "1h";
  std::string downsample_interval = "1m";
  RetentionFlags retention;
  bool enable_admin_api = false;
  std::string web_config_file;
  std::string forward_config_file;
  std::vector<std::string> forward_urls;
  uint64_t forward_max_queue_bytes = 10ull << 30;
  std::string forward_queue_full = "drop-oldest";
  int64_t remote_read_sample_limit = 50'000'000;
  int remote_read_concurrent_limit = 10;
  int64_t remote_read_max_bytes_in_frame = 1'048'576;
  size_t api_max_results = 100'000;
  uint64_t max_inflight_body_bytes = 64ull << 20;
};

[[noreturn]] void Fail(const std::string& message) {
  spdlog::critical("{}", message);
  std::exit(1);
}

// The forwarding targets of --forward.config-file and --forward.url.
std::vector<forward::TargetConfig> ForwardTargets(const ServeFlags& flags) {
  std::vector<forward::TargetConfig> targets;
  if (!flags.forward_config_file.empty()) {
    Status s = forward::LoadForwardConfigFile(flags.forward_config_file, &targets);
    if (!s.ok()) Fail("invalid --forward.config-file: " + s.message());
  }
  for (const std::string& url : flags.forward_urls) {
    forward::TargetConfig target;
    Status s = forward::TargetFromUrl(url, &target);
    if (!s.ok()) Fail("invalid --forward.url: " + s.message());
    for (const forward::TargetConfig& other : targets) {
      if (other.name == target.name) Fail("--forward.url " + url + " is configured twice");
    }
    targets.push_back(std::move(target));
  }
  if (flags.forward_queue_full != "drop-oldest" && flags.forward_queue_full != "reject") {
    Fail("invalid --forward.queue-full \"" + flags.forward_queue_full + "\": use drop-oldest or reject");
  }
  return targets;
}

// GET /api/v1/status/forward: each target's figures.
void HandleForwardStatus(const forward::Forwarder* forwarder, storage::DB* db, http::Response* response) {
  nlohmann::json targets = nlohmann::json::array();
  if (forwarder != nullptr) {
    for (const forward::TargetStatus& t : forwarder->Targets()) {
      targets.push_back({{"name", t.name},
                         {"url", t.url},
                         {"position", t.position},
                         {"pendingRecords", t.pending_records},
                         {"samplesSent", t.samples_sent},
                         {"histogramsSent", t.histograms_sent},
                         {"exemplarsSent", t.exemplars_sent},
                         {"metadataSent", t.metadata_sent},
                         {"retriedRequests", t.requests_retried},
                         {"dropped", t.dropped},
                         {"relabelDropped", t.relabel_dropped},
                         {"highestSentTimestamp", static_cast<double>(t.highest_sent_timestamp_ms) / 1000},
                         {"shards", t.shards},
                         {"lastError", t.last_error}});
    }
  }
  uint64_t kept_bytes = 0;
  db->LogConsumers(&kept_bytes);
  response->status = 200;
  response->SetHeader("Content-Type", "application/json");
  response->body =
      nlohmann::json{{"status", "success"}, {"data", {{"targets", targets}, {"queueBytes", kept_bytes}}}}.dump();
}

int64_t DurationFlag(const std::string& name, const std::string& text) {
  int64_t ms;
  Status s = ParsePromDuration(text, &ms);
  if (!s.ok()) Fail("invalid --" + name + ": " + s.message());
  return ms;
}

// Every flag of `command` and its value, as given or defaulted, keyed
// without the dashes (/api/v1/status/flags, as Prometheus lists its own).
std::map<std::string, std::string> FlagValues(const CLI::App& command) {
  std::map<std::string, std::string> out;
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_lnames().empty()) continue;
    const std::string& name = option->get_lnames().front();
    if (name == "help") continue;
    std::string value;
    if (option->get_expected_min() == 0) {  // a switch
      value = option->count() > 0 ? "true" : "false";
    } else if (option->count() > 0) {
      for (const std::string& result : option->results()) value += (value.empty() ? "" : ",") + result;
    } else {
      value = option->get_default_str();
    }
    out[name] = value;
  }
  return out;
}

int RunServe(const ServeFlags& flags, std::map<std::string, std::string> flag_values) {
  const int64_t start_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  spdlog::set_level(spdlog::level::from_str(flags.log_level));

  // Block termination signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // reloads --web.config.file
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Read before storage opens: a bad file fails at once.
  std::unique_ptr<auth::WebSecurity> web_security;
  Status web_status = auth::WebSecurity::Open(flags.web_config_file, &web_security);
  if (!web_status.ok()) Fail("invalid --web.config.file: " + web_status.message());

  compaction::RetentionPolicy retention;
  Status s = flags.retention.Parse(&retention);
  if (!s.ok()) Fail(s.message());

  SelfMetrics metrics;
  storage::Options options;
  options.data_dir = flags.data_dir;
  s = storage::ParseWalSyncMode(flags.wal_sync, &options.wal_sync);
  if (!s.ok()) Fail("invalid --storage.wal-sync: " + s.message());
  options.wal_sync_interval = std::chrono::milliseconds(DurationFlag("storage.wal-sync-interval", flags.wal_sync_interval));
  options.head_checkpoint_interval = std::chrono::seconds(
      std::max<int64_t>(1, DurationFlag("storage.checkpoint-interval", flags.checkpoint_interval) / 1000));
  options.block_cache_bytes = flags.block_cache_bytes;
  options.max_series = flags.max_series;
  options.max_new_series_per_write = flags.max_new_series_per_write;
  options.wal_sync_observer = [&metrics](double seconds) { metrics.ObserveWalSync(seconds); };
  // Forwarding: each target is a consumer of the write log.
  std::vector<forward::TargetConfig> forward_targets = ForwardTargets(flags);
  options.log_consumers = forward::Forwarder::ConsumerNames(forward_targets);
  options.log_max_bytes = forward_targets.empty() ? 0 : flags.forward_max_queue_bytes;
  options.log_reject_when_full = flags.forward_queue_full == "reject";

  std::unique_ptr<storage::DB> db;
  s = storage::DB::Open(options, &db);
  if (!s.ok()) Fail("cannot open storage: " + s.ToString());

  std::unique_ptr<forward::Forwarder> forwarder;
  if (!forward_targets.empty()) {
    s = forward::Forwarder::Create(db.get(), forward_targets, forward::ForwarderOptions(), metrics.registry(),
                                   &forwarder);
    if (!s.ok()) Fail("cannot forward: " + s.message());
  }

  remote_write::ReceiverOptions receiver_options = flags.receiver;
  receiver_options.series_cache_max_age =
      std::chrono::milliseconds(DurationFlag("remote-write.series-cache-max-age", flags.series_cache_max_age));
  // The one ingest path; the Remote Write handler (and later importers and
  // the forwarding queue) feed it.
  remote_write::Ingester ingester(db.get(), remote_write::Receiver::IngesterOptionsFrom(receiver_options),
                                  metrics.registry());
  remote_write::Receiver receiver(&ingester, receiver_options);

  // Long-term history: seal rollup windows once they are older than the grace.
  compaction::DownsamplerOptions downsampler_options;
  downsampler_options.grace = std::chrono::milliseconds(DurationFlag("downsample.grace", flags.downsample_grace));
  downsampler_options.interval =
      std::chrono::milliseconds(std::max<int64_t>(1000, DurationFlag("downsample.interval", flags.downsample_interval)));
  downsampler_options.retention = retention;
  auto downsampler = std::make_unique<compaction::Downsampler>(db.get(), downsampler_options, metrics.registry());
  query::ApiOptions api_options{TSVAULT_VERSION, TSVAULT_REVISION, __DATE__};
  api_options.engine.lookback_delta =
      std::chrono::milliseconds(DurationFlag("query.lookback-delta", flags.query_lookback_delta));
  api_options.engine.timeout = std::chrono::milliseconds(DurationFlag("query.timeout", flags.query_timeout));
  api_options.engine.max_samples = flags.query_max_samples;
  api_options.engine.max_memory_bytes = flags.query_max_memory_bytes;
  api_options.engine.max_total_memory_bytes = flags.query_max_total_memory_bytes;
  api_options.engine.max_concurrency = flags.query_max_concurrency;
  api_options.engine.parallelism = flags.query_parallelism;
  api_options.engine.resolution_observer = [&metrics](const std::vector<int64_t>& resolutions) {
    metrics.ObserveQueryResolutions(resolutions);
  };
  api_options.enable_admin_api = flags.enable_admin_api;
  api_options.snapshot_directory = flags.data_dir + "/snapshots";
  api_options.remote_read_sample_limit = flags.remote_read_sample_limit;
  api_options.remote_read_concurrent_limit = flags.remote_read_concurrent_limit;
  api_options.remote_read_max_bytes_in_frame = flags.remote_read_max_bytes_in_frame;
  api_options.max_results = flags.api_max_results;
  api_options.flags = std::move(flag_values);
  api_options.config_yaml = forward::EffectiveConfigYaml(forward_targets);
  api_options.start_time_ms = start_time_ms;
  api_options.storage_retention = compaction::DescribeRetentionPolicy(retention);
  // The configuration that reloads is --web.config.file (SIGHUP).
  std::atomic<bool> reload_success{true};
  std::atomic<int64_t> reload_time_ms{start_time_ms};
  api_options.config_reload_state = [&reload_success, &reload_time_ms](bool* success, int64_t* time_ms) {
    *success = reload_success.load();
    *time_ms = reload_time_ms.load();
  };
  query::Api api(db.get(), api_options);

  http::ServerOptions server_options;
  server_options.listen_address = flags.listen;
  server_options.threads = flags.threads;
  // Queries, series and label lookups run beside the I/O threads; a few
  // more threads than query slots so label lookups are not starved.
  server_options.blocking_threads = flags.query_max_concurrency + 4;
  server_options.max_body_bytes = flags.receiver.max_request_bytes;
  server_options.max_inflight_body_bytes = flags.max_inflight_body_bytes;
  server_options.accept_error_observer = [&metrics](const std::string& error) { metrics.ObserveAcceptError(error); };
  server_options.observer = [&metrics](const std::string& route, int status, double seconds) {
    metrics.ObserveRequest(route, status, seconds);
  };
  web_security->ConfigureServer(&server_options);
  http::Server server(server_options);
  server.Route("POST", "/api/v1/write", [&receiver](const http::Request& request, http::Response* response) {
    receiver.Handle(request, response);
  });
  server.Route("GET", "/metrics", [&metrics, &db](const http::Request& request, http::Response* response) {
    metrics.Handle(db.get(), request, response);
  });
  auto text = [](const char* body) {
    return [body](const http::Request&, http::Response* response) {
      response->status = 200;
      response->body = body;
    };
  };
  for (const char* method : {"GET", "HEAD"}) {
    server.Route(method, "/-/healthy", text("tsvault is Healthy.\n"));
    server.Route(method, "/-/ready", text("tsvault is Ready.\n"));
  }
  server.Route("GET", "/api/v1/status/forward",
               [&forwarder, &db](const http::Request&, http::Response* response) {
                 HandleForwardStatus(forwarder.get(), db.get(), response);
               });
  api.Register(&server);
  ui::RegisterUiRoutes(&server);
  import::RegisterImportEndpoints(&server, &ingester);

  // Everything runs before the port opens: once /-/ready answers, the
  // forward status already shows each target's backlog.
  downsampler->Start();
  if (forwarder) {
    forwarder->Start();
    for (const forward::TargetConfig& target : forward_targets) {
      spdlog::info("forwarding to {} ({})", target.name, target.url);
    }
  }
  s = server.Start();
  if (!s.ok()) {
    if (forwarder) forwarder->Stop();
    downsampler.reset();
    Fail("cannot listen on " + flags.listen + ": " + s.ToString());
  }
  spdlog::info("tsvault {} listening on {}://{} (data in {}, wal-sync={}, retention: {}; {})", TSVAULT_VERSION,
               server.tls() ? "https" : "http", flags.listen, flags.data_dir, flags.wal_sync,
               compaction::DescribeRetentionPolicy(retention), web_security->Describe());

  int received = 0;
  while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
    Status reloaded = web_security->Reload(&server);
    reload_success = reloaded.ok();
    if (reloaded.ok()) {
      reload_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      spdlog::info("SIGHUP: reloaded --web.config.file ({})", web_security->Describe());
    } else {
      spdlog::error("SIGHUP: the web config was not reloaded, the previous one stays: {}", reloaded.message());
    }
  }
  spdlog::info("received signal {}, shutting down", received);
  server.Stop();
  if (forwarder) forwarder->Stop();  // what was not delivered goes after the next start
  downsampler.reset();  // waits for a run in progress
  db.reset();  // final checkpoint
  spdlog::info("storage closed cleanly");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App* app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app->add_subcommand("serve", "Run the storage node: remote-write receiver and query API");
  serve->add_option("--storage.path,--data-dir", flags->data_dir, "Data directory")->capture_default_str();
  serve->add_option("--web.listen-address,--listen", flags->listen, "host:port to listen on")->capture_default_str();
  serve->add_option("--threads", flags->threads, "HTTP worker threads")->capture_default_str()->check(CLI::Range(1, 1024));
  serve->add_option("--storage.wal-sync", flags->wal_sync,
                    "When a write is acknowledged: always (fsync per write group), batch (group fsync at most "
                    "every --storage.wal-sync-interval, before the answer), none (no fsync)")
      ->capture_default_str()->check(CLI::IsMember({"always", "batch", "none"}));
  serve->add_option("--storage.wal-sync-interval", flags->wal_sync_interval,
                    "Batch mode: the longest a write waits for its group fsync")->capture_default_str();
  serve->add_option("--storage.checkpoint-interval", flags->checkpoint_interval,
                    "How often open chunks are written to the chunk store (bounds WAL replay)")->capture_default_str();
  serve->add_option("--storage.block-cache-bytes", flags->block_cache_bytes, "RocksDB block cache size")->capture_default_str();
  serve->add_option("--storage.max-series", flags->max_series,
                    "Most active (in-memory) series; samples of new series beyond it get 400 series_limit (0: no bound)")
      ->capture_default_str();
  serve->add_option("--storage.max-new-series-per-write", flags->max_new_series_per_write,
                    "Most new series one request may create; later new series of it get 400 series_limit "
                    "(0: no bound)")
      ->capture_default_str();
  serve->add_option("--remote-write.max-request-bytes", flags->receiver.max_request_bytes,
                    "Largest decoded remote-write request")->capture_default_str();
  serve->add_option("--remote-write.max-labels-per-series", flags->receiver.max_labels_per_series,
                    "Series with more labels are rejected")->capture_default_str();
  serve->add_option("--remote-write.max-label-name-length", flags->receiver.max_label_name_bytes,
                    "Longest label name in bytes")->capture_default_str();
  serve->add_option("--remote-write.max-label-value-length", flags->receiver.max_label_value_bytes,
                    "Longest label value in bytes")->capture_default_str();
  serve->add_option("--remote-write.max-inflight-bytes", flags->receiver.max_inflight_bytes,
                    "Decoded bytes being ingested at once; more answers 429")->capture_default_str();
  serve->add_option("--web.max-inflight-body-bytes", flags->max_inflight_body_bytes,
                    "Request bodies being received or handled at once, all connections together; a request that "
                    "would pass it gets 429 with Retry-After before its body is read (0: no bound)")
      ->capture_default_str();
  serve->add_option("--remote-write.max-cached-series", flags->receiver.max_cached_series,
                    "Entries of the series-reference cache (0 turns it off)")->capture_default_str();
  serve->add_option("--remote-write.series-cache-bytes", flags->receiver.max_series_cache_bytes,
                    "Memory of the series-reference cache in bytes (0 turns it off)")->capture_default_str();
  serve->add_option("--remote-write.series-cache-max-age", flags->series_cache_max_age,
                    "Entries of series that stopped writing leave the series-reference cache within about this "
                    "long (0s: only the size bounds evict)")
      ->capture_default_str();
  serve->add_option("--query.lookback-delta", flags->query_lookback_delta,
                    "How far back an instant selector looks for the latest sample")->capture_default_str();
  serve->add_option("--query.timeout", flags->query_timeout, "Longest a query may run")->capture_default_str();
  serve->add_option("--query.max-samples", flags->query_max_samples,
                    "Most samples a query may hold in memory; more fails the query")->capture_default_str();
  serve->add_option("--query.max-memory-bytes", flags->query_max_memory_bytes,
                    "Most memory one query may hold (label strings and samples); more fails it with 422 (0: no bound)")
      ->capture_default_str();
  serve->add_option("--query.max-total-memory-bytes", flags->query_max_total_memory_bytes,
                    "Most memory all running queries may hold together; a query that would pass it fails with 422 "
                    "(0: no bound)")
      ->capture_default_str();
  serve->add_option("--downsample.grace", flags->downsample_grace,
                    "Rollup windows (5m, 1h, 1d) are sealed this long after they end; later samples redo them")
      ->capture_default_str();
  serve->add_option("--downsample.interval", flags->downsample_interval, "How often the downsampler runs")
      ->capture_default_str();
  flags->retention.AddTo(serve);
  serve->add_flag("--web.enable-admin-api", flags->enable_admin_api,
                  "Enable the admin API (/api/v1/admin/tsdb/delete_series, clean_tombstones, snapshot)");
  serve->add_option("--query.max-concurrency", flags->query_max_concurrency,
                    "Most queries evaluating at once; more wait, within their timeout")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  serve->add_option("--query.parallelism", flags->query_parallelism,
                    "Threads one query may evaluate on, its own included (range functions over many series are "
                    "split among them; answers are the same); 0: one per CPU core")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  serve->add_option("--web.config.file", flags->web_config_file,
                    "TLS, users, bearer tokens and roles (Prometheus' web config format plus roles; "
                    "docs/security.md); reloaded on SIGHUP");
  serve->add_option("--forward.config-file", flags->forward_config_file,
                    "Forward everything received to these targets: a file with Prometheus' remote_write: block");
  serve->add_option("--forward.url", flags->forward_urls,
                    "Forward everything received to this remote-write URL (repeatable; defaults of remote_write)");
  serve->add_option("--forward.max-queue-bytes", flags->forward_max_queue_bytes,
                    "Bound on the write log kept for forward targets that are behind")
      ->capture_default_str();
  serve->add_option("--forward.queue-full", flags->forward_queue_full,
                    "When the forward queue is full: drop-oldest (counted per target) or reject (429 to senders)")
      ->capture_default_str();
  serve->add_option("--storage.remote.read-sample-limit", flags->remote_read_sample_limit,
                    "Most samples one remote-read query may return (0: no limit)")
      ->capture_default_str();
  serve->add_option("--storage.remote.read-concurrent-limit", flags->remote_read_concurrent_limit,
                    "Most remote-read requests served at once (0: no limit)")
      ->capture_default_str();
  serve->add_option("--storage.remote.read-max-bytes-in-frame", flags->remote_read_max_bytes_in_frame,
                    "Target size of one frame of a streamed remote-read response (before the last chunk added)")
      ->capture_default_str()->check(CLI::Range(int64_t{1024}, int64_t{1} << 30));
  serve->add_option("--api.max-results", flags->api_max_results,
                    "Most series, label names or label values one /api/v1/series, /labels or /label/<name>/values "
                    "answer holds; more are cut with the warning \"results truncated due to limit\" (0: no bound)")
      ->capture_default_str();
  serve->add_option("--log.level", flags->log_level, "trace, debug, info, warn, error")
      ->capture_default_str()->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  serve->callback([flags, serve] { std::exit(RunServe(*flags, FlagValues(*serve))); });
}

}  // namespace tsvault::tools
