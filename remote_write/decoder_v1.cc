// Remote Write 1.0 (prometheus.WriteRequest) decoding.
//
// Labels and samples, the bulk of every request, are read straight from the
// wire with WireReader (views into the decoded buffer, one string copy per
// label into storage::Labels, none for a series found in the series-reference
// cache). The rarer exemplars, histograms and metadata
// go through the generated protobuf classes.
#include <climits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "proto/remote_write_v1.pb.h"
#include "remote_write/decoder.h"
#include "remote_write/histogram_conversion.h"
#include "model/utf8.h"
#include "remote_write/wire_reader.h"

namespace tsvault::remote_write::internal {

namespace {

using LabelViews = std::vector<std::pair<std::string_view, std::string_view>>;

// One TimeSeries as read from the wire, before validation. Reused across
// series to keep its buffers.
struct WireSeries {
  // Every `labels` field as received (key, length, Label message), in order:
  // the series' cache key. A view into the request when the fields are
  // adjacent, as senders write them; otherwise a copy in `scattered_labels`.
  // ParseLabels reads the Label messages out of it when needed.
  std::string_view label_fields;
  std::string scattered_labels;
  LabelViews labels;  // filled by ParseLabels
  std::vector<storage::Sample> samples;
  std::vector<std::string_view> exemplars;   // serialized prometheus.Exemplar
  std::vector<std::string_view> histograms;  // serialized prometheus.Histogram

