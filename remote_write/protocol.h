// The Remote Write protocol versions and the header names and values both
// ends of a request use (sender: encoder, forwarder; receiver: receiver).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tsvault::remote_write {

// Remote Write 1.0 (prometheus.WriteRequest) or 2.0 (io.prometheus.write.v2.Request).
enum class Protocol { kV1, kV2 };

// Response headers of a 2.0 receiver: what it wrote of the request.
inline constexpr std::string_view kSamplesWrittenHeader = "X-Prometheus-Remote-Write-Samples-Written";
inline constexpr std::string_view kHistogramsWrittenHeader = "X-Prometheus-Remote-Write-Histograms-Written";
inline constexpr std::string_view kExemplarsWrittenHeader = "X-Prometheus-Remote-Write-Exemplars-Written";

// The Content-Type header value for a protocol.
const char* ContentType(Protocol protocol);

// The headers a sender puts on a request body from EncodeWriteRequest:
// Content-Type, Content-Encoding (snappy) and
// X-Prometheus-Remote-Write-Version (0.1.0 or 2.0.0).
std::vector<std::pair<std::string, std::string>> WriteRequestHeaders(Protocol protocol);

}  // namespace tsvault::remote_write
