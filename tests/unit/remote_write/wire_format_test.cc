// The hand-written wire decoding must read exactly what the protobuf schema
// says: field order, packed and unpacked repeated fields, unknown fields of
// every wire type, last-wins singular fields, and must agree with the
// generated parser on which byte strings are valid messages.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "proto/remote_write_v1.pb.h"
#include "proto/remote_write_v2.pb.h"
#include "remote_write/decoder.h"
#include "remote_write/wire_reader.h"

namespace tsvault::remote_write {
namespace {

// Raw wire-format writers.
void Varint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}
void Tag(std::string* out, uint32_t field, int wire_type) { Varint(out, (uint64_t{field} << 3) | wire_type); }
void Bytes(std::string* out, uint32_t field, const std::string& bytes) {
  Tag(out, field, 2);
  Varint(out, bytes.size());
  out->append(bytes);
}
void VarintField(std::string* out, uint32_t field, uint64_t value) {
  Tag(out, field, 0);
  Varint(out, value);
}
void Fixed64Field(std::string* out, uint32_t field, uint64_t value) {
  Tag(out, field, 1);
  out->append(reinterpret_cast<const char*>(&value), 8);
}
void DoubleField(std::string* out, uint32_t field, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, 8);
  Fixed64Field(out, field, bits);
}
// Unknown fields of every wire type, including a nested group.
std::string UnknownFields() {
  std::string out;
  VarintField(&out, 1000, 12345);
  Fixed64Field(&out, 1001, 7);
  Tag(&out, 1002, 5);
  out.append("abcd");
  Bytes(&out, 1003, "ignored");
  Tag(&out, 1004, 3);  // group 1004 { varint, group 1005 { } }
  VarintField(&out, 1, 1);
  Tag(&out, 1005, 3);
  Tag(&out, 1005, 4);
  Tag(&out, 1004, 4);
  return out;
}

std::string Label(const std::string& name, const std::string& value) {
  std::string out;
  Bytes(&out, 1, name);
  Bytes(&out, 2, value);
  return out;
}
std::string Sample(double value, int64_t timestamp) {
  std::string out;
  DoubleField(&out, 1, value);
  VarintField(&out, 2, static_cast<uint64_t>(timestamp));
  return out;
}

IngestBatch Decode(Protocol protocol, const std::string& bytes, Status* status) {
  IngestBatch decoded;
  *status = DecodeWriteRequest(protocol, bytes, model::LabelLimits{}, &decoded);
  return decoded;
}