  void Clear() {
    label_fields = {};
    labels.clear();
    samples.clear();
    exemplars.clear();
    histograms.clear();
  }
};

bool ParseLabel(std::string_view bytes, std::string_view* name, std::string_view* value) {
  WireReader reader(bytes);
  *name = {};
  *value = {};
  while (!reader.done()) {
    uint32_t field;
    WireType type;
    if (!reader.ReadTag(&field, &type)) return false;
    if (field == 1 && type == WireType::kLengthDelimited) {
      if (!reader.ReadLengthDelimited(name)) return false;
    } else if (field == 2 && type == WireType::kLengthDelimited) {
      if (!reader.ReadLengthDelimited(value)) return false;
    } else if (!reader.SkipField(field, type)) {
      return false;
    }
  }
  return true;
}

// Parses the Label messages in series->label_fields into series->labels.
// False when one is malformed (the request is then corrupt).
bool ParseLabels(WireSeries* series) {
  series->labels.clear();
  WireReader reader(series->label_fields);
  while (!reader.done()) {
    uint32_t field;
    WireType type;
    std::string_view message;
    // label_fields holds only complete field-1 length-delimited entries.
    if (!reader.ReadTag(&field, &type) || !reader.ReadLengthDelimited(&message)) return false;
    auto& [name, value] = series->labels.emplace_back();
    if (!ParseLabel(message, &name, &value)) return false;
  }
  return true;
}

// Reads a TimeSeries message into *series (cleared first). Label messages
// are only delimited here; ParseLabels reads them.
bool ParseTimeSeries(std::string_view bytes, WireSeries* series) {
  series->Clear();
  WireReader reader(bytes);
  bool scattered = false;
  while (!reader.done()) {
    const char* field_start = reader.position();
    uint32_t field;
    WireType type;
    if (!reader.ReadTag(&field, &type)) return false;
    if (type != WireType::kLengthDelimited || field < 1 || field > 4) {
      if (!reader.SkipField(field, type)) return false;
      continue;
    }
    std::string_view value;
    if (!reader.ReadLengthDelimited(&value)) return false;
    switch (field) {
      case 1: {
        // Adjacent labels fields (the usual case) in one tight loop.
        while (reader.PeekByte() == 0x0A) {
          reader.SkipByte();
          if (!reader.ReadLengthDelimited(&value)) return false;
        }
        const std::string_view entries(field_start, static_cast<size_t>(reader.position() - field_start));
        std::string_view& fields = series->label_fields;
        if (fields.empty()) {
          fields = entries;
        } else {  // labels fields interleaved with others: copy them together
          if (!scattered) {
            series->scattered_labels.assign(fields);
            scattered = true;
          }
          series->scattered_labels.append(entries);
          fields = series->scattered_labels;
        }
        break;
      }
      case 2: {
        storage::Sample sample;
        if (!ParseSample(value, &sample)) return false;
        series->samples.push_back(sample);
        break;
      }
      case 3:
        series->exemplars.push_back(value);
        break;
      default:
        series->histograms.push_back(value);
        break;
    }
  }
  return true;
}

// Copies the series labels into out->labels and canonicalizes them. False
// with *problem when they are invalid.
bool BuildLabels(const WireSeries& wire, const model::LabelLimits& limits, storage::SeriesWrite* out,
                 internal::SeriesProblem* problem) {
  out->labels.reserve(wire.labels.size());
  for (const auto& [name, value] : wire.labels) {
    Label& label = out->labels.emplace_back();
    label.name.assign(name);
    label.value.assign(value);
  }
  return internal::CanonicalizeSeriesLabels(&out->labels, limits, model::LabelSetKind::kSeries, /*utf8_already_checked=*/false,
                            problem);
}

// Validates and converts everything of one parsed series but its labels into
// *out. Returns Corruption for unparsable sub-messages; otherwise OK, with
// *rejected set and *problem filled when the series is invalid.
Status BuildPayload(const WireSeries& wire, const model::LabelLimits& limits, storage::SeriesWrite* out,
                    bool* rejected, internal::SeriesProblem* problem) {
  *rejected = true;
  if (!internal::CheckOneSampleKind(!wire.samples.empty(), !wire.histograms.empty(), problem)) {
    return Status::OK();
  }
  out->samples = wire.samples;

  std::string mismatch;
  Status status = ConvertHistograms<prometheus::Histogram>(wire.histograms, "prometheus.Histogram", out, &mismatch);
  if (!status.ok()) return status;
  if (!mismatch.empty()) {
    problem->reason = RejectReason::kInvalidHistogram;
    problem->detail = std::move(mismatch);
    return Status::OK();
  }

  out->exemplars.resize(wire.exemplars.size());
  std::optional<prometheus::Exemplar> exemplar_storage;
  if (!wire.exemplars.empty()) exemplar_storage.emplace();
  for (size_t i = 0; i < wire.exemplars.size(); ++i) {
    prometheus::Exemplar& exemplar = *exemplar_storage;
    if (!exemplar.ParseFromArray(wire.exemplars[i].data(), static_cast<int>(wire.exemplars[i].size()))) {
      return Status::Corruption("invalid prometheus.Exemplar message");
    }
    storage::Exemplar& converted = out->exemplars[i];
    converted.value = exemplar.value();
    converted.timestamp_ms = exemplar.timestamp();
    converted.labels.reserve(static_cast<size_t>(exemplar.labels_size()));
    for (prometheus::Label& label : *exemplar.mutable_labels()) {
      converted.labels.push_back(Label{std::move(*label.mutable_name()), std::move(*label.mutable_value())});
    }
    if (!internal::CanonicalizeExemplarLabels(&converted.labels, limits, /*utf8_already_checked=*/false, problem)) {
      return Status::OK();
    }
  }
  *rejected = false;
  return Status::OK();
}

// Validates one metadata entry; returns false with *problem on rejection.
bool CheckMetadata(const storage::MetricMetadata& metadata, internal::SeriesProblem* problem) {
  if (metadata.metric_family_name.empty()) {
    problem->reason = RejectReason::kMissingMetricName;
    problem->detail = "metadata entry without metric_family_name";
    return false;
  }
  if (!model::IsValidUtf8(metadata.metric_family_name) || !model::IsValidUtf8(metadata.help) ||
      !model::IsValidUtf8(metadata.unit)) {
    problem->reason = RejectReason::kInvalidUtf8;
    problem->detail = "metadata for " + model::QuoteForError(metadata.metric_family_name, 64) +
                      " is not valid UTF-8";
    return false;
  }
  return true;
}

Status AddMetadata(std::string_view bytes, std::unordered_map<std::string, size_t>* family_index,
                   IngestBatch* out) {
  prometheus::MetricMetadata wire;
  if (!wire.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corruption("invalid prometheus.MetricMetadata message");
  }
  storage::MetricMetadata metadata;
  metadata.metric_family_name = std::move(*wire.mutable_metric_family_name());
  metadata.type = MetricTypeFromWire(static_cast<int>(wire.type()));
  metadata.help = std::move(*wire.mutable_help());
  metadata.unit = std::move(*wire.mutable_unit());
  internal::SeriesProblem problem;
  if (!CheckMetadata(metadata, &problem)) {
    out->metadata_rejected++;
    out->RecordProblem(problem.reason, problem.detail, "");
    return Status::OK();
  }
  auto [it, inserted] = family_index->try_emplace(metadata.metric_family_name, out->input.metadata.size());
  if (inserted) {
    out->input.metadata.push_back(std::move(metadata));
  } else {
    out->input.metadata[it->second] = std::move(metadata);  // the last entry wins
  }
  return Status::OK();
}

// The number of timeseries entries at the top level of a WriteRequest (a
// capacity hint: counting stops at the first malformed byte).
size_t CountTimeSeries(std::string_view protobuf) {
  WireReader reader(protobuf);
  size_t count = 0;
  while (!reader.done()) {
    uint32_t field;
    WireType type;
    if (!reader.ReadTag(&field, &type)) break;
    if (type == WireType::kLengthDelimited) {
      std::string_view ignored;
      if (!reader.ReadLengthDelimited(&ignored)) break;
      if (field == 1) ++count;
    } else if (!reader.SkipField(field, type)) {
      break;
    }
  }
  return count;
}

}  // namespace

Status DecodeV1(std::string_view protobuf, const model::LabelLimits& limits, const SeriesRefCache* cache,
                IngestBatch* out) {
  if (protobuf.size() > static_cast<size_t>(INT_MAX)) {
    return Status::Corruption("request too large for a protobuf message");
  }
  const Status corrupt =
      Status::Corruption("request body is not a valid prometheus.WriteRequest protobuf message");
  out->input.series.reserve(CountTimeSeries(protobuf));
  WireReader reader(protobuf);
  WireSeries wire;
  std::unordered_map<std::string, size_t> family_index;
  std::string& keys = out->pending_key_bytes;
  while (!reader.done()) {
    uint32_t field;
    WireType type;
    if (!reader.ReadTag(&field, &type)) return corrupt;
    if (type != WireType::kLengthDelimited || (field != 1 && field != 3)) {
      if (!reader.SkipField(field, type)) return corrupt;
      continue;
    }
    std::string_view value;
    if (!reader.ReadLengthDelimited(&value)) return corrupt;
    if (field == 3) {
      Status status = AddMetadata(value, &family_index, out);
      if (!status.ok()) return status;
      continue;
    }

    if (!ParseTimeSeries(value, &wire)) return corrupt;
    out->series_received++;
    out->samples_received += wire.samples.size();
    out->histograms_received += wire.histograms.size();
    out->exemplars_received += wire.exemplars.size();

    // The series key is the labels fields as received.
    const std::string_view key = wire.label_fields;
    uint64_t hash = 0;
    uint64_t ref = 0;
    if (cache != nullptr) {
      hash = cache->Hash(key);
      ref = cache->Lookup(key, hash);
    }
    // A hit's label bytes parsed and validated when they were cached.
    if (ref == 0 && !ParseLabels(&wire)) return corrupt;

    storage::SeriesWrite& series = out->AddSeries();
    bool rejected = true;
    internal::SeriesProblem problem;
    Status status;
    if (ref != 0) {
      series.series_ref = ref;  // the same labels were validated when cached
      status = BuildPayload(wire, limits, &series, &rejected, &problem);
    } else if (BuildLabels(wire, limits, &series, &problem)) {
      status = BuildPayload(wire, limits, &series, &rejected, &problem);
    }
    if (!status.ok()) return status;
    if (rejected) {
      out->series_rejected++;
      out->samples_rejected += wire.samples.size();
      out->histograms_rejected += wire.histograms.size();
      out->exemplars_rejected += wire.exemplars.size();
      if (ref != 0) {  // labels only for the message
        internal::SeriesProblem ignored;
        if (ParseLabels(&wire)) BuildLabels(wire, limits, &series, &ignored);
      }
      out->RecordProblem(problem.reason, problem.detail, "series " + model::DescribeLabelsForError(series.labels));
    }
    if (rejected || (series.samples.empty() && series.histograms.empty() && series.exemplars.empty())) {
      out->input.series.pop_back();
      continue;
    }
    if (ref != 0) {
      out->series_cache_hits++;
    } else if (cache != nullptr) {
      out->pending_keys.push_back({out->input.series.size() - 1, keys.size(), key.size(), hash});
      keys.append(key);
    }
  }
  return Status::OK();
}

}  // namespace tsvault::remote_write::internal
