// The frames of Prometheus' chunked streams (remote read's
// STREAMED_XOR_CHUNKS, storage/remote/chunked.go): uvarint(size of the
// message), u32 big-endian CRC32C of the message, the message.
#pragma once

#include <string>
#include <string_view>

namespace tsvault::prometheus_tsdb {

// Appends one frame holding `message` to *out.
void AppendChunkedFrame(std::string_view message, std::string* out);

}  // namespace tsvault::prometheus_tsdb
