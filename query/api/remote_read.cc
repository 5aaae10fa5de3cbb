#include "query/api/remote_read.h"

#include <snappy.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "proto/remote_read.pb.h"

namespace tsvault::query {

namespace {

constexpr size_t kMaxDecodedBytes = 32u << 20;  // Prometheus' decodeReadLimit

void Fail(int status, const std::string& message, http::Response* response) {
  response->status = status;
  response->headers = {{"Content-Type", "text/plain; charset=utf-8"}};
  response->body = message + "\n";
}

// How long a read waits for a slot before it is answered 503. Prometheus
// queues without a bound, but a waiting read here holds a thread of the
// blocking pool, which the running streams need to make progress.
constexpr auto kSlotWait = std::chrono::seconds(1);

// Prometheus' remote-read gate: at most `limit` reads at once (0: no limit).
class ReadGate {
 public:
  explicit ReadGate(int limit) : limit_(limit) {}
  int limit() const { return limit_; }
  // Takes a slot, waiting up to `wait`; false when none freed up.
  bool Enter(std::chrono::milliseconds wait) {
    if (limit_ <= 0) return true;
    std::unique_lock<std::mutex> lock(mutex_);
    if (!free_.wait_for(lock, wait, [this] { return running_ < limit_; })) return false;
    ++running_;
    return true;
  }
  void Leave() {
    if (limit_ <= 0) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --running_;
    }
    free_.notify_one();
  }

 private:
  int limit_;
  std::mutex mutex_;
  std::condition_variable free_;
  int running_ = 0;
};

storage::MatchType MatchTypeOf(prometheus::LabelMatcher::Type type, bool* ok) {
  *ok = true;
  switch (type) {
    case prometheus::LabelMatcher::EQ: return storage::MatchType::kEqual;
    case prometheus::LabelMatcher::NEQ: return storage::MatchType::kNotEqual;
    case prometheus::LabelMatcher::RE: return storage::MatchType::kRegexMatch;
    case prometheus::LabelMatcher::NRE: return storage::MatchType::kRegexNoMatch;
    default: *ok = false; return storage::MatchType::kEqual;
  }
}

}  // namespace

int PrepareReadSelection(const prometheus::Query& query, ReadSelection* out, std::string* error) {
  std::vector<storage::LabelMatcher>& matchers = out->matchers;
  bool selective = false;
  for (const prometheus::LabelMatcher& m : query.matchers()) {
    bool ok;
    const storage::MatchType type = MatchTypeOf(m.type(), &ok);
    if (!ok) {
      *error = "unknown label matcher type " + std::to_string(m.type());
      return 500;
    }
    storage::LabelMatcher matcher;
    Status s = storage::LabelMatcher::Create(type, m.name(), m.value(), &matcher);
    if (!s.ok()) {
      *error = s.message();
      return 500;
    }
    selective = selective || !matcher.MatchesEmpty();
    matchers.push_back(std::move(matcher));
  }
  if (!selective) {
    // Every tsvault series has a metric name: the same selection, which the
    // storage accepts (it refuses lists that all match the empty string).
    storage::LabelMatcher any;
    Status s = storage::LabelMatcher::Create(storage::MatchType::kRegexMatch, "__name__", ".+", &any);
    if (!s.ok()) {
      *error = s.message();
      return 500;
    }
    matchers.push_back(std::move(any));
  }
  int64_t start = query.start_timestamp_ms(), end = query.end_timestamp_ms();
  const prometheus::ReadHints& hints = query.hints();
  if (hints.start_ms() != 0 || hints.end_ms() != 0) {
    // The TSDB querier reads the hint range (read_recent: false lowers only
    // the query end).
    start = std::max(start, hints.start_ms());
    end = std::min(end, hints.end_ms());
  }
  if (start > end) {
    out->empty = true;
    return 0;
  }
  storage::SelectHints& select_hints = out->hints;
  select_hints = storage::SelectHints(start, end);
  select_hints.step_ms = hints.step_ms();
  select_hints.range_ms = hints.range_ms();
  select_hints.function = hints.func();
  return 0;
}

