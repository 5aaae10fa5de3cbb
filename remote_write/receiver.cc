#include "remote_write/receiver.h"

#include <snappy.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <string>
#include <string_view>

#include "remote_write/content_negotiation.h"
#include "remote_write/decoder.h"
#include "remote_write/receiver_metrics.h"
#include "remote_write/response_text.h"
#include "remote_write/series_recycler.h"
#include "remote_write/series_ref_cache.h"

namespace tsvault::remote_write {

namespace {

constexpr std::string_view kSamplesWrittenHeader = "X-Prometheus-Remote-Write-Samples-Written";
constexpr std::string_view kHistogramsWrittenHeader = "X-Prometheus-Remote-Write-Histograms-Written";
constexpr std::string_view kExemplarsWrittenHeader = "X-Prometheus-Remote-Write-Exemplars-Written";

bool NameEqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// First value of a request header (names compared case-insensitively), or
// empty when absent.
std::string_view FindHeader(const http::Request& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (NameEqualsIgnoreCase(header, name)) return value;
  }
  return {};
}

// Holds `bytes` of the in-flight budget for its lifetime (every return path
// releases it). Not granted when the budget would be exceeded.
class InflightReservation {
 public:
  InflightReservation(std::atomic<uint64_t>* inflight, uint64_t bytes, uint64_t limit)
      : inflight_(inflight), bytes_(bytes) {
    uint64_t current = inflight_->load(std::memory_order_relaxed);
    do {
      if (bytes > limit || current > limit - bytes) {
        in_flight_seen_ = current;
        return;
      }
    } while (!inflight_->compare_exchange_weak(current, current + bytes, std::memory_order_acq_rel,
                                               std::memory_order_relaxed));
    granted_ = true;
  }
  ~InflightReservation() {
    if (granted_) inflight_->fetch_sub(bytes_, std::memory_order_acq_rel);
  }
  InflightReservation(const InflightReservation&) = delete;
  InflightReservation& operator=(const InflightReservation&) = delete;

  bool granted() const { return granted_; }
  uint64_t in_flight_seen() const { return in_flight_seen_; }

 private:
  std::atomic<uint64_t>* inflight_;
  uint64_t bytes_;
  uint64_t in_flight_seen_ = 0;
  bool granted_ = false;
};

}  // namespace

struct Receiver::Impl {
  Impl(storage::DB* db_in, ReceiverOptions options_in, prometheus::Registry* registry)
      : db(db_in),
        options(options_in),
        metrics(registry),
        series_cache(options.max_cached_series, options.max_series_cache_bytes) {
    limits.max_labels_per_series = options.max_labels_per_series;
    limits.max_label_name_bytes = options.max_label_name_bytes;
    limits.max_label_value_bytes = options.max_label_value_bytes;
  }

  // The request handling proper; may throw only std::bad_alloc and the like,
  // which Handle turns into a 500.
  void Handle(const http::Request& request, http::Response* response);

  storage::DB* db;
  ReceiverOptions options;
  LabelLimits limits;
  ReceiverMetrics metrics;
  SeriesRefCache series_cache;
  std::atomic<uint64_t> inflight_bytes{0};
};

namespace {

// Fills the response; for 2.0 requests the written-count headers are always
// set, with what was actually written.
void Reply(http::Response* response, ReceiverMetrics* metrics, ProtocolLabel protocol, int code,
           std::string body, const WrittenCounts& written) {
  response->status = code;
  response->headers.clear();
  if (protocol == ProtocolLabel::kV2) {
    response->headers.emplace_back(std::string(kSamplesWrittenHeader), std::to_string(written.samples));
    response->headers.emplace_back(std::string(kHistogramsWrittenHeader), std::to_string(written.histograms));
    response->headers.emplace_back(std::string(kExemplarsWrittenHeader), std::to_string(written.exemplars));
  }
  if (code == 429) response->headers.emplace_back("Retry-After", "1");
  if (!body.empty()) {
    if (body.back() != '\n') body.push_back('\n');
    response->headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  }
  response->body = std::move(body);
  metrics->CountRequest(protocol, code);
  if (code >= 500) {
    spdlog::error("remote write: {} {}", code, response->body);
  } else if (code != 204) {
    spdlog::debug("remote write: {} {}", code, response->body);
  }
}

}  // namespace

