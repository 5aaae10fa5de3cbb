// Engine counters for /metrics and /api/v1/status/tsdb.
#include <rocksdb/db.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "storage/db_impl.h"
#include "storage/keys.h"

namespace tsvault::storage {

DBStats DBImpl::Stats() {
  DBStats stats;
  {
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    stats.series_total = next_series_id_ - 1 - removed_series_;
    stats.resident_series = resident_series_;
    for (const auto& series : series_by_id_) {
      if (!series) continue;
      uint64_t samples = series->samples_in_memory();
      if (samples > 0) ++stats.head_series;
      stats.head_samples += samples;
    }
    stats.head_min_time_ms = head_min_time_ == std::numeric_limits<int64_t>::max() ? 0 : head_min_time_;
    stats.head_max_time_ms = head_max_time_ == std::numeric_limits<int64_t>::min() ? 0 : head_max_time_;
  }
  stats.checkpoints = checkpoints_.load(std::memory_order_relaxed);
  if (syncer_) {
    stats.wal_syncs = syncer_->syncs();
    stats.last_wal_sync_seconds = syncer_->last_sync_seconds();
  }
  stats.restart_seconds = restart_seconds_;
  for (int index = 0; index < 3; ++index) {
    stats.rollup_sealed_until_ms[index] = rollup_sealed_[index].load(std::memory_order_acquire);
  }
  for (int level = 0; level < kRetentionLevels; ++level) {
    stats.retention_cutoff_ms[level] = retention_cutoff_[level].load(std::memory_order_acquire);
  }
  stats.restart_replayed_records = restart_replayed_records_;
  for (const ColumnFamilySpec& spec : kColumnFamilies) {
    uint64_t sst = 0, memtable = 0;
    rocks_->GetIntProperty(cf(spec.index), "rocksdb.total-sst-files-size", &sst);
    rocks_->GetIntProperty(cf(spec.index), "rocksdb.cur-size-all-mem-tables", &memtable);
    stats.column_families.push_back({spec.name, sst + memtable});
    const int level = static_cast<int>(spec.retention) - static_cast<int>(RetentionClass::kRaw);
    if (level >= 0 && level < kRetentionLevels) stats.retention_level_bytes[level] += sst + memtable;
  }
  return stats;
}

CardinalityStats DBImpl::Cardinality(size_t limit, bool all_series) {
  CardinalityStats out;
  std::unordered_map<std::string, uint64_t> by_metric;
  std::unordered_map<std::string, uint64_t> by_pair;
  auto count = [&](const Labels& labels) {
    ++by_metric[std::string(MetricName(labels))];
    for (const Label& label : labels) ++by_pair[label.name + "=" + label.value];
  };
  if (all_series) {
    // Every stored series, from the persisted index.
    std::unordered_map<std::string, std::unordered_set<std::string>> values_by_name;
    std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kSeries)));
    Labels labels;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!DecodeLabels(std::string_view(it->value().data(), it->value().size()), &labels)) continue;
      count(labels);
      for (const Label& label : labels) values_by_name[label.name].insert(label.value);
    }
    for (const auto& [name, values] : values_by_name) {
      out.label_value_count_by_label_name.emplace_back(name, values.size());
    }
  } else {
    // The head, as Prometheus' status page shows it.
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    for (const auto& series : series_by_id_) {
      if (!series || series->samples_in_memory() == 0) continue;
      count(series->labels());
    }
    out.label_value_count_by_label_name = postings_.ValueCountsByName();
  }
  auto top = [limit](std::vector<std::pair<std::string, uint64_t>> v) {
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (v.size() > limit) v.resize(limit);
    return v;
  };
  out.series_count_by_metric_name = top({by_metric.begin(), by_metric.end()});
  out.series_count_by_label_value_pair = top({by_pair.begin(), by_pair.end()});
  out.label_value_count_by_label_name = top(std::move(out.label_value_count_by_label_name));
  return out;
}

}  // namespace tsvault::storage
