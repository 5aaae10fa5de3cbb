// Remote Write 2.0 (io.prometheus.write.v2.Request) decoding.
//
// Symbols, label references, samples, exemplars and metadata are read
// straight from the wire with WireReader (symbols stay views into the decoded
// buffer; each resolved label is one string copy into storage::Labels, none
// for a series found in the series-reference cache).
// Histograms go through the generated protobuf class.
#include <climits>
#include <optional>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/remote_write_v2.pb.h"
#include "remote_write/decoder.h"
#include "remote_write/histogram_conversion.h"
#include "remote_write/utf8.h"
#include "remote_write/wire_reader.h"

namespace tsvault::remote_write::internal {

namespace {

namespace wire = io::prometheus::write::v2;

// The request's symbols table with a per-symbol UTF-8 verdict computed at most
// once (symbols are shared by many series).
class SymbolTable {
 public:
  explicit SymbolTable(const std::vector<std::string_view>& symbols)
      : symbols_(symbols), utf8_state_(symbols.size(), kUnknown) {}

  size_t size() const { return symbols_.size(); }
  std::string_view operator[](uint32_t ref) const { return symbols_[ref]; }
  // True when `ref` is inside the table; callers check before indexing.
  bool Contains(uint32_t ref) const { return ref < symbols_.size(); }

  bool IsValidUtf8At(uint32_t ref) {
    uint8_t& state = utf8_state_[ref];
    if (state == kUnknown) state = IsValidUtf8(symbols_[ref]) ? kValid : kInvalid;
    return state == kValid;
  }

 private:
  static constexpr uint8_t kUnknown = 0, kValid = 1, kInvalid = 2;
  const std::vector<std::string_view>& symbols_;
  std::vector<uint8_t> utf8_state_;
};

// Appends a repeated uint32 field occurrence, packed (length-delimited) or
// not (one varint), to *refs. Values are truncated to 32 bits like protobuf.
bool ReadRefs(WireReader* reader, WireType type, std::vector<uint32_t>* refs) {
  uint64_t value;
  if (type == WireType::kVarint) {
    if (!reader->ReadVarint(&value)) return false;
    refs->push_back(static_cast<uint32_t>(value));
    return true;
  }
  std::string_view packed;
  if (!reader->ReadLengthDelimited(&packed)) return false;
  WireReader values(packed);
  while (!values.done()) {
    if (!values.ReadVarint(&value)) return false;
    refs->push_back(static_cast<uint32_t>(value));
  }
  return true;
}

bool IsRefsWireType(WireType type) { return type == WireType::kVarint || type == WireType::kLengthDelimited; }

// An exemplar as read from the wire.
struct WireExemplar {
  std::vector<uint32_t> labels_refs;
  double value = 0;
  int64_t timestamp = 0;
};

bool ParseExemplar(std::string_view bytes, WireExemplar* exemplar) {
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t field;
    WireType type;
    if (!reader.ReadTag(&field, &type)) return false;
    if (field == 1 && IsRefsWireType(type)) {
      if (!ReadRefs(&reader, type, &exemplar->labels_refs)) return false;
    } else if (field == 2 && type == WireType::kFixed64) {
      if (!reader.ReadDouble(&exemplar->value)) return false;
    } else if (field == 3 && type == WireType::kVarint) {
      uint64_t timestamp;
      if (!reader.ReadVarint(&timestamp)) return false;
      exemplar->timestamp = static_cast<int64_t>(timestamp);
    } else if (!reader.SkipField(field, type)) {
      return false;
    }
  }
  return true;
}

// Per-series metadata as symbol references. Several occurrences of the
// field merge, later scalars winning, as protobuf does.
struct WireMetadata {
  bool present = false;
  int32_t type = 0;
  uint32_t help_ref = 0;
  uint32_t unit_ref = 0;
};

bool MergeMetadata(std::string_view bytes, WireMetadata* metadata) {
  metadata->present = true;
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t field;
    WireType type;
    if (!reader.ReadTag(&field, &type)) return false;
    uint64_t value;
    if (type == WireType::kVarint && (field == 1 || field == 3 || field == 4)) {
      if (!reader.ReadVarint(&value)) return false;
      if (field == 1) metadata->type = static_cast<int32_t>(value);
      if (field == 3) metadata->help_ref = static_cast<uint32_t>(value);
      if (field == 4) metadata->unit_ref = static_cast<uint32_t>(value);
    } else if (!reader.SkipField(field, type)) {
      return false;
    }
  }
  return true;
}

