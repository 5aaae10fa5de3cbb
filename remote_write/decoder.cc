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

namespace internal {

bool CanonicalizeSeriesLabels(Labels* labels, const model::LabelLimits& limits, model::LabelSetKind kind,
                              bool utf8_already_checked, SeriesProblem* problem) {
  model::LabelProblem label_problem;
  if (model::CanonicalizeLabels(labels, limits, kind, utf8_already_checked, &label_problem)) return true;
  problem->reason = RejectReasonFor(label_problem.kind);
  problem->detail = std::move(label_problem.detail);
  return false;
}

bool CheckOneSampleKind(bool has_samples, bool has_histograms, SeriesProblem* problem) {
  if (!has_samples || !has_histograms) return true;
  problem->reason = RejectReason::kSamplesAndHistograms;
  problem->detail = "series has both float samples and native histograms";
  return false;
}

bool CanonicalizeExemplarLabels(Labels* labels, const model::LabelLimits& limits, bool utf8_already_checked,
                                SeriesProblem* problem) {
  if (CanonicalizeSeriesLabels(labels, limits, model::LabelSetKind::kExemplar, utf8_already_checked, problem)) {
    return true;
  }
  problem->detail = "exemplar " + problem->detail;
  return false;
}

}  // namespace internal

Status DecodeWriteRequest(Protocol protocol, std::string_view protobuf, const model::LabelLimits& limits,
                          const SeriesRefCache* cache, IngestBatch* out) {
  if (cache != nullptr && !cache->enabled()) cache = nullptr;
  if (protocol == Protocol::kV1) return internal::DecodeV1(protobuf, limits, cache, out);
  return internal::DecodeV2(protobuf, limits, cache, out);
}

namespace internal {

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
