// The read path: series selection, sample iteration, label queries.
#include <rocksdb/db.h>

#include <algorithm>
#include <set>

#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"
#include "storage/persisted_index.h"
#include "storage/sample_merge.h"

namespace tsvault::storage {

namespace {
bool IsFullRange(int64_t mint, int64_t maxt) {
  return mint <= std::numeric_limits<int64_t>::min() / 2 &&
         maxt >= std::numeric_limits<int64_t>::max() / 2;
}
}  // namespace

// Iterates the series chosen by DBImpl::Select, decoding samples on demand.
class DBSeriesSet final : public SeriesSet {
 public:
  DBSeriesSet(DBImpl* db, std::vector<DBImpl::SelectedSeries> series, int64_t mint, int64_t maxt,
              int64_t max_resolution_ms, bool bulk)
      : db_(db), series_(std::move(series)), mint_(mint), maxt_(maxt), max_resolution_ms_(max_resolution_ms),
        bulk_(bulk), iterator_(db->NewChunkIterator(/*fill_cache=*/!bulk)) {}

  bool Next() override {
    while (true) {
      // position_ starts at SIZE_MAX; unsigned wrap-around makes it 0.
      if (position_ == static_cast<size_t>(-1) || position_ < series_.size()) ++position_;
      positioned_ = false;
      if (position_ >= series_.size()) return false;
      if (!series_[position_].unprobed) return true;
      bool has_data = false;
      Status s = db_->ProbeSeries(series_[position_].id, mint_, maxt_, max_resolution_ms_, iterator_.get(),
                                  &has_data, &positioned_);
      if (!s.ok()) {
        status_ = s;
        position_ = series_.size();
        return false;
      }
      if (has_data) return true;
    }
  }
  const Labels& labels() const override { return series_[position_].labels; }
  std::unique_ptr<SampleIterator> Samples() const override {
    std::vector<ChunkData> chunks;
    std::unique_ptr<SampleIterator> out;
    Status s = db_->CollectChunks(series_[position_].id, mint_, maxt_, iterator_.get(), &chunks, positioned_);
    positioned_ = false;
    if (s.ok()) s = MergeChunks(std::move(chunks), mint_, maxt_, &out);
    if (!s.ok()) {
      status_ = s;
      MergeChunks({}, mint_, maxt_, &out);
    }
    return out;
  }
  Status status() const override { return status_; }

  std::vector<std::unique_ptr<SeriesSet>> Split(size_t max_parts, size_t min_series_per_part) override {
    const size_t first = position_ == static_cast<size_t>(-1) ? 0 : std::min(position_ + 1, series_.size());
    const size_t remaining = series_.size() - first;
    const size_t parts = std::min(max_parts, remaining / std::max<size_t>(min_series_per_part, 1));
    std::vector<std::unique_ptr<SeriesSet>> out;
    if (parts < 2) return out;
    for (size_t i = 0; i < parts; ++i) {
      auto begin = series_.begin() + static_cast<std::ptrdiff_t>(first + remaining * i / parts);
      auto end = series_.begin() + static_cast<std::ptrdiff_t>(first + remaining * (i + 1) / parts);
      std::vector<DBImpl::SelectedSeries> slice(std::make_move_iterator(begin), std::make_move_iterator(end));
      out.push_back(std::make_unique<DBSeriesSet>(db_, std::move(slice), mint_, maxt_, max_resolution_ms_, bulk_));
    }
    position_ = series_.size();
    return out;
  }

  Status Windows(int64_t resolution_ms, std::vector<model::FloatWindow>* out) const override {
    out->clear();
    const int index = RollupResolutionIndex(resolution_ms);
    if (index < 0) return Status::InvalidArgument("no rollups at resolution " + std::to_string(resolution_ms) + " ms");
    const uint64_t id = series_[position_].id;
    int64_t min_time, max_time;
    const bool has_raw = db_->SeriesTimeRange(id, &min_time, &max_time);
    const int64_t raw_cutoff = db_->RetentionCutoff(0);
    if (raw_cutoff != std::numeric_limits<int64_t>::min() && mint_ < raw_cutoff) {
      // Retention dropped raw samples of the range; rollups still hold them.
      min_time = std::numeric_limits<int64_t>::min();
      max_time = has_raw ? std::max(max_time, raw_cutoff) : raw_cutoff;
    } else if (!has_raw) {
      return Status::OK();
    }
    // Only windows that can hold data: clamping also keeps the window
    // arithmetic away from the int64 limits of open-ended selections.
    constexpr int64_t kLimit = model::kRollupTimeLimitMs;
    const int64_t low = std::max({mint_, min_time, -kLimit + 1});
    const int64_t high = std::min({maxt_, max_time, kLimit - 1});
    if (low > high) return Status::OK();
    const int64_t first_end = model::WindowEnd(low, resolution_ms);
    const int64_t last_end = model::WindowEnd(high, resolution_ms);
    return db_->ReadWindows(index, id, first_end, last_end, out);
  }

