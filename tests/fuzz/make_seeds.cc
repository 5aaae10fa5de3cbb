// Writes the binary seed corpora of the fuzz targets (remote write bodies,
// chunks, remote-read requests) with the real encoders, so the seeds in
// tests/fuzz/corpus/ can be made again:
//   build/tests/fuzz_make_seeds tests/fuzz/corpus
// Text seeds (PromQL, times, web configs, imports) are written by hand.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "proto/remote_read.pb.h"
#include "remote_write/encoder.h"
#include "storage/chunkenc/chunk.h"
#include "storage/chunkenc/rollup_chunk.h"

namespace {

using namespace tsvault;

void Write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

storage::WriteInput SampleInput(bool histograms) {
  storage::WriteInput input;
  storage::SeriesWrite series;
  series.labels = {{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "200"}};
  for (int i = 0; i < 3; ++i) series.samples.push_back({1'700'000'000'000 + i * 15'000, 10.0 + i});
  series.exemplars.push_back(storage::Exemplar{{{"trace_id", "abc"}}, 1.5, 1'700'000'000'000});
  input.series.push_back(series);
  if (histograms) {
    storage::SeriesWrite h;
    h.labels = {{"__name__", "rpc_latency_seconds"}, {"job", "api"}};
    storage::Histogram histogram;
    histogram.timestamp_ms = 1'700'000'000'000;
    histogram.schema = 3;
    histogram.zero_threshold = 0.001;
    histogram.count_int = 6;
    histogram.zero_count_int = 1;
    histogram.sum = 4.5;
    histogram.positive_spans = {{0, 2}, {2, 1}};
    histogram.positive_deltas = {1, 1, 1};
    h.histograms.push_back(histogram);
    input.series.push_back(h);
  }
  input.metadata.push_back(
      storage::MetricMetadata{"http_requests_total", storage::MetricType::kCounter, "Requests.", ""});
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  // remote_write_fuzz: a mode byte (bit 0: 2.0, bit 1: body as sent), then
  // the protobuf (mode without bit 1) or the snappy body.
  for (const bool v2 : {false, true}) {
    const remote_write::Protocol protocol = v2 ? remote_write::Protocol::kV2 : remote_write::Protocol::kV1;
    std::string protobuf, body;
    remote_write::SerializeWriteRequest(SampleInput(true), protocol, &protobuf);
    remote_write::EncodeWriteRequest(SampleInput(true), protocol, &body);
    const char mode = v2 ? 1 : 0;
    Write(root + "/remote_write_fuzz", v2 ? "v2_protobuf" : "v1_protobuf", std::string(1, mode) + protobuf);
    Write(root + "/remote_write_fuzz", v2 ? "v2_snappy" : "v1_snappy", std::string(1, mode | 2) + body);
  }
  // chunk_fuzz: a float chunk, a histogram chunk, a rollup chunk.
  storage::XorChunkAppender floats;
  for (int i = 0; i < 40; ++i) floats.Append(1'700'000'000'000 + i * 15'000, i % 7 == 0 ? 0.5 * i : 100.0 + i);
  Write(root + "/chunk_fuzz", "xor", floats.bytes());
  storage::HistogramChunkAppender histograms;
  storage::Histogram histogram = SampleInput(true).series[1].histograms[0];
  for (int i = 0; i < 10; ++i) {
    histogram.timestamp_ms += 15'000;
    histogram.count_int += 3;
    histogram.positive_deltas[0] += 1;
    histograms.Append(histogram);
  }
  Write(root + "/chunk_fuzz", "histogram", histograms.bytes());
  std::vector<model::FloatWindow> windows;
  std::vector<model::Sample> samples;
  for (int i = 0; i < 30; ++i) samples.push_back({1'700'000'000'000 + i * 15'000, 1.0 * i});
  model::FloatWindowBuilder builder(300'000);
  for (const model::Sample& sample : samples) builder.Add(sample.timestamp_ms, sample.value);
  windows = builder.Finish();
  std::string rollup;
  if (storage::EncodeRollupChunk(300'000, windows, &rollup).ok()) Write(root + "/chunk_fuzz", "rollup", rollup);
  // remote_read_fuzz: a ReadRequest protobuf (the harness compresses it).
  prometheus::ReadRequest read;
  prometheus::Query* query = read.add_queries();
  query->set_start_timestamp_ms(1'700'000'000'000);
  query->set_end_timestamp_ms(1'700'003'600'000);
  auto* matcher = query->add_matchers();
  matcher->set_type(prometheus::LabelMatcher::EQ);
  matcher->set_name("__name__");
  matcher->set_value("up");
  matcher = query->add_matchers();
  matcher->set_type(prometheus::LabelMatcher::RE);
  matcher->set_name("job");
  matcher->set_value("api|node.*");
  query->mutable_hints()->set_step_ms(60'000);
  query->mutable_hints()->set_func("rate");
  read.add_accepted_response_types(prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
  Write(root + "/remote_read_fuzz", "two_matchers", read.SerializeAsString());
  return 0;
}
