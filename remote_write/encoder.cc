#include "remote_write/encoder.h"

#include <snappy.h>

#include <functional>
#include <string_view>
#include <unordered_map>

#include "remote_write/decoder.h"
#include "remote_write/histogram_conversion.h"
#include "proto/remote_write_v1.pb.h"
#include "proto/remote_write_v2.pb.h"

namespace tsvault::remote_write {

namespace {

namespace v2 = io::prometheus::write::v2;

Status SerializeV1(const storage::WriteInput& input, std::string* protobuf) {
  prometheus::WriteRequest request;
  request.mutable_timeseries()->Reserve(static_cast<int>(input.series.size()));
  for (const storage::SeriesWrite& series : input.series) {
    prometheus::TimeSeries* ts = request.add_timeseries();
    for (const Label& label : series.labels) {
      prometheus::Label* added = ts->add_labels();
      added->set_name(label.name);
      added->set_value(label.value);
    }
    for (const storage::Sample& sample : series.samples) {
      prometheus::Sample* added = ts->add_samples();
      added->set_value(sample.value);
      added->set_timestamp(sample.timestamp_ms);
    }
    for (const storage::Exemplar& exemplar : series.exemplars) {
      prometheus::Exemplar* added = ts->add_exemplars();
      for (const Label& label : exemplar.labels) {
        prometheus::Label* added_label = added->add_labels();
        added_label->set_name(label.name);
        added_label->set_value(label.value);
      }
      added->set_value(exemplar.value);
      added->set_timestamp(exemplar.timestamp_ms);
    }
    for (const storage::Histogram& histogram : series.histograms) {
      HistogramToProto(histogram, ts->add_histograms());
    }
  }
  for (const storage::MetricMetadata& metadata : input.metadata) {
    prometheus::MetricMetadata* added = request.add_metadata();
    added->set_type(static_cast<prometheus::MetricMetadata::MetricType>(metadata.type));
    added->set_metric_family_name(metadata.metric_family_name);
    added->set_help(metadata.help);
    added->set_unit(metadata.unit);
  }
  if (!request.SerializeToString(protobuf)) {
    return Status::InvalidArgument("write request too large to serialize");
  }
  return Status::OK();
}

// Builds the 2.0 symbols table: "" first, every other string once.
class SymbolsBuilder {
 public:
  explicit SymbolsBuilder(v2::Request* request) : request_(request) { Ref(""); }

  uint32_t Ref(std::string_view text) {
    auto it = index_.find(text);
    if (it != index_.end()) return it->second;
    const uint32_t ref = static_cast<uint32_t>(request_->symbols_size());
    request_->add_symbols(std::string(text));
    // Keys view the stored symbol, which never moves (RepeatedPtrField
    // stores pointers).
    index_.emplace(std::string_view(request_->symbols(static_cast<int>(ref))), ref);
    return ref;
  }

  void AddLabels(const Labels& labels, google::protobuf::RepeatedField<uint32_t>* refs) {
    refs->Reserve(static_cast<int>(labels.size() * 2));
    for (const Label& label : labels) {
      refs->Add(Ref(label.name));
      refs->Add(Ref(label.value));
    }
  }