 private:
  DBImpl* db_;
  std::vector<DBImpl::SelectedSeries> series_;
  int64_t mint_, maxt_;
  int64_t max_resolution_ms_;
  bool bulk_;
  std::unique_ptr<rocksdb::Iterator> iterator_;
  size_t position_ = static_cast<size_t>(-1);
  // iterator_ is where ProbeSeries left it for the current series.
  mutable bool positioned_ = false;
  mutable Status status_;
};

std::unique_ptr<rocksdb::Iterator> DBImpl::NewChunkIterator(bool fill_cache) {
  rocksdb::ReadOptions options;
  options.fill_cache = fill_cache;
  return std::unique_ptr<rocksdb::Iterator>(rocks_->NewIterator(options, cf(kChunks)));
}

Status DBImpl::ReadPersistedChunks(uint64_t series_id, int64_t mint, int64_t maxt, bool first_only,
                                   rocksdb::Iterator* iterator, std::vector<ChunkData>* chunks, bool seek) {
  if (seek) iterator->Seek(ChunkSeekKey(series_id, WindowSeekStart(mint)));
  for (; iterator->Valid(); iterator->Next()) {
    ChunkKeyParts parts;
    rocksdb::Slice key = iterator->key();
    if (!DecodeChunkKey(std::string_view(key.data(), key.size()), &parts)) {
      return Status::Corruption("bad chunk key");
    }
    if (parts.series_id != series_id || parts.min_time > maxt) break;
    int64_t max_time;
    std::string_view chunk;
    rocksdb::Slice value = iterator->value();
    if (!DecodeChunkValue(std::string_view(value.data(), value.size()), parts.min_time, &max_time,
                          &chunk)) {
      return Status::Corruption("bad chunk value for series " + std::to_string(series_id));
    }
    if (max_time < mint) continue;
    chunks->push_back(ChunkData{parts.chunk_sequence, parts.min_time, max_time, std::string(chunk)});
    if (first_only) break;
  }
  return FromRocks(iterator->status());
}

Status DBImpl::CollectChunks(uint64_t series_id, int64_t mint, int64_t maxt,
                             rocksdb::Iterator* iterator, std::vector<ChunkData>* chunks, bool positioned) {
  // Chunks lie in 2-hour windows and the raw cutoff is a whole day: a chunk
  // is either all before it (dropped, perhaps not yet compacted away) or
  // all after.
  mint = RawReadStart(mint);
  if (mint > maxt) return Status::OK();
  // The head first: a checkpoint running between the two reads moves data
  // from the head to disk, never the other way, so nothing is missed.
  {
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    if (series_id < series_by_id_.size() && series_by_id_[series_id]) {
      series_by_id_[series_id]->SnapshotChunks(mint, maxt, chunks);
    }
  }
  const size_t head_count = chunks->size();
  std::vector<ChunkData> persisted;
  Status s = ReadPersistedChunks(series_id, mint, maxt, false, iterator, &persisted, !positioned);
  if (!s.ok()) return s;
  for (ChunkData& chunk : persisted) {
    // The open chunk is persisted at checkpoints under its own sequence; the
    // head's copy is the newer superset.
    bool in_head = false;
    for (size_t i = 0; i < head_count && !in_head; ++i) {
      in_head = (*chunks)[i].sequence == chunk.sequence;
    }
    if (!in_head) chunks->push_back(std::move(chunk));
  }
  return Status::OK();
}

bool DBImpl::HasRollupsInRange(uint64_t series_id, int64_t mint, int64_t maxt, int64_t max_resolution_ms) {
  constexpr int64_t kLimit = model::kRollupTimeLimitMs;
  mint = std::max(mint, -kLimit + 1);
  maxt = std::min(maxt, kLimit - 1);
  if (mint > maxt) return false;
  for (int index = 0; index < 3; ++index) {
    const int64_t resolution = kRollupResolutions[index];
    if (resolution > max_resolution_ms) break;
    const int64_t cutoff = retention_cutoff_[index + 1].load(std::memory_order_acquire);
    const int64_t low = cutoff == std::numeric_limits<int64_t>::min() ? mint : std::max(mint, cutoff + 1);
    if (low > maxt) continue;
    std::unique_ptr<rocksdb::Iterator> it(
        rocks_->NewIterator(rocksdb::ReadOptions(), cf(RollupFamily(index))));
    it->Seek(RollupChunkKey(series_id, RollupSpanStart(model::WindowEnd(low, resolution), resolution)));
    if (it->Valid() && it->key().size() == 16 && DecodeFixed64BE(it->key().data()) == series_id &&
        KeyBitsToTimestamp(DecodeFixed64BE(it->key().data() + 8)) < maxt) {
      return true;
    }
  }
  return false;
}

Status DBImpl::ProbeSeries(uint64_t series_id, int64_t mint, int64_t maxt, int64_t max_resolution_ms,
                           rocksdb::Iterator* iterator, bool* has_data, bool* positioned) {
  const int64_t raw_mint = RawReadStart(mint);
  *has_data = false;
  *positioned = false;
  if (raw_mint <= maxt) {
    std::vector<ChunkData> first;
    Status s = ReadPersistedChunks(series_id, raw_mint, maxt, true, iterator, &first);
    if (!s.ok()) return s;
    *positioned = true;
    *has_data = !first.empty();
  }
  // Where retention dropped raw samples of the range, rollups may hold it.
  if (!*has_data && max_resolution_ms > 0 && mint < raw_mint) {
    *has_data = HasRollupsInRange(series_id, mint, maxt, max_resolution_ms);
  }
  return Status::OK();
}

Status DBImpl::SelectSeries(const std::vector<LabelMatcher>& matchers, int64_t mint, int64_t maxt,
                            bool require_selective_matcher, int64_t max_resolution_ms,
                            std::vector<SelectedSeries>* out, bool defer_probe) {
  if (require_selective_matcher) {
    bool selective = std::any_of(matchers.begin(), matchers.end(),
                                 [](const LabelMatcher& m) { return !m.MatchesEmpty(); });
    if (!selective) {
      return Status::InvalidArgument(
          "match[] must contain at least one non-empty matcher");
    }
  }
  // Where retention dropped raw samples, rollups may still hold the range.
  const int64_t requested_mint = mint;
  mint = RawReadStart(mint);
  const bool probe_rollups = max_resolution_ms > 0 && requested_mint < mint;
  out->clear();
  if (mint > maxt && !probe_rollups) return Status::OK();
  std::vector<SelectedSeries> candidates;
  std::vector<bool> in_head;
  SeriesIds resident;
  int64_t evicted_until;
  {
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    resident = postings_.Select(matchers);
    candidates.reserve(resident.size());
    for (uint64_t id : resident) {
      const MemSeries* series = series_by_id_[id].get();
      if (series == nullptr) continue;
      candidates.push_back(SelectedSeries{id, series->labels()});
      in_head.push_back(series->min_time() <= maxt && series->max_time() >= mint);
    }
    // Read with the resident set it describes.
    evicted_until = evicted_until_.load(std::memory_order_acquire);
  }
  if (evicted_until != std::numeric_limits<int64_t>::min() && requested_mint <= evicted_until) {
    // Series outside the head may hold data in the range: the persisted
    // index has them (and the resident ones, already taken).
    SeriesIds stored;
    Status s = SelectStoredSeries(matchers, &stored);
    if (!s.ok()) return s;
    SeriesIds others = MemPostings::Subtract(stored, resident);
    std::vector<rocksdb::Slice> keys;
    std::vector<std::string> key_bytes;
    key_bytes.reserve(others.size());
    for (uint64_t id : others) key_bytes.push_back(SeriesKey(id));
    for (const std::string& key : key_bytes) keys.emplace_back(key);
    std::vector<std::string> values(keys.size());
    std::vector<rocksdb::ColumnFamilyHandle*> families(keys.size(), cf(kSeries));
    std::vector<rocksdb::Status> statuses = rocks_->MultiGet(rocksdb::ReadOptions(), families, keys, &values);
    for (size_t i = 0; i < others.size(); ++i) {
      if (statuses[i].IsNotFound()) continue;  // removed meanwhile
      if (!statuses[i].ok()) return FromRocks(statuses[i]);
      Labels labels;
      if (!DecodeLabels(values[i], &labels)) {
        return Status::Corruption("bad labels for series " + std::to_string(others[i]));
      }
      candidates.push_back(SelectedSeries{others[i], std::move(labels)});
      in_head.push_back(false);
    }
  }
  // A request for all time lists every series known (as Prometheus lists
  // every series of its blocks), whatever retention dropped of its data.
  const bool full_range = IsFullRange(requested_mint, maxt);
  std::unique_ptr<rocksdb::Iterator> iterator;
  out->clear();
  out->reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!full_range && !in_head[i]) {
      if (defer_probe) {
        candidates[i].unprobed = true;
      } else {
        if (!iterator) iterator = NewChunkIterator();
        bool has_data, positioned;
        Status s = ProbeSeries(candidates[i].id, requested_mint, maxt, max_resolution_ms, iterator.get(), &has_data,
                               &positioned);
        if (!s.ok()) return s;
        if (!has_data) continue;
      }
    }
    out->push_back(std::move(candidates[i]));
  }
  std::sort(out->begin(), out->end(), [](const SelectedSeries& a, const SelectedSeries& b) {
    return CompareLabels(a.labels, b.labels) < 0;
  });
  return Status::OK();
}