void Receiver::Impl::Handle(const http::Request& request, http::Response* response) {
  const WrittenCounts nothing_written;
  Protocol protocol = Protocol::kV1;
  Status status = ParseContentType(FindHeader(request, "content-type"), &protocol);
  if (!status.ok()) {
    metrics.CountRejected(RejectReason::kBadContentType, 1);
    Reply(response, &metrics, ProtocolLabel::kUnknown, 415, status.message(), nothing_written);
    return;
  }
  const ProtocolLabel label = protocol == Protocol::kV1 ? ProtocolLabel::kV1 : ProtocolLabel::kV2;
  auto reject = [&](RejectReason reason, int code, std::string body) {
    metrics.CountRejected(reason, 1);
    Reply(response, &metrics, label, code, std::move(body), nothing_written);
  };

  status = CheckContentEncoding(FindHeader(request, "content-encoding"));
  if (!status.ok()) return reject(RejectReason::kBadEncoding, 415, status.message());

  const std::string& body = request.body;
  size_t decoded_size = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &decoded_size)) {
    return reject(RejectReason::kCorruptSnappy, 400,
                  "corrupt snappy: the request body is not snappy block-format data");
  }
  if (decoded_size > options.max_request_bytes) {
    return reject(RejectReason::kTooLarge, 400,
                  "request too large: decoded size " + std::to_string(decoded_size) +
                      " bytes exceeds the limit of " + std::to_string(options.max_request_bytes) +
                      " bytes (--remote-write.max-request-bytes)");
  }

  InflightReservation reservation(&inflight_bytes, decoded_size, options.max_inflight_bytes);
  if (!reservation.granted()) {
    return reject(RejectReason::kQueueFull, 429,
                  "ingest queue is full: " + std::to_string(reservation.in_flight_seen()) +
                      " bytes of requests in flight, this one needs " + std::to_string(decoded_size) +
                      ", limit " + std::to_string(options.max_inflight_bytes) +
                      " (--remote-write.max-inflight-bytes); retry later");
  }

  const auto decode_start = std::chrono::steady_clock::now();
  // The decompressed request stays until the append is done: a request whose
  // cached references storage refuses is decoded again.
  std::unique_ptr<char[]> uncompressed(new char[decoded_size > 0 ? decoded_size : 1]);
  if (!snappy::RawUncompress(body.data(), body.size(), uncompressed.get())) {
    return reject(RejectReason::kCorruptSnappy, 400, "corrupt snappy: the request body failed to decompress");
  }
  const std::string_view protobuf(uncompressed.get(), decoded_size);
  DecodedRequest decoded;
  // Series buffers come from, and go back to, this thread's recycler.
  SeriesRecycler& recycler = SeriesRecycler::ForThisThread();
  recycler.Lend(&decoded);
  struct ReturnBuffers {
    SeriesRecycler* recycler;
    DecodedRequest* decoded;
    ~ReturnBuffers() { recycler->Return(decoded); }
  } return_buffers{&recycler, &decoded};
  status = DecodeWriteRequest(protocol, protobuf, limits, &series_cache, &decoded);
  metrics.ObserveDecodeSeconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - decode_start).count());
  if (!status.ok()) {
    if (status.IsCorruption()) {
      return reject(RejectReason::kCorruptProtobuf, 400, "corrupt protobuf: " + status.message());
    }
    // The only request-level InvalidArgument: a bad 2.0 symbols table.
    return reject(RejectReason::kBadLabelsRefs, 400, "invalid request: " + status.message());
  }
  for (size_t reason = 0; reason < kRejectReasonCount; ++reason) {
    metrics.CountRejected(static_cast<RejectReason>(reason), decoded.rejected_by_reason[reason]);
  }

  storage::WriteResult result;
  if (!decoded.input.series.empty() || !decoded.input.metadata.empty()) {
    status = db->Append(decoded.input, &result);
    if (status.IsInvalidArgument() && decoded.series_cache_hits > 0) {
      // Storage refused a cached reference (nothing was stored): forget every
      // reference and write this request by labels.
      spdlog::warn("remote write: storage refused a cached series reference ({}); clearing the "
                   "series cache",
                   status.ToString());
      series_cache.Clear();
      DecodedRequest by_labels;
      status = DecodeWriteRequest(protocol, protobuf, limits, nullptr, &by_labels);
      if (status.ok()) {
        decoded = std::move(by_labels);
        status = db->Append(decoded.input, &result);
      }
    }
    if (!status.ok()) {
      if (status.IsResourceExhausted()) {
        return reject(RejectReason::kQueueFull, 429,
                      "storage is overloaded, retry later: " + status.ToString());
      }
      return reject(RejectReason::kStorageError, 500,
                    "storage error, nothing of this request was written: " + status.ToString());
    }
  }
  // Series decoded in full are looked up by reference next time.
  if (result.series_refs.size() == decoded.input.series.size()) {
    for (const DecodedRequest::PendingKey& pending : decoded.pending_keys) {
      series_cache.Insert(decoded.PendingKeyBytes(pending), pending.hash,
                          result.series_refs[pending.series_index]);
    }
  }
  metrics.CountSeriesCache(decoded.series_cache_hits, decoded.pending_keys.size());
  const storage::WriteInput& input = decoded.input;
  const WrittenCounts written{result.samples_written, result.histograms_written, result.exemplars_written};
  metrics.CountIngested(result.samples_written, result.histograms_written, result.exemplars_written,
                        input.metadata.size());
  const uint64_t conflicts =
      result.samples_rejected > 0 ? result.samples_rejected : static_cast<uint64_t>(result.errors.size());
  metrics.CountRejected(RejectReason::kDuplicateTimestamp, conflicts);

  if (!decoded.has_rejections() && conflicts == 0 && result.errors.empty()) {
    Reply(response, &metrics, label, 204, std::string(), written);
    return;
  }
  Reply(response, &metrics, label, 400, PartialWriteMessage(decoded, result), written);
}

Receiver::Receiver(storage::DB* db, ReceiverOptions options, prometheus::Registry* registry)
    : impl_(std::make_unique<Impl>(db, options, registry)) {}

Receiver::~Receiver() = default;

uint64_t Receiver::CachedSeries() const { return impl_->series_cache.size(); }

void Receiver::Handle(const http::Request& request, http::Response* response) {
  try {
    impl_->Handle(request, response);
  } catch (const std::exception& error) {
    // Out of memory or a bug: the sender should retry later.
    Reply(response, &impl_->metrics, ProtocolLabel::kUnknown, 500,
          std::string("internal error while handling remote write: ") + error.what(), WrittenCounts{});
  }
}

}  // namespace tsvault::remote_write