 private:
  v2::Request* request_;
  std::unordered_map<std::string_view, uint32_t> index_;
};

Status SerializeV2(const storage::WriteInput& input, std::string* protobuf) {
  v2::Request request;
  SymbolsBuilder symbols(&request);

  // 2.0 carries metadata per series: find each family's entry by name.
  std::unordered_map<std::string_view, const storage::MetricMetadata*> metadata_by_family;
  for (const storage::MetricMetadata& metadata : input.metadata) {
    metadata_by_family[metadata.metric_family_name] = &metadata;
  }
  // The family of a series is its name or, for classic histogram / summary
  // parts, its name minus the suffix (see MetricFamilyName).
  auto find_metadata = [&](std::string_view name) -> const storage::MetricMetadata* {
    if (name.empty()) return nullptr;
    if (auto it = metadata_by_family.find(name); it != metadata_by_family.end()) return it->second;
    for (std::string_view suffix : {"_bucket", "_count", "_sum", "_created"}) {
      if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) continue;
      auto it = metadata_by_family.find(name.substr(0, name.size() - suffix.size()));
      if (it != metadata_by_family.end() &&
          MetricFamilyName(name, it->second->type) == it->second->metric_family_name) {
        return it->second;
      }
    }
    return nullptr;
  };
  std::unordered_map<std::string_view, bool> family_sent;
  auto attach_metadata = [&](const Labels& labels, v2::TimeSeries* ts) {
    const storage::MetricMetadata* metadata = find_metadata(MetricName(labels));
    if (metadata == nullptr) return;
    v2::Metadata* wire = ts->mutable_metadata();
    wire->set_type(static_cast<v2::Metadata::MetricType>(metadata->type));
    wire->set_help_ref(symbols.Ref(metadata->help));
    wire->set_unit_ref(symbols.Ref(metadata->unit));
    family_sent[metadata->metric_family_name] = true;
  };

  for (const storage::SeriesWrite& series : input.series) {
    // A 2.0 TimeSeries holds samples or histograms, not both: split.
    const bool split = !series.samples.empty() && !series.histograms.empty();
    v2::TimeSeries* ts = request.add_timeseries();
    symbols.AddLabels(series.labels, ts->mutable_labels_refs());
    attach_metadata(series.labels, ts);
    for (const storage::Sample& sample : series.samples) {
      v2::Sample* added = ts->add_samples();
      added->set_value(sample.value);
      added->set_timestamp(sample.timestamp_ms);
    }
    for (const storage::Exemplar& exemplar : series.exemplars) {
      v2::Exemplar* added = ts->add_exemplars();
      symbols.AddLabels(exemplar.labels, added->mutable_labels_refs());
      added->set_value(exemplar.value);
      added->set_timestamp(exemplar.timestamp_ms);
    }
    v2::TimeSeries* histogram_ts = ts;
    if (split) {
      histogram_ts = request.add_timeseries();
      *histogram_ts->mutable_labels_refs() = ts->labels_refs();
    }
    for (const storage::Histogram& histogram : series.histograms) {
      HistogramToProto(histogram, histogram_ts->add_histograms());
    }
  }

  // Families with no series in this input travel on a sample-less series
  // holding only the metric name, so their metadata is not lost.
  for (const storage::MetricMetadata& metadata : input.metadata) {
    if (family_sent.count(metadata.metric_family_name) > 0) continue;
    if (metadata.metric_family_name.empty()) continue;
    v2::TimeSeries* ts = request.add_timeseries();
    ts->add_labels_refs(symbols.Ref(kMetricNameLabel));
    ts->add_labels_refs(symbols.Ref(metadata.metric_family_name));
    v2::Metadata* wire = ts->mutable_metadata();
    wire->set_type(static_cast<v2::Metadata::MetricType>(metadata.type));
    wire->set_help_ref(symbols.Ref(metadata.help));
    wire->set_unit_ref(symbols.Ref(metadata.unit));
    family_sent[metadata.metric_family_name] = true;
  }

  if (!request.SerializeToString(protobuf)) {
    return Status::InvalidArgument("write request too large to serialize");
  }
  return Status::OK();
}

}  // namespace

Status SerializeWriteRequest(const storage::WriteInput& input, Protocol protocol,
                             std::string* protobuf) {
  protobuf->clear();
  return protocol == Protocol::kV1 ? SerializeV1(input, protobuf) : SerializeV2(input, protobuf);
}

std::string SnappyCompress(const std::string& data) {
  std::string compressed;
  snappy::Compress(data.data(), data.size(), &compressed);
  return compressed;
}

Status EncodeWriteRequest(const storage::WriteInput& input, Protocol protocol, std::string* body) {
  std::string protobuf;
  Status status = SerializeWriteRequest(input, protocol, &protobuf);
  if (!status.ok()) return status;
  *body = SnappyCompress(protobuf);
  return Status::OK();
}

}  // namespace tsvault::remote_write