Status DBImpl::Select(const SelectHints& hints, const std::vector<LabelMatcher>& matchers,
                      std::unique_ptr<SeriesSet>* out) {
  // Only raw samples are stored so far: every hint but the time range is
  // informational until downsampled resolutions exist.
  std::vector<SelectedSeries> selected;
  Status s = SelectSeries(matchers, hints.start_ms, hints.end_ms, true, hints.max_resolution_ms, &selected,
                          /*defer_probe=*/true);
  if (!s.ok()) return s;
  *out = std::make_unique<DBSeriesSet>(this, std::move(selected), hints.start_ms, hints.end_ms,
                                       hints.max_resolution_ms, hints.bulk);
  return Status::OK();
}

Status DBImpl::Series(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                      int64_t max_time_ms, std::vector<Labels>* out) {
  std::vector<SelectedSeries> selected;
  Status s = SelectSeries(matchers, min_time_ms, max_time_ms, true, model::kResolution1d, &selected);
  if (!s.ok()) return s;
  out->clear();
  out->reserve(selected.size());
  for (SelectedSeries& series : selected) out->push_back(std::move(series.labels));
  return Status::OK();
}

// Label names (`name` null) or the values of label `*name`: from the index
// when nothing narrows the selection, else from the selected series.
Status DBImpl::CollectLabelStrings(const std::string* name, const std::vector<LabelMatcher>& matchers,
                                   int64_t min_time_ms, int64_t max_time_ms,
                                   std::vector<std::string>* out) {
  out->clear();
  std::vector<std::string> resident;
  bool reaches_stored = false;
  if (matchers.empty()) {
    // The resident index and, read with it, whether the range reaches back
    // to evicted series (a series leaves memory only after the bound that
    // covers it is raised, both under the exclusive lock).
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    const int64_t evicted_until = evicted_until_.load(std::memory_order_acquire);
    reaches_stored = evicted_until != std::numeric_limits<int64_t>::min() && min_time_ms <= evicted_until;
    if (reaches_stored || IsFullRange(min_time_ms, max_time_ms)) {
      resident = name ? postings_.LabelValues(*name) : postings_.LabelNames();
    }
  }
  if (matchers.empty() && (IsFullRange(min_time_ms, max_time_ms) || reaches_stored)) {
    // Every name or value of the index. A range that reaches back to the
    // evicted series gets those of the whole persisted index, unfiltered by
    // time (as Prometheus answers from the index of every block in range).
    *out = std::move(resident);
    if (reaches_stored) {
      std::vector<std::string> stored;
      PersistedIndex index(rocks_, cf(kPostings), cf(kSeries));
      Status s = name ? index.LabelValues(*name, &stored) : index.LabelNames(&stored);
      if (!s.ok()) return s;
      std::set<std::string> strings(out->begin(), out->end());
      strings.insert(stored.begin(), stored.end());
      out->assign(strings.begin(), strings.end());
    }
  } else {
    std::vector<SelectedSeries> selected;
    Status s = SelectSeries(matchers, min_time_ms, max_time_ms, false, model::kResolution1d, &selected);
    if (!s.ok()) return s;
    std::set<std::string> strings;
    for (const SelectedSeries& series : selected) {
      for (const Label& label : series.labels) {
        if (name == nullptr) {
          strings.insert(label.name);
        } else if (label.name == *name && !label.value.empty()) {
          strings.insert(label.value);
        }
      }
    }
    out->assign(strings.begin(), strings.end());
  }
  std::sort(out->begin(), out->end());
  return Status::OK();
}

