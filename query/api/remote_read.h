// POST /api/v1/read: Prometheus' remote-read protocol, both response types:
// SAMPLES (one snappy-compressed prometheus.ReadResponse) and
// STREAMED_XOR_CHUNKS (frames of prometheus.ChunkedReadResponse with chunks
// in Prometheus' XOR encoding, streamed as they are read). See
// docs/remote-read.md. Internal to query/api.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/server.h"
#include "query/api/api.h"
#include "storage/db.h"

namespace prometheus {
class Query;
}

namespace tsvault::query {

// Registers the endpoint on the server's blocking pool. `db` and `options`
// must outlive the server.
void RegisterRemoteReadRoutes(http::Server* server, storage::DB* db, const ApiOptions* options);

// What one query of a read request selects.
struct ReadSelection {
  std::vector<storage::LabelMatcher> matchers;
  storage::SelectHints hints;
  bool empty = false;  // the time range is empty: no series
};

// Checks `query` and fills *out. Returns 0, or the HTTP status (500 for an
// unknown matcher type or a regex that does not compile, as Prometheus)
// with the message in *error.
int PrepareReadSelection(const prometheus::Query& query, ReadSelection* out, std::string* error);

// The body of a STREAMED_XOR_CHUNKS response: one frame per call (uvarint
// size, big-endian CRC32C, a serialized prometheus.ChunkedReadResponse
// holding part of one series of one query), at most about
// `max_bytes_in_frame` of chunks each. `hold` (e.g. a read slot) is
// released with the source. A storage error mid-stream aborts the body.
http::BodySource StreamedReadBody(storage::DB* db, std::vector<ReadSelection> selections,
                                  int64_t max_bytes_in_frame, std::shared_ptr<void> hold);

}  // namespace tsvault::query