// One TimeSeries as read from the wire, before validation. Reused across
// series to keep its buffers.
struct WireSeries {
  std::vector<uint32_t> labels_refs;
  std::vector<storage::Sample> samples;
  std::vector<std::string_view> histograms;  // serialized v2 Histogram
  std::vector<WireExemplar> exemplars;
  WireMetadata metadata;

  void Clear() {
    labels_refs.clear();
    samples.clear();
    histograms.clear();
    exemplars.clear();
    metadata = WireMetadata{};
  }
};

bool ParseTimeSeries(std::string_view bytes, WireSeries* series) {
  series->Clear();
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t field;
    WireType type;
    if (!reader.ReadTag(&field, &type)) return false;
    if (field == 1 && IsRefsWireType(type)) {
      if (!ReadRefs(&reader, type, &series->labels_refs)) return false;
      continue;
    }
    if (type != WireType::kLengthDelimited || field < 2 || field > 5) {
      // Includes created_timestamp (6): accepted and not stored.
      if (!reader.SkipField(field, type)) return false;
      continue;
    }
    std::string_view value;
    if (!reader.ReadLengthDelimited(&value)) return false;
    switch (field) {
      case 2: {
        storage::Sample sample;
        if (!ParseSample(value, &sample)) return false;
        series->samples.push_back(sample);
        break;
      }
      case 3:
        series->histograms.push_back(value);
        break;
      case 4:
        series->exemplars.emplace_back();
        if (!ParseExemplar(value, &series->exemplars.back())) return false;
        break;
      default:
        if (!MergeMetadata(value, &series->metadata)) return false;
        break;
    }
  }
  return true;
}

// Resolves name/value reference pairs into labels (copies: symbols are
// shared). Checks pairing, ranges and UTF-8; the remaining label rules are
// CanonicalizeLabels'.
bool ResolveLabels(const std::vector<uint32_t>& refs, SymbolTable* symbols, const char* what,
                   Labels* labels, LabelProblem* problem) {
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
      problem->detail = std::string(what) + " label " + QuoteForError((*symbols)[name_ref], 64) +
                        " has a name or value that is not valid UTF-8";
      return false;
    }
  }
  return true;
}

