#include "remote_write/receiver.h"

#include <snappy.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <string>
#include <string_view>

#include "remote_write/content_negotiation.h"
#include "remote_write/decoder.h"
#include "remote_write/protocol.h"
#include "remote_write/receiver_metrics.h"
#include "remote_write/response_text.h"

namespace tsvault::remote_write {

struct Receiver::Impl {
  Impl(Ingester* ingester_in, ReceiverOptions options_in) : ingester(ingester_in), options(options_in) {}

  // The request handling proper; may throw only std::bad_alloc and the like,
  // which Handle turns into a 500.
  void Handle(const http::Request& request, http::Response* response);

  std::unique_ptr<Ingester> owned_ingester;  // set by the constructor that takes a DB
  Ingester* ingester;
  const ReceiverOptions options;
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
  ReceiverMetrics* metrics = ingester->metrics();
  const WrittenCounts nothing_written;
  Protocol protocol = Protocol::kV1;
  Status status = ParseContentType(request.Header("content-type"), &protocol);
  if (!status.ok()) {
    ingester->CountRejectedSource(RejectReason::kBadContentType);
    Reply(response, metrics, ProtocolLabel::kUnknown, 415, status.message(), nothing_written);
    return;
  }
  const ProtocolLabel label = protocol == Protocol::kV1 ? ProtocolLabel::kV1 : ProtocolLabel::kV2;
  auto reject = [&](RejectReason reason, int code, std::string body) {
    ingester->CountRejectedSource(reason);
    Reply(response, metrics, label, code, std::move(body), nothing_written);
  };

  status = CheckContentEncoding(request.Header("content-encoding"));
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

  // Snappy expands at most about 21x (a 3-byte copy makes 64 bytes): a
  // length prefix claiming more than that is corrupt, and nothing is
  // allocated for it. Memory for a request follows what it carries.
  if (decoded_size > body.size() * 22 + 64) {
    return reject(RejectReason::kCorruptSnappy, 400,
                  "corrupt snappy: the length prefix claims " + std::to_string(decoded_size) +
                      " bytes, more than a snappy body of " + std::to_string(body.size()) + " bytes can hold");
  }

  InflightReservation reservation;
  ingester->Reserve(decoded_size, &reservation);
  if (!reservation.granted()) {
    return reject(RejectReason::kQueueFull, 429,
                  "ingest queue is full: " + std::to_string(reservation.in_flight_seen()) +
                      " bytes of requests in flight, this one needs " + std::to_string(decoded_size) +
                      ", limit " + std::to_string(ingester->max_inflight_bytes()) +
                      " (--remote-write.max-inflight-bytes); retry later");
  }

  // Decompressed inside the first decode (so the ingester's decode time
  // covers it, as tsvault_remote_write_decode_seconds says) and kept until
  // the append is done: a request whose cached references storage refuses
  // is decoded again.
  std::unique_ptr<char[]> uncompressed;
  bool snappy_failed = false;
  const model::LabelLimits& limits = ingester->label_limits();
  auto decode = [&](const SeriesRefCache* cache, IngestBatch* batch) {
    if (!uncompressed) {
      uncompressed.reset(new char[decoded_size > 0 ? decoded_size : 1]);
      if (!snappy::RawUncompress(body.data(), body.size(), uncompressed.get())) {
        snappy_failed = true;
        return Status::Corruption("the request body failed to decompress");
      }
    }
    const std::string_view protobuf(uncompressed.get(), decoded_size);
    return DecodeWriteRequest(protocol, protobuf, limits, cache, batch);
  };
  IngestOutcome outcome;
  status = ingester->Ingest(decode, &outcome);
  if (!status.ok()) {
    if (outcome.source_failed) {
      if (snappy_failed) {
        return reject(RejectReason::kCorruptSnappy, 400, "corrupt snappy: " + status.message());
      }
      if (status.IsCorruption()) {
        return reject(RejectReason::kCorruptProtobuf, 400, "corrupt protobuf: " + status.message());
      }
      // The only request-level InvalidArgument: a bad 2.0 symbols table.
      return reject(RejectReason::kBadLabelsRefs, 400, "invalid request: " + status.message());
    }
    if (status.IsResourceExhausted()) {
      return reject(RejectReason::kQueueFull, 429, "storage is overloaded, retry later: " + status.ToString());
    }
    // Not "nothing was written": samples may already be in the head (a
    // failed fsync comes after the write). Nothing is acknowledged, and a
    // retry is safe: the same samples are accepted again.
    return reject(RejectReason::kStorageError, 500,
                  "storage error, this request is not acknowledged (some of it may be applied but not durable; "
                  "retrying it is safe): " + status.ToString());
  }
  const storage::WriteResult& result = outcome.result;
  const WrittenCounts written{result.samples_written, result.histograms_written, result.exemplars_written};
  if (outcome.partial_write_text.empty()) {
    Reply(response, metrics, label, 204, std::string(), written);
    return;
  }
  Reply(response, metrics, label, 400, std::move(outcome.partial_write_text), written);
}

IngesterOptions Receiver::IngesterOptionsFrom(const ReceiverOptions& options) {
  IngesterOptions ingester;
  ingester.label_limits.max_labels_per_series = options.max_labels_per_series;
  ingester.label_limits.max_label_name_bytes = options.max_label_name_bytes;
  ingester.label_limits.max_label_value_bytes = options.max_label_value_bytes;
  ingester.max_inflight_bytes = options.max_inflight_bytes;
  ingester.max_cached_series = options.max_cached_series;
  ingester.max_series_cache_bytes = options.max_series_cache_bytes;
  ingester.series_cache_max_age = options.series_cache_max_age;
  return ingester;
}

Receiver::Receiver(Ingester* ingester, ReceiverOptions options)
    : impl_(std::make_unique<Impl>(ingester, options)) {}

Receiver::Receiver(storage::DB* db, ReceiverOptions options, prometheus::Registry* registry) {
  auto ingester = std::make_unique<Ingester>(db, IngesterOptionsFrom(options), registry);
  impl_ = std::make_unique<Impl>(ingester.get(), options);
  impl_->owned_ingester = std::move(ingester);
}

Receiver::~Receiver() = default;

uint64_t Receiver::CachedSeries() const { return impl_->ingester->CachedSeries(); }

void Receiver::Handle(const http::Request& request, http::Response* response) {
  try {
    impl_->Handle(request, response);
  } catch (const std::exception& error) {
    // Out of memory or a bug: the sender should retry later.
    Reply(response, impl_->ingester->metrics(), ProtocolLabel::kUnknown, 500,
          std::string("internal error while handling remote write: ") + error.what(), WrittenCounts{});
  }
}

}  // namespace tsvault::remote_write