namespace {

// One query's series for a SAMPLES response. Returns 0 on success, else the
// HTTP status, with the error text in *error.
int AnswerQuery(storage::DB* db, const ReadSelection& selection, int64_t sample_limit,
                prometheus::QueryResult* result, std::string* error) {
  if (selection.empty) return 0;
  std::unique_ptr<storage::SeriesSet> set;
  Status s = db->Select(selection.hints, selection.matchers, &set);
  if (!s.ok()) {
    *error = s.ToString();
    return 500;
  }
  int64_t samples = 0;
  while (set->Next()) {
    prometheus::TimeSeries* series = nullptr;
    std::unique_ptr<storage::SampleIterator> it = set->Samples();
    while (it->Next()) {
      if (it->is_histogram()) continue;  // 2.42's remote read carries float samples only
      if (series == nullptr) {
        series = result->add_timeseries();
        for (const Label& label : set->labels()) {
          prometheus::Label* out = series->add_labels();
          out->set_name(label.name);
          out->set_value(label.value);
        }
      }
      if (sample_limit > 0 && ++samples > sample_limit) {
        *error = "exceeded sample limit (" + std::to_string(sample_limit) + ")";
        return 400;
      }
      prometheus::Sample* sample = series->add_samples();
      sample->set_timestamp(it->timestamp());
      sample->set_value(it->value());
    }
  }
  if (!set->status().ok()) {
    *error = set->status().ToString();
    return 500;
  }
  return 0;
}

constexpr char kStreamedContentType[] = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

void HandleRemoteRead(storage::DB* db, const ApiOptions& options, const std::shared_ptr<ReadGate>& gate,
                      const http::Request& request, http::Response* response) {
  // The slot is held until the response is complete: for a streamed one,
  // until its body source is released.
  if (!gate->Enter(kSlotWait)) {
    return Fail(503, "too many remote reads in flight (--storage.remote.read-concurrent-limit=" +
                         std::to_string(gate->limit()) + "); try again",
                response);
  }
  std::shared_ptr<void> slot(nullptr, [gate](void*) { gate->Leave(); });
  size_t length = 0;
  if (!snappy::GetUncompressedLength(request.body.data(), request.body.size(), &length)) {
    return Fail(400, "snappy: corrupt input", response);
  }
  if (length > kMaxDecodedBytes) {
    return Fail(400, "decoded request is " + std::to_string(length) + " bytes, over the limit of " +
                         std::to_string(kMaxDecodedBytes),
                response);
  }
  std::string decoded;
  if (!snappy::Uncompress(request.body.data(), request.body.size(), &decoded)) {
    return Fail(400, "snappy: corrupt input", response);
  }
  prometheus::ReadRequest read;
  if (!read.ParseFromString(decoded)) return Fail(400, "proto: cannot parse prometheus.ReadRequest", response);
  // The first accepted type we support; none listed means SAMPLES.
  int type = read.accepted_response_types_size() == 0 ? prometheus::ReadRequest::SAMPLES : -1;
  for (int accepted : read.accepted_response_types()) {
    if (accepted == prometheus::ReadRequest::SAMPLES || accepted == prometheus::ReadRequest::STREAMED_XOR_CHUNKS) {
      type = accepted;
      break;
    }
  }
  if (type < 0) {
    return Fail(400,
                "server does not support any of the requested response types; supported: SAMPLES, "
                "STREAMED_XOR_CHUNKS",
                response);
  }
  std::vector<ReadSelection> selections(read.queries_size());
  for (int i = 0; i < read.queries_size(); ++i) {
    std::string error;
    const int status = PrepareReadSelection(read.queries(i), &selections[i], &error);
    if (status != 0) return Fail(status, error, response);
  }
  if (type == prometheus::ReadRequest::STREAMED_XOR_CHUNKS) {
    response->status = 200;
    response->headers = {{"Content-Type", kStreamedContentType}};
    response->body_source =
        StreamedReadBody(db, std::move(selections), options.remote_read_max_bytes_in_frame, std::move(slot));
    return;
  }
  prometheus::ReadResponse answer;
  for (const ReadSelection& selection : selections) {
    std::string error;
    const int status = AnswerQuery(db, selection, options.remote_read_sample_limit, answer.add_results(), &error);
    if (status != 0) return Fail(status, error, response);
  }
  std::string serialized;
  answer.SerializeToString(&serialized);
  response->status = 200;
  response->headers = {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "snappy"}};
  snappy::Compress(serialized.data(), serialized.size(), &response->body);
}

}  // namespace

void RegisterRemoteReadRoutes(http::Server* server, storage::DB* db, const ApiOptions* options) {
  auto gate = std::make_shared<ReadGate>(options->remote_read_concurrent_limit);
  server->RouteBlocking("POST", "/api/v1/read", [db, options, gate](const http::Request& request, http::Response* response) {
    HandleRemoteRead(db, *options, gate, request, response);
  });
}

}  // namespace tsvault::query
