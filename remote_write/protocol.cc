#include "remote_write/protocol.h"

namespace tsvault::remote_write {

const char* ContentType(Protocol protocol) {
  // 1.0 uses the bare media type, which every 1.x receiver understands (the
  // 2.0 spec recommends it when talking to 1.x receivers).
  return protocol == Protocol::kV1 ? "application/x-protobuf"
                                   : "application/x-protobuf;proto=io.prometheus.write.v2.Request";
}

std::vector<std::pair<std::string, std::string>> WriteRequestHeaders(Protocol protocol) {
  return {{"Content-Type", ContentType(protocol)},
          {"Content-Encoding", "snappy"},
          {"X-Prometheus-Remote-Write-Version", protocol == Protocol::kV1 ? "0.1.0" : "2.0.0"}};
}

}  // namespace tsvault::remote_write
