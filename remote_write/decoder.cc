#include "remote_write/decoder.h"

#include <cstring>

#include "remote_write/wire_reader.h"

namespace tsvault::remote_write {

namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view MetricFamilyName(std::string_view metric_name, storage::MetricType type) {
  static constexpr std::string_view kHistogramSuffixes[] = {"_bucket", "_count", "_sum", "_created"};
  static constexpr std::string_view kSummarySuffixes[] = {"_count", "_sum", "_created"};
  auto strip = [&](const auto& suffixes) -> std::string_view {
    for (std::string_view suffix : suffixes) {
      if (EndsWith(metric_name, suffix)) return metric_name.substr(0, metric_name.size() - suffix.size());
    }
    return metric_name;
  };
  switch (type) {
    case storage::MetricType::kHistogram:
    case storage::MetricType::kGaugeHistogram:
      return strip(kHistogramSuffixes);
    case storage::MetricType::kSummary:
      return strip(kSummarySuffixes);
    default:
      return metric_name;
  }
}

Status DecodeWriteRequest(Protocol protocol, std::string_view protobuf, const LabelLimits& limits,
                          const SeriesRefCache* cache, DecodedRequest* out) {
  if (cache != nullptr && !cache->enabled()) cache = nullptr;
  if (protocol == Protocol::kV1) return internal::DecodeV1(protobuf, limits, cache, out);
  return internal::DecodeV2(protobuf, limits, cache, out);
}

namespace internal {

void RecordProblem(DecodedRequest* out, RejectReason reason, const std::string& detail,
                   const std::string& labels_description) {
  out->rejected_by_reason[static_cast<size_t>(reason)]++;
  if (out->problems.size() < kMaxReportedProblems) {
    std::string text = RejectReasonName(reason);
    text.append(": ");
    text.append(detail);
    if (!labels_description.empty()) {
      text.append(" in ");
      text.append(labels_description);
    }
    out->problems.push_back(std::move(text));
  }
}

storage::MetricType MetricTypeFromWire(int value) {
  if (value < 0 || value > static_cast<int>(storage::MetricType::kStateset)) {
    return storage::MetricType::kUnknown;
  }
  return static_cast<storage::MetricType>(value);
}

bool ParseSample(std::string_view bytes, storage::Sample* sample) {
  // Fast path for the encoding every known sender produces: value (field 1,
  // fixed64) then timestamp (field 2, varint) and nothing else.
  if (bytes.size() >= 11 && bytes[0] == 0x09 && bytes[9] == 0x10) {
    WireReader timestamp_reader(bytes.substr(10));
    uint64_t timestamp;
    if (timestamp_reader.ReadVarint(&timestamp) && timestamp_reader.done()) {
      std::memcpy(&sample->value, bytes.data() + 1, sizeof(sample->value));
      sample->timestamp_ms = static_cast<int64_t>(timestamp);
      return true;
    }
  }
  WireReader reader(bytes);
  *sample = storage::Sample{};
  while (!reader.done()) {
    uint32_t field;
    WireType type;
    if (!reader.ReadTag(&field, &type)) return false;
    if (field == 1 && type == WireType::kFixed64) {
      if (!reader.ReadDouble(&sample->value)) return false;
    } else if (field == 2 && type == WireType::kVarint) {
      uint64_t timestamp;
      if (!reader.ReadVarint(&timestamp)) return false;
      sample->timestamp_ms = static_cast<int64_t>(timestamp);
    } else if (!reader.SkipField(field, type)) {
      return false;
    }
  }
  return true;
}

}  // namespace internal

}  // namespace tsvault::remote_write