Status DBImpl::LabelNames(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                          int64_t max_time_ms, std::vector<std::string>* out) {
  return CollectLabelStrings(nullptr, matchers, min_time_ms, max_time_ms, out);
}

Status DBImpl::LabelValues(const std::string& name, const std::vector<LabelMatcher>& matchers,
                           int64_t min_time_ms, int64_t max_time_ms, std::vector<std::string>* out) {
  return CollectLabelStrings(&name, matchers, min_time_ms, max_time_ms, out);
}

Status DBImpl::Metadata(const std::string& metric, std::vector<MetricMetadata>* out) {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kMetadata)));
  for (metric.empty() ? it->SeekToFirst() : it->Seek(metric); it->Valid(); it->Next()) {
    std::string name = it->key().ToString();
    if (!metric.empty() && name != metric) break;
    ByteReader reader(std::string_view(it->value().data(), it->value().size()));
    uint8_t type;
    std::string_view help, unit;
    if (!reader.GetByte(&type) || !reader.GetLengthPrefixed(&help) ||
        !reader.GetLengthPrefixed(&unit)) {
      return Status::Corruption("bad metadata record for " + name);
    }
    out->push_back(MetricMetadata{std::move(name), static_cast<MetricType>(type),
                                  std::string(help), std::string(unit)});
  }
  return FromRocks(it->status());
}