TEST(WireFormatV1Test, UnknownFieldsOrderAndLastWins) {
  std::string label_twice = Label("__name__", "first");
  Bytes(&label_twice, 2, "up");  // value again: the last one wins
  label_twice += UnknownFields();
  std::string sample = UnknownFields() + Sample(2.5, 1000);
  Tag(&sample, 1, 0);  // value (field 1) with the wrong wire type: unknown field
  Varint(&sample, 99);
  std::string series;
  Bytes(&series, 2, sample);  // samples before labels
  series += UnknownFields();
  Bytes(&series, 1, Label("job", "api"));
  Bytes(&series, 1, label_twice);
  std::string request = UnknownFields();
  Bytes(&request, 1, series);
  VarintField(&request, 2, 5);  // reserved field: skipped

  Status status;
  IngestBatch decoded = Decode(Protocol::kV1, request, &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(decoded.input.series.size(), 1u);
  EXPECT_EQ(decoded.input.series[0].labels, (Labels{{"__name__", "up"}, {"job", "api"}}));
  ASSERT_EQ(decoded.input.series[0].samples.size(), 1u);
  EXPECT_EQ(decoded.input.series[0].samples[0].value, 2.5);
  EXPECT_EQ(decoded.input.series[0].samples[0].timestamp_ms, 1000);

  // The generated parser reads the same thing.
  prometheus::WriteRequest generated;
  ASSERT_TRUE(generated.ParseFromString(request));
  EXPECT_EQ(generated.timeseries(0).labels(1).value(), "up");
  EXPECT_EQ(generated.timeseries(0).samples(0).value(), 2.5);
}

TEST(WireFormatV1Test, NegativeTimestampsAndTenByteVarints) {
  std::string series;
  Bytes(&series, 1, Label("__name__", "m"));
  Bytes(&series, 2, Sample(1, -5));
  std::string request;
  Bytes(&request, 1, series);
  Status status;
  IngestBatch decoded = Decode(Protocol::kV1, request, &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(decoded.input.series[0].samples[0].timestamp_ms, -5);
}

TEST(WireFormatV2Test, SymbolsAfterSeriesUnpackedRefsAndMergedMetadata) {
  std::string metadata_a;
  VarintField(&metadata_a, 1, 2);  // gauge
  VarintField(&metadata_a, 3, 3);  // help "Help."
  std::string metadata_b;
  VarintField(&metadata_b, 4, 0);  // unit "" (merged; type and help survive)
  metadata_b += UnknownFields();
  std::string series;
  VarintField(&series, 1, 1);  // labels_refs unpacked...
  VarintField(&series, 1, 2);
  std::string packed;
  Varint(&packed, 4);
  Varint(&packed, 5);
  Bytes(&series, 1, packed);  // ...then packed, appended
  Bytes(&series, 2, Sample(3, 7000));
  Bytes(&series, 5, metadata_a);
  Bytes(&series, 5, metadata_b);
  VarintField(&series, 6, 123);  // created_timestamp: accepted
  series += UnknownFields();
  std::string request;
  Bytes(&request, 5, series);  // the series comes before the symbols
  for (const char* symbol : {"", "__name__", "up", "Help.", "job", "api"}) Bytes(&request, 4, symbol);

  Status status;
  IngestBatch decoded = Decode(Protocol::kV2, request, &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(decoded.input.series.size(), 1u);
  EXPECT_EQ(decoded.input.series[0].labels, (Labels{{"__name__", "up"}, {"job", "api"}}));
  EXPECT_EQ(decoded.input.series[0].samples[0].timestamp_ms, 7000);
  ASSERT_EQ(decoded.input.metadata.size(), 1u);
  EXPECT_EQ(decoded.input.metadata[0].type, storage::MetricType::kGauge);
  EXPECT_EQ(decoded.input.metadata[0].help, "Help.");

  io::prometheus::write::v2::Request generated;
  ASSERT_TRUE(generated.ParseFromString(request));
  EXPECT_EQ(generated.timeseries(0).labels_refs_size(), 4);
  EXPECT_EQ(generated.timeseries(0).metadata().help_ref(), 3u);
}

TEST(WireFormatTest, MalformedInputIsCorruption) {
  std::string truncated_varint = "\x0a\xff";
  std::string field_zero;
  Tag(&field_zero, 0, 0);
  Varint(&field_zero, 1);
  std::string wire_type_6 = "\x0e\x00";
  std::string wire_type_7 = "\x0f\x00";
  std::string lone_end_group;
  Tag(&lone_end_group, 9, 4);
  std::string unterminated_group;
  Tag(&unterminated_group, 9, 3);
  std::string mismatched_group;
  Tag(&mismatched_group, 9, 3);
  Tag(&mismatched_group, 8, 4);
  std::string length_past_end = "\x0a\x05" "abc";
  std::string eleven_byte_varint = "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
  std::string deep_groups;
  for (int i = 0; i < 200; ++i) Tag(&deep_groups, 9, 3);
  for (int i = 0; i < 200; ++i) Tag(&deep_groups, 9, 4);
  for (const std::string& bad : {truncated_varint, field_zero, wire_type_6, wire_type_7, lone_end_group,
                                 unterminated_group, mismatched_group, length_past_end, eleven_byte_varint,
                                 deep_groups}) {
    for (Protocol protocol : {Protocol::kV1, Protocol::kV2}) {
      Status status;
      Decode(protocol, bad, &status);
      EXPECT_TRUE(status.IsCorruption()) << ::testing::PrintToString(bad) << " " << status.ToString();
    }
  }
}

TEST(WireReaderTest, ZigZag) {
  EXPECT_EQ(ZigZagDecode64(0), 0);
  EXPECT_EQ(ZigZagDecode64(1), -1);
  EXPECT_EQ(ZigZagDecode64(2), 1);
  EXPECT_EQ(ZigZagDecode64(0xFFFFFFFFFFFFFFFEull), INT64_MAX);
  EXPECT_EQ(ZigZagDecode64(0xFFFFFFFFFFFFFFFFull), INT64_MIN);
}

// Differential check against the generated parser on mutated messages: when
// the generated parser rejects the bytes, our decoder must not report a clean
// success; when it accepts them, our decoder must not call them corrupt.
template <typename Message>
void DifferentialLoop(Protocol protocol, const std::string& valid, uint64_t seed) {
  std::mt19937_64 random(seed);
  int disagreements = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string mutated = valid;
    const int mutations = 1 + static_cast<int>(random() % 3);
    for (int m = 0; m < mutations && !mutated.empty(); ++m) {
      const size_t position = random() % mutated.size();
      if (random() % 2) {
        mutated[position] = static_cast<char>(random());
      } else {
        mutated.erase(position, 1);
      }
    }
    Message generated;
    const bool generated_ok = generated.ParseFromString(mutated);
    IngestBatch decoded;
    const Status status = DecodeWriteRequest(protocol, mutated, model::LabelLimits{}, &decoded);
    if (generated_ok && status.IsCorruption()) {
      ++disagreements;
      ADD_FAILURE() << "generated parser accepts, decoder says corrupt: " << ::testing::PrintToString(mutated);
    }
    if (!generated_ok && status.ok() && !decoded.has_rejections()) {
      ++disagreements;
      ADD_FAILURE() << "generated parser rejects, decoder accepts cleanly: " << ::testing::PrintToString(mutated);
    }
    if (disagreements > 3) break;
  }
}

TEST(WireFormatTest, AgreesWithGeneratedParserV1) {
  prometheus::WriteRequest request;
  for (int i = 0; i < 3; ++i) {
    prometheus::TimeSeries* ts = request.add_timeseries();
    prometheus::Label* label = ts->add_labels();
    label->set_name("__name__");
    label->set_value("metric" + std::to_string(i));
    prometheus::Sample* sample = ts->add_samples();
    sample->set_value(i);
    sample->set_timestamp(1000 + i);
    prometheus::Exemplar* exemplar = ts->add_exemplars();
    exemplar->set_value(1);
    prometheus::Label* exemplar_label = exemplar->add_labels();
    exemplar_label->set_name("trace_id");
    exemplar_label->set_value("x");
  }
  prometheus::TimeSeries* histogram_series = request.add_timeseries();
  prometheus::Label* label = histogram_series->add_labels();
  label->set_name("__name__");
  label->set_value("h");
  prometheus::Histogram* histogram = histogram_series->add_histograms();
  histogram->set_count_int(1);
  histogram->set_timestamp(5);
  request.add_metadata()->set_metric_family_name("metric0");
  DifferentialLoop<prometheus::WriteRequest>(Protocol::kV1, request.SerializeAsString(), 99);
}

TEST(WireFormatTest, AgreesWithGeneratedParserV2) {
  io::prometheus::write::v2::Request request;
  for (const char* symbol : {"", "__name__", "m", "trace_id", "t", "Help."}) request.add_symbols(symbol);
  for (int i = 0; i < 3; ++i) {
    auto* ts = request.add_timeseries();
    ts->add_labels_refs(1);
    ts->add_labels_refs(2);
    auto* sample = ts->add_samples();
    sample->set_value(i);
    sample->set_timestamp(1000 + i);
    auto* exemplar = ts->add_exemplars();
    exemplar->add_labels_refs(3);
    exemplar->add_labels_refs(4);
    ts->mutable_metadata()->set_help_ref(5);
    ts->mutable_metadata()->set_type(io::prometheus::write::v2::Metadata::METRIC_TYPE_COUNTER);
  }
  auto* histogram_series = request.add_timeseries();
  histogram_series->add_labels_refs(1);
  histogram_series->add_labels_refs(2);
  histogram_series->add_histograms()->set_count_float(2);
  DifferentialLoop<io::prometheus::write::v2::Request>(Protocol::kV2, request.SerializeAsString(), 7);
}

}  // namespace
}  // namespace tsvault::remote_write
