#include "storage/prometheus_tsdb/block_writer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "storage/prometheus_tsdb/crc32c.h"
#include "storage/prometheus_tsdb/encoding.h"
#include "storage/prometheus_tsdb/file_writer.h"
#include "storage/prometheus_tsdb/index_writer.h"
#include "storage/prometheus_tsdb/ulid.h"
#include "storage/prometheus_tsdb/xor_chunk.h"

namespace tsvault::prometheus_tsdb {

namespace {

constexpr uint32_t kChunksMagic = 0x85BD40DD;
constexpr uint8_t kChunksFormatV1 = 1;
constexpr uint8_t kXorEncoding = 1;
// A chunk segment file is cut before it would grow past this
// (chunks.DefaultChunkSegmentSize).
constexpr uint64_t kMaxSegmentBytes = 512ull << 20;
constexpr uint32_t kTombstonesMagic = 0x0130BA30;

namespace fs = std::filesystem;

Status FilesystemError(std::string_view what, const fs::path& path, const std::error_code& error) {
  return Status::IOError(std::string(what) + " " + path.string() + ": " + error.message());
}

}  // namespace

class BlockWriter::Impl {
 public:
  Impl(const std::string& parent, int64_t min_time_ms, int64_t max_time_ms)
      : parent_(parent), min_time_ms_(min_time_ms), max_time_ms_(max_time_ms) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    ulid_ = NewUlid(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
    directory_ = fs::path(parent) / (ulid_ + ".tmp-for-creation");
  }

  ~Impl() {
    if (!finished_) {
      std::error_code ignored;
      fs::remove_all(directory_, ignored);
    }
  }

  Status Start() {
    std::error_code error;
    if (!fs::create_directory(directory_, error)) return FilesystemError("cannot create", directory_, error);
    if (!fs::create_directory(directory_ / "chunks", error)) {
      return FilesystemError("cannot create", directory_ / "chunks", error);
    }
    return CutSegment();
  }

  Status AddSeries(const Labels& labels, const std::vector<model::Sample>& samples) {
    if (samples.empty()) return Status::OK();
    if (labels.empty()) return Status::InvalidArgument("block: a series without labels");
    if (!series_.empty() && CompareLabels(series_.back().labels, labels) >= 0) {
      return Status::InvalidArgument("block: series added out of label order");
    }
    IndexSeries entry;
    entry.labels = labels;
    int64_t previous = INT64_MIN;
    for (const model::Sample& sample : samples) {
      if (sample.timestamp_ms < min_time_ms_ || sample.timestamp_ms >= max_time_ms_) {
        return Status::InvalidArgument("block: sample at " + std::to_string(sample.timestamp_ms) +
                                       " outside the block's range");
      }
      if (sample.timestamp_ms <= previous) return Status::InvalidArgument("block: timestamps not increasing");
      previous = sample.timestamp_ms;
      encoder_.Append(sample.timestamp_ms, sample.value);
      if (encoder_.num_samples() == kSamplesPerChunk) {
        Status s = WriteChunk(&entry);
        if (!s.ok()) return s;
      }
    }
    if (encoder_.num_samples() > 0) {
      Status s = WriteChunk(&entry);
      if (!s.ok()) return s;
    }
    stats_.samples += samples.size();
    series_.push_back(std::move(entry));
    return Status::OK();
  }

  uint64_t series_count() const { return series_.size(); }

  Status Finish(std::string* ulid, BlockStats* stats) {
    ulid->clear();
    *stats = {};
    if (series_.empty()) return Status::OK();  // the destructor removes the directory
    Status s = segment_.SyncAndClose();
    if (!s.ok()) return s;
    stats_.bytes += segment_.position();
    if (!(s = WriteIndex((directory_ / "index").string(), series_)).ok()) return s;
    if (!(s = WriteMeta()).ok()) return s;
    if (!(s = WriteTombstones()).ok()) return s;
    if (!(s = SyncDirectory((directory_ / "chunks").string())).ok()) return s;
    if (!(s = SyncDirectory(directory_.string())).ok()) return s;
    std::error_code error;
    stats_.bytes += fs::file_size(directory_ / "index", error);
    const fs::path final_directory = fs::path(parent_) / ulid_;
    fs::rename(directory_, final_directory, error);
    if (error) return FilesystemError("cannot rename into place", directory_, error);
    finished_ = true;
    if (!(s = SyncDirectory(parent_)).ok()) return s;
    stats_.series = series_.size();
    *ulid = ulid_;
    *stats = stats_;
    return Status::OK();
  }

