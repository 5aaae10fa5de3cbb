// Remote Write 2.0 (io.prometheus.write.v2.Request) decoding.
//
// Symbols, label references, samples, exemplars and metadata are read
// straight from the wire (decoder_v2_wire.h; symbols stay views into the
// decoded buffer); each resolved label is one string copy into
// storage::Labels, none for a series found in the series-reference cache.
// Histograms go through the generated protobuf class.
#include <climits>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/remote_write_v2.pb.h"
#include "remote_write/decoder.h"
#include "remote_write/decoder_v2_wire.h"
#include "remote_write/histogram_conversion.h"
#include "model/utf8.h"
#include "remote_write/wire_reader.h"

namespace tsvault::remote_write::internal {

namespace {

namespace wire = io::prometheus::write::v2;
using v2::AppendKeyFromRefs;
using v2::FindMetricNameRef;
using v2::ParseTimeSeries;
using v2::SymbolTable;
using v2::WireExemplar;
using v2::WireMetadata;
using v2::WireSeries;

// Resolves name/value reference pairs into labels (copies: symbols are
// shared). Checks pairing, ranges and UTF-8; the remaining label rules are
// model::CanonicalizeLabels'.
bool ResolveLabels(const std::vector<uint32_t>& refs, SymbolTable* symbols, const char* what,
                   Labels* labels, internal::SeriesProblem* problem) {
  if (refs.size() % 2 != 0) {
    problem->reason = RejectReason::kBadLabelsRefs;
    problem->detail = std::string(what) + " labels_refs has odd length " + std::to_string(refs.size());
    return false;
  }
  labels->reserve(refs.size() / 2);
  for (size_t i = 0; i < refs.size(); i += 2) {
    const uint32_t name_ref = refs[i];
    const uint32_t value_ref = refs[i + 1];
    for (uint32_t ref : {name_ref, value_ref}) {
      if (!symbols->Contains(ref)) {
        problem->reason = RejectReason::kBadLabelsRefs;
        problem->detail = std::string(what) + " labels_refs entry " + std::to_string(ref) +
                          " is outside the symbols table (" + std::to_string(symbols->size()) +
                          " entries)";
        return false;
      }
    }
    Label& label = labels->emplace_back();
    label.name.assign((*symbols)[name_ref]);
    label.value.assign((*symbols)[value_ref]);
    if (!symbols->IsValidUtf8At(name_ref) || !symbols->IsValidUtf8At(value_ref)) {
      problem->reason = RejectReason::kInvalidUtf8;
      problem->detail = std::string(what) + " label " + model::QuoteForError((*symbols)[name_ref], 64) +
                        " has a name or value that is not valid UTF-8";
      return false;
    }
  }
  return true;
}

// Checks a metadata text reference; false with *problem when invalid.
bool CheckTextRef(uint32_t ref, SymbolTable* symbols, const char* field, internal::SeriesProblem* problem) {
  if (!symbols->Contains(ref)) {
    problem->reason = RejectReason::kBadLabelsRefs;
    problem->detail = std::string("metadata ") + field + " " + std::to_string(ref) +
                      " is outside the symbols table (" + std::to_string(symbols->size()) + " entries)";
    return false;
  }
  if (!symbols->IsValidUtf8At(ref)) {
    problem->reason = RejectReason::kInvalidUtf8;
    problem->detail = std::string("metadata ") + field + " is not valid UTF-8";
    return false;
  }
  return true;
}

// Resolves and canonicalizes the series labels into out->labels. False with
// *problem when they are invalid.
bool BuildLabels(const WireSeries& wire_series, SymbolTable* symbols, const model::LabelLimits& limits,
                 storage::SeriesWrite* out, internal::SeriesProblem* problem) {
  return ResolveLabels(wire_series.labels_refs, symbols, "series", &out->labels, problem) &&
         internal::CanonicalizeSeriesLabels(&out->labels, limits, model::LabelSetKind::kSeries, /*utf8_already_checked=*/true,
                            problem);
}

// Validates and converts everything of one parsed series but its labels into
// *out. Returns Corruption for unparsable histograms; otherwise OK, with
// *rejected set and *problem filled when the series is invalid.
Status BuildPayload(const WireSeries& wire_series, SymbolTable* symbols, const model::LabelLimits& limits,
                    storage::SeriesWrite* out, bool* rejected, internal::SeriesProblem* problem) {
  *rejected = true;
  if (!internal::CheckOneSampleKind(!wire_series.samples.empty(), !wire_series.histograms.empty(), problem)) {
    return Status::OK();
  }
  if (wire_series.metadata.present &&
      (!CheckTextRef(wire_series.metadata.help_ref, symbols, "help_ref", problem) ||
       !CheckTextRef(wire_series.metadata.unit_ref, symbols, "unit_ref", problem))) {
    return Status::OK();
  }
  out->samples = wire_series.samples;

  std::string mismatch;
  Status status = ConvertHistograms<wire::Histogram>(wire_series.histograms, "io.prometheus.write.v2.Histogram",
                                                     out, &mismatch);
  if (!status.ok()) return status;
  if (!mismatch.empty()) {
    problem->reason = RejectReason::kInvalidHistogram;
    problem->detail = std::move(mismatch);
    return Status::OK();
  }

  out->exemplars.resize(wire_series.exemplars.size());
  for (size_t i = 0; i < wire_series.exemplars.size(); ++i) {
    const WireExemplar& exemplar = wire_series.exemplars[i];
    storage::Exemplar& converted = out->exemplars[i];
    converted.value = exemplar.value;
    converted.timestamp_ms = exemplar.timestamp;
    if (!ResolveLabels(exemplar.labels_refs, symbols, "exemplar", &converted.labels, problem)) {
      return Status::OK();
    }
    if (!internal::CanonicalizeExemplarLabels(&converted.labels, limits, /*utf8_already_checked=*/true, problem)) {
      return Status::OK();
    }
  }
  *rejected = false;
  return Status::OK();
}

// Transparent hashing so families can be looked up by string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
using FamilyIndex = std::unordered_map<std::string, size_t, StringHash, std::equal_to<>>;

// The metadata references last recorded: a series of the same family with
// the same metadata (the common case: consecutive series of one metric)
// changes nothing and is skipped.
struct LastMetadata {
  bool valid = false;
  uint32_t name_ref = 0;
  WireMetadata metadata;
};

// Records the metadata of an accepted series (metric name: symbol
// `name_ref`), one entry per family.
void RecordMetadata(const WireMetadata& wire_metadata, uint32_t name_ref, SymbolTable* symbols,
                    FamilyIndex* family_index, LastMetadata* last, IngestBatch* out) {
  if (!wire_metadata.present) return;
  if (last->valid && last->name_ref == name_ref && last->metadata.type == wire_metadata.type &&
      last->metadata.help_ref == wire_metadata.help_ref && last->metadata.unit_ref == wire_metadata.unit_ref) {
    return;  // the entry already holds exactly this
  }
  const storage::MetricType type = MetricTypeFromWire(wire_metadata.type);
  const std::string_view help = (*symbols)[wire_metadata.help_ref];
  const std::string_view unit = (*symbols)[wire_metadata.unit_ref];
  if (type == storage::MetricType::kUnknown && help.empty() && unit.empty()) return;
  *last = LastMetadata{true, name_ref, wire_metadata};
  const std::string_view family = MetricFamilyName((*symbols)[name_ref], type);
  auto it = family_index->find(family);
  if (it == family_index->end()) {
    family_index->emplace(std::string(family), out->input.metadata.size());
    out->input.metadata.push_back(
        storage::MetricMetadata{std::string(family), type, std::string(help), std::string(unit)});
    return;
  }
  storage::MetricMetadata& known = out->input.metadata[it->second];  // the last entry wins
  known.type = type;
  if (known.help != help) known.help.assign(help);
  if (known.unit != unit) known.unit.assign(unit);
}

}  // namespace

Status DecodeV2(std::string_view protobuf, const model::LabelLimits& limits, const SeriesRefCache* cache,
                IngestBatch* out) {
  if (protobuf.size() > static_cast<size_t>(INT_MAX)) {
    return Status::Corruption("request too large for a protobuf message");
  }
  const Status corrupt =
      Status::Corruption("request body is not a valid io.prometheus.write.v2.Request protobuf message");

  // Pass 1: collect symbols and series (fields may come in any order).
  std::vector<std::string_view> symbol_views;
  std::vector<std::string_view> series_views;
  WireReader reader(protobuf);
  while (!reader.done()) {
    uint32_t field;
    WireType type;
    if (!reader.ReadTag(&field, &type)) return corrupt;
    if (type != WireType::kLengthDelimited || (field != 4 && field != 5)) {
      if (!reader.SkipField(field, type)) return corrupt;
      continue;
    }
    std::string_view value;
    if (!reader.ReadLengthDelimited(&value)) return corrupt;
    (field == 4 ? symbol_views : series_views).push_back(value);
  }
  if (!symbol_views.empty() && !symbol_views[0].empty()) {
    return Status::InvalidArgument("the symbols table must start with the empty string, found " +
                                   model::QuoteForError(symbol_views[0], 64));
  }

  // Pass 2: every series.
  SymbolTable symbols(symbol_views);
  FamilyIndex family_index;
  LastMetadata last_metadata;
  WireSeries wire_series;
  std::string& keys = out->pending_key_bytes;
  out->input.series.reserve(series_views.size());
  for (size_t index = 0; index < series_views.size(); ++index) {
    if (!ParseTimeSeries(series_views[index], &wire_series)) return corrupt;
    out->series_received++;
    out->samples_received += wire_series.samples.size();
    out->histograms_received += wire_series.histograms.size();
    out->exemplars_received += wire_series.exemplars.size();

    // The series key is built at the end of `keys`: kept there on a miss,
    // cut off again otherwise.
    const size_t key_offset = keys.size();
    bool cacheable = false;
    uint64_t hash = 0;
    uint64_t ref = 0;
    if (cache != nullptr) {
      cacheable = AppendKeyFromRefs(wire_series.labels_refs, symbols, &keys);
      if (cacheable) {
        const std::string_view key = std::string_view(keys).substr(key_offset);
        hash = cache->Hash(key);
        ref = cache->Lookup(key, hash);
      }
    }

    storage::SeriesWrite& series = out->AddSeries();
    bool rejected = true;
    internal::SeriesProblem problem;
    Status status;
    if (ref != 0) {
      series.series_ref = ref;  // the same labels were validated when cached
      status = BuildPayload(wire_series, &symbols, limits, &series, &rejected, &problem);
    } else if (BuildLabels(wire_series, &symbols, limits, &series, &problem)) {
      status = BuildPayload(wire_series, &symbols, limits, &series, &rejected, &problem);
    }
    if (!status.ok()) return status;
    if (rejected) {
      out->series_rejected++;
      out->samples_rejected += wire_series.samples.size();
      out->histograms_rejected += wire_series.histograms.size();
      out->exemplars_rejected += wire_series.exemplars.size();
      if (ref != 0) {  // labels only for the message
        internal::SeriesProblem ignored;
        BuildLabels(wire_series, &symbols, limits, &series, &ignored);
      }
      std::string where = "series #" + std::to_string(index);
      if (!series.labels.empty()) where += " " + model::DescribeLabelsForError(series.labels);
      out->RecordProblem(problem.reason, problem.detail, where);
      out->input.series.pop_back();
      keys.resize(key_offset);
      continue;
    }
    uint32_t name_ref = 0;  // a valid series has one (checked above or when cached)
    if (FindMetricNameRef(wire_series.labels_refs, symbols, &name_ref)) {
      RecordMetadata(wire_series.metadata, name_ref, &symbols, &family_index, &last_metadata, out);
    }
    if (series.samples.empty() && series.histograms.empty() && series.exemplars.empty()) {
      out->input.series.pop_back();
      keys.resize(key_offset);
      continue;
    }
    if (ref != 0) {
      out->series_cache_hits++;
      keys.resize(key_offset);
    } else if (cacheable) {
      out->pending_keys.push_back(
          {out->input.series.size() - 1, key_offset, keys.size() - key_offset, hash});
    } else {
      keys.resize(key_offset);
    }
  }
  return Status::OK();
}

}  // namespace tsvault::remote_write::internal
