#include "storage/prometheus_tsdb/frame.h"

#include "storage/prometheus_tsdb/crc32c.h"
#include "storage/prometheus_tsdb/encoding.h"

namespace tsvault::prometheus_tsdb {

void AppendChunkedFrame(std::string_view message, std::string* out) {
  PutUvarint(out, message.size());
  PutBigEndian32(out, Crc32c(message));
  out->append(message);
}

}  // namespace tsvault::prometheus_tsdb