 private:
  // Starts chunk segment file number segments_ + 1 with its header.
  Status CutSegment() {
    if (segments_ > 0) {
      Status s = segment_.SyncAndClose();
      if (!s.ok()) return s;
      stats_.bytes += segment_.position();
    }
    ++segments_;
    char name[16];
    std::snprintf(name, sizeof(name), "%06u", segments_);
    Status s = segment_.Open((directory_ / "chunks" / name).string());
    if (!s.ok()) return s;
    std::string header;
    PutBigEndian32(&header, kChunksMagic);
    header.push_back(static_cast<char>(kChunksFormatV1));
    header.append(3, '\0');
    return segment_.Write(header);
  }

  // Writes the encoder's chunk to the segment file and notes it in `entry`.
  Status WriteChunk(IndexSeries* entry) {
    ChunkMeta meta;
    meta.min_time_ms = encoder_.min_time();
    meta.max_time_ms = encoder_.max_time();
    std::string record;
    const std::string data = encoder_.Finish();
    PutUvarint(&record, data.size());
    const size_t checked_from = record.size();
    record.push_back(static_cast<char>(kXorEncoding));
    record.append(data);
    PutBigEndian32(&record, Crc32c(std::string_view(record).substr(checked_from)));
    if (segment_.position() > 8 && segment_.position() + record.size() > kMaxSegmentBytes) {
      Status s = CutSegment();
      if (!s.ok()) return s;
    }
    meta.ref = uint64_t{segments_ - 1} << 32 | segment_.position();
    Status s = segment_.Write(record);
    if (!s.ok()) return s;
    entry->chunks.push_back(meta);
    ++stats_.chunks;
    return Status::OK();
  }

  Status WriteMeta() {
    nlohmann::ordered_json meta;
    meta["ulid"] = ulid_;
    meta["minTime"] = min_time_ms_;
    meta["maxTime"] = max_time_ms_;
    meta["stats"] = {{"numSamples", stats_.samples}, {"numSeries", series_.size()}, {"numChunks", stats_.chunks}};
    meta["compaction"] = {{"level", 1}, {"sources", {ulid_}}};
    meta["version"] = 1;
    return WriteSmallFile("meta.json", meta.dump(1, '\t'));
  }

  // An empty tombstones file: magic, version 1, CRC32C of the (no) entries.
  Status WriteTombstones() {
    std::string content;
    PutBigEndian32(&content, kTombstonesMagic);
    content.push_back(1);
    PutBigEndian32(&content, Crc32c(""));
    return WriteSmallFile("tombstones", content);
  }

  Status WriteSmallFile(const std::string& name, const std::string& content) {
    FileWriter file;
    Status s = file.Open((directory_ / name).string());
    if (s.ok()) s = file.Write(content);
    if (s.ok()) s = file.SyncAndClose();
    stats_.bytes += content.size();
    return s;
  }

  const std::string parent_;
  const int64_t min_time_ms_;
  const int64_t max_time_ms_;
  std::string ulid_;
  fs::path directory_;
  bool finished_ = false;
  unsigned segments_ = 0;
  FileWriter segment_;
  XorChunkEncoder encoder_;
  std::vector<IndexSeries> series_;
  BlockStats stats_;
};

BlockWriter::BlockWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlockWriter::~BlockWriter() = default;

Status BlockWriter::Create(const std::string& parent, int64_t min_time_ms, int64_t max_time_ms,
                           std::unique_ptr<BlockWriter>* out) {
  if (min_time_ms >= max_time_ms) return Status::InvalidArgument("block: empty time range");
  auto impl = std::make_unique<Impl>(parent, min_time_ms, max_time_ms);
  Status s = impl->Start();
  if (!s.ok()) return s;
  out->reset(new BlockWriter(std::move(impl)));
  return Status::OK();
}

Status BlockWriter::AddSeries(const Labels& labels, const std::vector<model::Sample>& samples) {
  return impl_->AddSeries(labels, samples);
}

uint64_t BlockWriter::series_count() const { return impl_->series_count(); }

Status BlockWriter::Finish(std::string* ulid, BlockStats* stats) { return impl_->Finish(ulid, stats); }

}  // namespace tsvault::prometheus_tsdb
