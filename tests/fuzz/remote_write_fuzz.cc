// Fuzzes the Remote Write receiver as the HTTP handler runs it: content
// negotiation, snappy, the 1.0 and 2.0 protobuf decoders, label and
// histogram validation, and the hand-off to storage (a stub that accepts
// everything). The first input byte picks the protocol and whether the rest
// is the request body as sent (exercising snappy) or a protobuf message the
// harness compresses (so the fuzzer reaches the decoders quickly).
#include <snappy.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "remote_write/receiver.h"
#include "tests/support/write_only_db.h"

namespace {

using namespace tsvault;

// Accepts every append and hands out references, as storage would.
class AcceptingDB : public testing::WriteOnlyDB {
 public:
  Status Append(const storage::WriteInput& input, storage::WriteResult* result) override {
    for (const storage::SeriesWrite& series : input.series) {
      result->series_refs.push_back(series.series_ref != 0 ? series.series_ref : ++next_ref_);
      result->samples_written += series.samples.size();
      result->histograms_written += series.histograms.size();
      result->exemplars_written += series.exemplars.size();
    }
    return Status::OK();
  }

 private:
  uint64_t next_ref_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static AcceptingDB* db = new AcceptingDB();
  static remote_write::Receiver* receiver = [] {
    remote_write::ReceiverOptions options;
    options.max_request_bytes = 1 << 20;
    return new remote_write::Receiver(db, options, nullptr);
  }();
  const uint8_t mode = data[0];
  const std::string payload(reinterpret_cast<const char*>(data + 1), size - 1);
  http::Request request;
  request.method = "POST";
  request.target = request.path = "/api/v1/write";
  const bool v2 = (mode & 1) != 0;
  request.headers = {
      {"content-type", v2 ? "application/x-protobuf;proto=io.prometheus.write.v2.Request"
                          : "application/x-protobuf;proto=prometheus.WriteRequest"},
      {"content-encoding", "snappy"},
      {"x-prometheus-remote-write-version", v2 ? "2.0.0" : "0.1.0"}};
  if ((mode & 2) != 0) {
    request.body = payload;  // as sent: snappy framing is fuzzed too
  } else {
    snappy::Compress(payload.data(), payload.size(), &request.body);
  }
  http::Response response;
  receiver->Handle(request, &response);
  // Every answer is one the protocol allows.
  if (response.status != 204 && response.status != 400 && response.status != 415) __builtin_trap();
  return 0;
}