// Checks a metadata text reference; false with *problem when invalid.
bool CheckTextRef(uint32_t ref, SymbolTable* symbols, const char* field, LabelProblem* problem) {
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
bool BuildLabels(const WireSeries& wire_series, SymbolTable* symbols, const LabelLimits& limits,
                 storage::SeriesWrite* out, LabelProblem* problem) {
  return ResolveLabels(wire_series.labels_refs, symbols, "series", &out->labels, problem) &&
         CanonicalizeLabels(&out->labels, limits, LabelSetKind::kSeries, /*utf8_already_checked=*/true,
                            problem);
}

// Validates and converts everything of one parsed series but its labels into
// *out. Returns Corruption for unparsable histograms; otherwise OK, with
// *rejected set and *problem filled when the series is invalid.
Status BuildPayload(const WireSeries& wire_series, SymbolTable* symbols, const LabelLimits& limits,
                    storage::SeriesWrite* out, bool* rejected, LabelProblem* problem) {
  *rejected = true;
  if (!wire_series.samples.empty() && !wire_series.histograms.empty()) {
    problem->reason = RejectReason::kSamplesAndHistograms;
    problem->detail = "series has both float samples and native histograms";
    return Status::OK();
  }
  if (wire_series.metadata.present &&
      (!CheckTextRef(wire_series.metadata.help_ref, symbols, "help_ref", problem) ||
       !CheckTextRef(wire_series.metadata.unit_ref, symbols, "unit_ref", problem))) {
    return Status::OK();
  }
  out->samples = wire_series.samples;

  out->histograms.resize(wire_series.histograms.size());
  // Constructed only when needed: most series carry no histogram.
  std::optional<wire::Histogram> histogram_storage;
  if (!out->histograms.empty()) histogram_storage.emplace();
  for (size_t i = 0; i < wire_series.histograms.size(); ++i) {
    const std::string_view bytes = wire_series.histograms[i];
    auto& histogram = *histogram_storage;
    if (!histogram.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Status::Corruption("invalid io.prometheus.write.v2.Histogram message");
    }
    HistogramFromProto(histogram, &out->histograms[i]);
    std::string mismatch = CheckHistogramBuckets(out->histograms[i]);
    if (!mismatch.empty()) {
      problem->reason = RejectReason::kInvalidHistogram;
      problem->detail = "histogram at " + std::to_string(histogram.timestamp()) + ": " + mismatch;
      return Status::OK();
    }
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
    if (!CanonicalizeLabels(&converted.labels, limits, LabelSetKind::kExemplar,
                            /*utf8_already_checked=*/true, problem)) {
      problem->detail = "exemplar " + problem->detail;
      return Status::OK();
    }
  }
  *rejected = false;
  return Status::OK();
}

// Appends the series key of `refs` resolved through `symbols` to *key.
// False (with *key partly written) when the references cannot be resolved:
// such a series is rejected by validation and never cached.
bool AppendKeyFromRefs(const std::vector<uint32_t>& refs, const SymbolTable& symbols, std::string* key) {
  if (refs.size() % 2 != 0) return false;
  for (size_t i = 0; i < refs.size(); i += 2) {
    if (!symbols.Contains(refs[i]) || !symbols.Contains(refs[i + 1])) return false;
    AppendSeriesKeyLabel(symbols[refs[i]], symbols[refs[i + 1]], key);
  }
  return true;
}

// The metric name of a series found in the cache, read from its references
// (which were validated: in range, exactly one __name__ with a non-empty
// value; pairs with an empty value are dropped by canonicalization).
std::string_view MetricNameFromRefs(const std::vector<uint32_t>& refs, const SymbolTable& symbols) {
  for (size_t i = 0; i + 1 < refs.size(); i += 2) {
    if (symbols[refs[i]] == kMetricNameLabel && !symbols[refs[i + 1]].empty()) return symbols[refs[i + 1]];
  }
  return {};
}

// Transparent hashing so families can be looked up by string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
using FamilyIndex = std::unordered_map<std::string, size_t, StringHash, std::equal_to<>>;

// Records the metadata of an accepted series, one entry per family.
void RecordMetadata(const WireMetadata& wire_metadata, std::string_view metric_name, SymbolTable* symbols,
                    FamilyIndex* family_index, DecodedRequest* out) {
  if (!wire_metadata.present) return;
  const storage::MetricType type = MetricTypeFromWire(wire_metadata.type);
  const std::string_view help = (*symbols)[wire_metadata.help_ref];
  const std::string_view unit = (*symbols)[wire_metadata.unit_ref];
  if (type == storage::MetricType::kUnknown && help.empty() && unit.empty()) return;
  const std::string_view family = MetricFamilyName(metric_name, type);
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

Status DecodeV2(std::string_view protobuf, const LabelLimits& limits, const SeriesRefCache* cache,
                DecodedRequest* out) {
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
                                   QuoteForError(symbol_views[0], 64));
  }

  // Pass 2: every series.
  SymbolTable symbols(symbol_views);
  FamilyIndex family_index;
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

    storage::SeriesWrite& series = out->input.series.emplace_back();
    bool rejected = true;
    LabelProblem problem;
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
        LabelProblem ignored;
        BuildLabels(wire_series, &symbols, limits, &series, &ignored);
      }
      std::string where = "series #" + std::to_string(index);
      if (!series.labels.empty()) where += " " + DescribeLabelsForError(series.labels);
      RecordProblem(out, problem.reason, problem.detail, where);
      out->input.series.pop_back();
      keys.resize(key_offset);
      continue;
    }
    const std::string_view metric_name =
        ref != 0 ? MetricNameFromRefs(wire_series.labels_refs, symbols) : MetricName(series.labels);
    RecordMetadata(wire_series.metadata, metric_name, &symbols, &family_index, out);
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