Status DBImpl::Exemplars(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                         int64_t max_time_ms,
                         std::vector<std::pair<Labels, std::vector<Exemplar>>>* out) {
  out->clear();
  std::vector<SelectedSeries> selected;
  Status s = SelectSeries(matchers, std::numeric_limits<int64_t>::min(),
                          std::numeric_limits<int64_t>::max(), true, 0, &selected);
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kExemplars)));
  for (SelectedSeries& series : selected) {
    std::vector<Exemplar> exemplars;
    for (it->Seek(ExemplarKey(series.id, RawReadStart(min_time_ms))); it->Valid(); it->Next()) {
      rocksdb::Slice key = it->key();
      if (key.size() != 16 || DecodeFixed64BE(key.data()) != series.id) break;
      int64_t t = KeyBitsToTimestamp(DecodeFixed64BE(key.data() + 8));
      if (t > max_time_ms) break;
      ByteReader reader(std::string_view(it->value().data(), it->value().size()));
      Exemplar exemplar;
      exemplar.timestamp_ms = t;
      std::string_view labels;
      // Labels are encoded first; DecodeLabels needs their exact extent, so
      // decode them from the prefix before the trailing 8-byte value.
      if (reader.remaining() < 8) return Status::Corruption("bad exemplar record");
      labels = std::string_view(it->value().data(), reader.remaining() - 8);
      if (!DecodeLabels(labels, &exemplar.labels)) return Status::Corruption("bad exemplar labels");
      ByteReader tail(std::string_view(it->value().data() + labels.size(), 8));
      tail.GetDouble(&exemplar.value);
      exemplars.push_back(std::move(exemplar));
    }
    if (!exemplars.empty()) out->emplace_back(std::move(series.labels), std::move(exemplars));
  }
  return FromRocks(it->status());
}

}  // namespace tsvault::storage
