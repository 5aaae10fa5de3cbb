// Builds Remote Write request bodies (protobuf + snappy) from storage values:
// used by the load generator, the tests and the forwarder.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "remote_write/protocol.h"
#include "storage/types.h"

namespace tsvault::remote_write {

// Serializes `input` as a prometheus.WriteRequest (v1) or
// io.prometheus.write.v2.Request (v2, with a symbol table) and snappy-
// compresses it into *body. Label order is kept as given.
Status EncodeWriteRequest(const storage::WriteInput& input, Protocol protocol, std::string* body);

// The uncompressed protobuf, for tests that need to corrupt or resize it.
Status SerializeWriteRequest(const storage::WriteInput& input, Protocol protocol,
                             std::string* protobuf);

// Snappy block compression (what remote write uses on the wire).
std::string SnappyCompress(const std::string& data);

}  // namespace tsvault::remote_write
