// Fuzzes the remote-read request decoding: a snappy-compressed
// prometheus.ReadRequest whose queries become storage selections (matchers,
// regexes, hints). The harness compresses the input, so the fuzzer works on
// the protobuf.
#include <snappy.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "query/api/remote_read.h"
#include "proto/remote_read.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tsvault;
  if (size > 65536) return 0;
  std::string compressed;
  snappy::Compress(reinterpret_cast<const char*>(data), size, &compressed);
  std::string body;
  if (!snappy::Uncompress(compressed.data(), compressed.size(), &body)) __builtin_trap();
  prometheus::ReadRequest request;
  if (!request.ParseFromString(body)) return 0;
  for (const prometheus::Query& query : request.queries()) {
    query::ReadSelection selection;
    std::string error;
    (void)query::PrepareReadSelection(query, &selection, &error);
  }
  return 0;
}
