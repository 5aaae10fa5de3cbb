// STREAMED_XOR_CHUNKS remote-read responses (docs/remote-read.md): each
// series of each query, in label order, re-encoded as Prometheus XOR chunks
// of up to 120 samples and sent in frames of about max_bytes_in_frame.
#include <spdlog/spdlog.h>

#include "proto/remote_read.pb.h"
#include "query/api/remote_read.h"
#include "storage/prometheus_tsdb/frame.h"
#include "storage/prometheus_tsdb/xor_chunk.h"

namespace tsvault::query {

namespace {

// The state of one streamed response, advanced by one frame per call.
class StreamedRead {
 public:
  StreamedRead(storage::DB* db, std::vector<ReadSelection> selections, int64_t max_bytes_in_frame,
               std::shared_ptr<void> hold)
      : db_(db), selections_(std::move(selections)), max_bytes_in_frame_(max_bytes_in_frame), hold_(std::move(hold)) {}

  ~StreamedRead() {
    if (histograms_skipped_ > 0) {
      spdlog::warn("remote read: {} native histogram samples left out of a streamed response (XOR chunks carry "
                   "floats only)",
                   histograms_skipped_);
    }
  }

  http::BodyStep Next(std::string* piece) {
    for (;;) {
      if (!samples_) {
        Status s = NextSeries();
        if (!s.ok()) {
          spdlog::error("remote read: streamed response aborted: {}", s.ToString());
          return http::BodyStep::kAbort;
        }
        if (!samples_) return http::BodyStep::kEnd;  // every query answered
      }
      if (FillFrame(piece)) return http::BodyStep::kMore;
    }
  }

 private:
  // Moves to the next series with samples, across queries; samples_ stays
  // empty at the end.
  Status NextSeries() {
    while (query_ < selections_.size()) {
      if (!set_) {
        const ReadSelection& selection = selections_[query_];
        if (selection.empty) {
          ++query_;
          continue;
        }
        Status s = db_->Select(selection.hints, selection.matchers, &set_);
        if (!s.ok()) return s;
      }
      if (set_->Next()) {
        labels_ = set_->labels();
        samples_ = set_->Samples();
        return Status::OK();
      }
      if (!set_->status().ok()) return set_->status();
      set_.reset();
      ++query_;
    }
    return Status::OK();
  }

  // Puts the next frame of the current series into *piece: chunks until the
  // frame budget is spent or the series ends. False when the series ended
  // without a float sample (nothing to send).
  bool FillFrame(std::string* piece) {
    prometheus::ChunkedReadResponse frame;
    frame.set_query_index(static_cast<int64_t>(query_));
    prometheus::ChunkedSeries* series = frame.add_chunked_series();
    int64_t budget = max_bytes_in_frame_;
    for (const Label& label : labels_) {
      prometheus::Label* out = series->add_labels();
      out->set_name(label.name);
      out->set_value(label.value);
      budget -= static_cast<int64_t>(out->ByteSizeLong());
    }
    auto add_chunk = [&] {
      prometheus::Chunk* chunk = series->add_chunks();
      chunk->set_min_time_ms(encoder_.min_time());
      chunk->set_max_time_ms(encoder_.max_time());
      chunk->set_type(prometheus::Chunk::XOR);
      chunk->set_data(encoder_.Finish());
      budget -= static_cast<int64_t>(chunk->ByteSizeLong());
    };
    // At least one chunk per frame (or the series' end), so a frame exceeds
    // the budget by at most one chunk, as in Prometheus.
    bool ended = false;
    while (!ended) {
      if (!samples_->Next()) {
        ended = true;
        break;
      }
      if (samples_->is_histogram()) {
        ++histograms_skipped_;
        continue;
      }
      encoder_.Append(samples_->timestamp(), samples_->value());
      if (encoder_.num_samples() == prometheus_tsdb::kSamplesPerChunk) {
        add_chunk();
        if (budget <= 0) break;
      }
    }
    if (ended) {
      if (encoder_.num_samples() > 0) add_chunk();
      samples_.reset();
    }
    if (series->chunks_size() == 0) return false;
    piece->clear();
    prometheus_tsdb::AppendChunkedFrame(frame.SerializeAsString(), piece);
    return true;
  }

  storage::DB* const db_;
  const std::vector<ReadSelection> selections_;
  const int64_t max_bytes_in_frame_;
  const std::shared_ptr<void> hold_;
  size_t query_ = 0;
  std::unique_ptr<storage::SeriesSet> set_;
  Labels labels_;
  std::unique_ptr<storage::SampleIterator> samples_;  // the current series; empty between series
  prometheus_tsdb::XorChunkEncoder encoder_;
  uint64_t histograms_skipped_ = 0;
};

}  // namespace

http::BodySource StreamedReadBody(storage::DB* db, std::vector<ReadSelection> selections,
                                  int64_t max_bytes_in_frame, std::shared_ptr<void> hold) {
  auto read = std::make_shared<StreamedRead>(db, std::move(selections), max_bytes_in_frame, std::move(hold));
  return [read](std::string* piece) { return read->Next(piece); };
}

}  // namespace tsvault::query
