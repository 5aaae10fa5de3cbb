#include "remote_write/decoder_v2_wire.h"

#include "remote_write/decoder.h"
#include "remote_write/series_ref_cache.h"
#include "remote_write/wire_reader.h"

namespace tsvault::remote_write::internal::v2 {

namespace {

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
  // Every value takes at least one byte: room for all, trimmed at the end.
  const size_t start = refs->size();
  refs->resize(start + packed.size());
  uint32_t* out = refs->data() + start;
  WireReader values(packed);
  while (!values.done()) {
    const int byte = values.PeekByte();
    if (byte < 0x80) {  // one-byte varint: the usual case for symbol references
      values.SkipByte();
      *out++ = static_cast<uint32_t>(byte);
    } else {
      if (!values.ReadVarint(&value)) return false;
      *out++ = static_cast<uint32_t>(value);
    }
  }
  refs->resize(static_cast<size_t>(out - refs->data()));
  return true;
}

bool IsRefsWireType(WireType type) { return type == WireType::kVarint || type == WireType::kLengthDelimited; }

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

}  // namespace

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

bool AppendKeyFromRefs(const std::vector<uint32_t>& refs, const SymbolTable& symbols, std::string* key) {
  if (refs.size() % 2 != 0) return false;
  // Room for the worst case (every varint 10 bytes), trimmed at the end.
  size_t bound = 0;
  for (uint32_t ref : refs) {
    if (!symbols.Contains(ref)) return false;
    bound += symbols[ref].size() + 11;
  }
  bound += refs.size() / 2 * 11;
  const size_t start = key->size();
  key->resize(start + bound);
  char* out = key->data() + start;
  for (size_t i = 0; i < refs.size(); i += 2) out = WriteSeriesKeyLabel(symbols[refs[i]], symbols[refs[i + 1]], out);
  key->resize(static_cast<size_t>(out - key->data()));
  return true;
}

bool FindMetricNameRef(const std::vector<uint32_t>& refs, const SymbolTable& symbols, uint32_t* value_ref) {
  for (size_t i = 0; i + 1 < refs.size(); i += 2) {
    if (symbols[refs[i]] == kMetricNameLabel && !symbols[refs[i + 1]].empty()) {
      *value_ref = refs[i + 1];
      return true;
    }
  }
  return false;
}

}  // namespace tsvault::remote_write::internal::v2
