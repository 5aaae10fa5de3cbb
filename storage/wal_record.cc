#include "storage/wal_record.h"

#include <vector>

#include "storage/chunkenc/chunk.h"
#include "storage/coding.h"

namespace tsvault::storage {

void WalRecordBuilder::AddFloats(uint64_t series_id, const Sample* samples, size_t count) {
  if (count == 0) return;
  data_.push_back(static_cast<char>(WalEntryKind::kFloatSamples));
  PutVarint64(&data_, series_id);
  PutVarint64(&data_, count);
  int64_t previous = 0;
  for (size_t i = 0; i < count; ++i) {
    // Modulo 2^64 (well defined for any pair of int64 timestamps); the
    // reader adds it back the same way.
    PutVarsint64(&data_, static_cast<int64_t>(static_cast<uint64_t>(samples[i].timestamp_ms) -
                                              static_cast<uint64_t>(previous)));
    previous = samples[i].timestamp_ms;
    PutDouble(&data_, samples[i].value);
  }
}

void WalRecordBuilder::AddHistograms(uint64_t series_id, const Histogram* histograms,
                                     size_t count) {
  if (count == 0) return;
  data_.push_back(static_cast<char>(WalEntryKind::kHistogramSamples));
  PutVarint64(&data_, series_id);
  PutVarint64(&data_, count);
  for (size_t i = 0; i < count; ++i) {
    // Each histogram is stored as a one-sample histogram chunk.
    HistogramChunkAppender appender;
    appender.Append(histograms[i]);
    PutLengthPrefixed(&data_, appender.bytes());
  }
}

void WalRecordBuilder::AddExemplars(uint64_t series_id, const Exemplar* exemplars, size_t count) {
  if (count == 0) return;
  data_.push_back(static_cast<char>(WalEntryKind::kExemplars));
  PutVarint64(&data_, series_id);
  PutVarint64(&data_, count);
  int64_t previous = 0;
  for (size_t i = 0; i < count; ++i) {
    PutVarsint64(&data_, static_cast<int64_t>(static_cast<uint64_t>(exemplars[i].timestamp_ms) -
                                              static_cast<uint64_t>(previous)));
    previous = exemplars[i].timestamp_ms;
    PutDouble(&data_, exemplars[i].value);
    PutVarint64(&data_, exemplars[i].labels.size());
    for (const Label& label : exemplars[i].labels) {
      PutLengthPrefixed(&data_, label.name);
      PutLengthPrefixed(&data_, label.value);
    }
  }
}

void WalRecordBuilder::AddMetadata(const MetricMetadata* metadata, size_t count) {
  if (count == 0) return;
  data_.push_back(static_cast<char>(WalEntryKind::kMetadata));
  PutVarint64(&data_, 0);
  PutVarint64(&data_, count);
  for (size_t i = 0; i < count; ++i) {
    data_.push_back(static_cast<char>(metadata[i].type));
    PutLengthPrefixed(&data_, metadata[i].metric_family_name);
    PutLengthPrefixed(&data_, metadata[i].help);
    PutLengthPrefixed(&data_, metadata[i].unit);
  }
}

Status DecodeWalRecord(std::string_view record,
                       const std::function<void(uint64_t, std::span<const Sample>)>& on_floats,
                       const std::function<void(uint64_t, const Histogram&)>& on_histogram,
                       const std::function<void(uint64_t, const Exemplar&)>& on_exemplar,
                       const std::function<void(const MetricMetadata&)>& on_metadata) {
  ByteReader reader(record);
  std::vector<Sample> run;  // one entry's float samples
  while (!reader.empty()) {
    uint8_t kind;
    uint64_t series_id, count;
    if (!reader.GetByte(&kind) || !reader.GetVarint64(&series_id) || !reader.GetVarint64(&count)) {
      return Status::Corruption("truncated WAL record entry header");
    }
    if (kind == static_cast<uint8_t>(WalEntryKind::kFloatSamples)) {
      // A sample takes at least 9 bytes: a count past that is damage.
      if (count > reader.remaining() / 9) return Status::Corruption("truncated WAL float sample");
      run.resize(count);
      int64_t previous = 0;
      for (Sample& sample : run) {
        int64_t delta;
        if (!reader.GetVarsint64(&delta) || !reader.GetDouble(&sample.value)) {
          return Status::Corruption("truncated WAL float sample");
        }
        sample.timestamp_ms = static_cast<int64_t>(static_cast<uint64_t>(previous) + static_cast<uint64_t>(delta));
        previous = sample.timestamp_ms;
      }
      on_floats(series_id, run);
    } else if (kind == static_cast<uint8_t>(WalEntryKind::kHistogramSamples)) {
      for (uint64_t i = 0; i < count; ++i) {
        std::string_view chunk;
        if (!reader.GetLengthPrefixed(&chunk)) return Status::Corruption("truncated WAL histogram");
        ChunkIterator it(chunk);
        if (!it.Next() || !it.is_histogram()) {
          return Status::Corruption("bad WAL histogram: " + it.status().ToString());
        }
        on_histogram(series_id, it.histogram());
      }
    } else if (kind == static_cast<uint8_t>(WalEntryKind::kExemplars)) {
      int64_t previous = 0;
      for (uint64_t i = 0; i < count; ++i) {
        int64_t delta;
        uint64_t labels;
        Exemplar exemplar;
        if (!reader.GetVarsint64(&delta) || !reader.GetDouble(&exemplar.value) || !reader.GetVarint64(&labels) ||
            labels > reader.remaining() / 2) {
          return Status::Corruption("truncated WAL exemplar");
        }
        exemplar.timestamp_ms = static_cast<int64_t>(static_cast<uint64_t>(previous) + static_cast<uint64_t>(delta));
        previous = exemplar.timestamp_ms;
        for (uint64_t l = 0; l < labels; ++l) {
          std::string_view name, value;
          if (!reader.GetLengthPrefixed(&name) || !reader.GetLengthPrefixed(&value)) {
            return Status::Corruption("truncated WAL exemplar label");
          }
          exemplar.labels.push_back(Label{std::string(name), std::string(value)});
        }
        if (on_exemplar) on_exemplar(series_id, exemplar);
      }
    } else if (kind == static_cast<uint8_t>(WalEntryKind::kMetadata)) {
      for (uint64_t i = 0; i < count; ++i) {
        uint8_t type;
        std::string_view family, help, unit;
        if (!reader.GetByte(&type) || !reader.GetLengthPrefixed(&family) || !reader.GetLengthPrefixed(&help) ||
            !reader.GetLengthPrefixed(&unit)) {
          return Status::Corruption("truncated WAL metadata");
        }
        if (type > static_cast<uint8_t>(MetricType::kStateset)) return Status::Corruption("bad WAL metadata type");
        MetricMetadata metadata;
        metadata.type = static_cast<MetricType>(type);
        metadata.metric_family_name = family;
        metadata.help = help;
        metadata.unit = unit;
        if (on_metadata) on_metadata(metadata);
      }
    } else {
      return Status::Corruption("unknown WAL entry kind " + std::to_string(kind));
    }
  }
  return Status::OK();
}

}  // namespace tsvault::storage
