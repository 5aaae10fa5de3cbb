#include "remote_write/forward/batch_builder.h"

#include <algorithm>
#include <cstring>

#include "remote_write/encoder.h"

namespace tsvault::forward {

namespace {

void PutVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

size_t VarintSize(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

// Field tags: (number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited).
constexpr char kLengthDelimited1 = 0x0a;  // field 1, bytes
constexpr char kLengthDelimited2 = 0x12;  // field 2, bytes
constexpr char kFixed64Field1 = 0x09;     // field 1, double
constexpr char kVarintField2 = 0x10;      // field 2, int64

void PutString(std::string* out, char tag, const std::string& value) {
  out->push_back(tag);
  PutVarint(out, value.size());
  out->append(value);
}

// WriteRequest.timeseries (field 1) = TimeSeries{labels (field 1, pre-encoded),
// samples (field 2): Sample{value = 1 (double), timestamp = 2 (int64)}}.
void AppendV1Floats(const std::string& v1_labels, const storage::Sample* samples, size_t count, std::string* out) {
  size_t series_size = v1_labels.size();
  for (size_t i = 0; i < count; ++i) {
    const size_t sample_size = 1 + 8 + 1 + VarintSize(static_cast<uint64_t>(samples[i].timestamp_ms));
    series_size += 1 + VarintSize(sample_size) + sample_size;
  }
  out->push_back(kLengthDelimited1);
  PutVarint(out, series_size);
  out->append(v1_labels);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t timestamp = static_cast<uint64_t>(samples[i].timestamp_ms);
    out->push_back(kLengthDelimited2);
    PutVarint(out, 1 + 8 + 1 + VarintSize(timestamp));
    out->push_back(kFixed64Field1);
    char bits[8];
    std::memcpy(bits, &samples[i].value, 8);  // little-endian, as protobuf's fixed64
    out->append(bits, 8);
    out->push_back(kVarintField2);
    PutVarint(out, timestamp);
  }
}

}  // namespace

std::string EncodeV1Labels(const Labels& labels) {
  std::string out;
  for (const Label& label : labels) {
    std::string encoded;
    PutString(&encoded, kLengthDelimited1, label.name);
    PutString(&encoded, kLengthDelimited2, label.value);
    PutString(&out, kLengthDelimited1, encoded);
  }
  return out;
}

Status Batch::Encode(remote_write::Protocol protocol, std::string* body) const {
  if (protocol != remote_write::Protocol::kV1) return remote_write::EncodeWriteRequest(input, protocol, body);
  // Serialized messages concatenate into their merge: the hand-encoded
  // series, then whatever the generic encoder writes.
  std::string protobuf = v1_series;
  if (!input.series.empty() || !input.metadata.empty()) {
    std::string rest;
    Status s = remote_write::SerializeWriteRequest(input, protocol, &rest);
    if (!s.ok()) return s;
    protobuf += rest;
  }
  *body = remote_write::SnappyCompress(protobuf);
  return Status::OK();
}

BatchBuilder::BatchBuilder(remote_write::Protocol protocol, size_t max_points, size_t shards)
    : protocol_(protocol), max_points_(std::max<size_t>(1, max_points)), shards_(std::max<size_t>(1, shards)) {}

Batch& BatchBuilder::Open(size_t shard, bool resent) {
  std::vector<Batch>& batches = shards_[shard];
  if (batches.empty() || batches.back().points() >= max_points_) batches.emplace_back();
  batches.back().resent = batches.back().resent || resent;
  return batches.back();
}

size_t BatchBuilder::ShardOf(uint64_t series_id) const {
  uint64_t mixed = series_id;
  mixed ^= mixed >> 33;
  mixed *= 0xff51afd7ed558ccdULL;
  mixed ^= mixed >> 33;
  return mixed % shards_.size();
}

void BatchBuilder::AddSamples(uint64_t series_id, const TargetSeries& series, std::span<const storage::Sample> samples,
                              bool resent) {
  const size_t shard = ShardOf(series_id);
  size_t next = 0;
  while (next < samples.size()) {
    Batch& batch = Open(shard, resent);
    const size_t take = std::min(max_points_ - batch.points(), samples.size() - next);
    const storage::Sample* first = samples.data() + next;
    for (size_t i = 0; i < take; ++i) batch.max_timestamp_ms = std::max(batch.max_timestamp_ms, first[i].timestamp_ms);
    if (protocol_ == remote_write::Protocol::kV1) {
      AppendV1Floats(series.v1_labels, first, take, &batch.v1_series);
    } else {
      storage::SeriesWrite write;
      write.labels = series.labels;
      write.samples.assign(first, first + take);
      batch.input.series.push_back(std::move(write));
    }
    batch.samples += take;
    next += take;
  }
}

void BatchBuilder::AddHistogramsAndExemplars(uint64_t series_id, const TargetSeries& series,
                                             const storage::LogEntry& entry, bool resent) {
  const size_t shard = ShardOf(series_id);
  size_t next = 0;
  while (next < entry.histograms.size()) {
    Batch& batch = Open(shard, resent);
    const size_t take = std::min(max_points_ - batch.points(), entry.histograms.size() - next);
    storage::SeriesWrite write;
    write.labels = series.labels;
    write.histograms.assign(entry.histograms.begin() + static_cast<ptrdiff_t>(next),
                            entry.histograms.begin() + static_cast<ptrdiff_t>(next + take));
    for (const storage::Histogram& h : write.histograms) batch.max_timestamp_ms = std::max(batch.max_timestamp_ms, h.timestamp_ms);
    batch.histograms += take;
    next += take;
    batch.input.series.push_back(std::move(write));
  }
  if (!entry.exemplars.empty()) {
    // Exemplars travel in their own series entry, after the samples.
    Batch& batch = shards_[shard].empty() ? Open(shard, resent) : shards_[shard].back();
    storage::SeriesWrite write;
    write.labels = series.labels;
    write.exemplars = entry.exemplars;
    batch.exemplars += entry.exemplars.size();
    batch.input.series.push_back(std::move(write));
  }
}

void BatchBuilder::AddMetadata(const std::vector<storage::MetricMetadata>& metadata) {
  if (metadata.empty()) return;
  Batch batch;
  batch.input.metadata = metadata;
  batch.metadata = metadata.size();
  shards_[0].insert(shards_[0].begin(), std::move(batch));
}

}  // namespace tsvault::forward
