// POST /api/v1/read (query/api/remote_read*.cc): matchers and the time
// range select what Select gives, the sample limit answers 400, damaged
// requests get 400, never a crash; streamed responses carry the same samples
// in checked frames split at the frame size.
#include <gtest/gtest.h>
#include <snappy.h>

#include <map>
#include <random>

#include "proto/remote_read.pb.h"
#include "storage/prometheus_tsdb/crc32c.h"
#include "storage/prometheus_tsdb/xor_chunk.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

class RemoteReadTest : public QueryApiTest {
 protected:
  void SetUp() override {
    storage::WriteInput input;
    for (int s = 0; s < 3; ++s) {
      storage::SeriesWrite write;
      write.labels = {{"__name__", "up"}, {"instance", "i" + std::to_string(s)}};
      for (int i = 0; i < 100; ++i) write.samples.push_back({1'000'000 + i * 1000, static_cast<double>(i + s)});
      input.series.push_back(write);
    }
    ApiOptions options;
    options.remote_read_sample_limit = 150;
    options.remote_read_max_bytes_in_frame = 1024;
    ASSERT_NO_FATAL_FAILURE(StartApiWith(input, options));
  }

  http::Response Post(const std::string& body) {
    http::Response response;
    EXPECT_TRUE(client_->Do("POST", "/api/v1/read", {{"Content-Type", "application/x-protobuf"}}, body, &response).ok());
    return response;
  }

  http::Response Read(const prometheus::ReadRequest& request, prometheus::ReadResponse* answer) {
    std::string body, compressed;
    request.SerializeToString(&body);
    snappy::Compress(body.data(), body.size(), &compressed);
    http::Response response = Post(compressed);
    std::string decoded;
    if (response.status == 200 && snappy::Uncompress(response.body.data(), response.body.size(), &decoded)) {
      EXPECT_TRUE(answer->ParseFromString(decoded));
    }
    return response;
  }
};

TEST_F(RemoteReadTest, MatchersAndTimeRangeSelectTheSamples) {
  prometheus::ReadRequest request;
  prometheus::Query* query = request.add_queries();
  query->set_start_timestamp_ms(1'010'000);
  query->set_end_timestamp_ms(1'039'000);
  prometheus::LabelMatcher* matcher = query->add_matchers();
  matcher->set_type(prometheus::LabelMatcher::RE);
  matcher->set_name("instance");
  matcher->set_value("i[01]");
  prometheus::ReadResponse answer;
  http::Response response = Read(request, &answer);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("Content-Encoding"), "snappy");
  ASSERT_EQ(answer.results_size(), 1);
  ASSERT_EQ(answer.results(0).timeseries_size(), 2);
  const prometheus::TimeSeries& first = answer.results(0).timeseries(0);
  ASSERT_EQ(first.samples_size(), 30);
  EXPECT_EQ(first.samples(0).timestamp(), 1'010'000);
  EXPECT_EQ(first.samples(0).value(), 10);
  EXPECT_EQ(first.labels(1).value(), "i0");
  // Hints narrow the range further, as Prometheus' TSDB querier reads them.
  query->mutable_hints()->set_start_ms(1'030'000);
  query->mutable_hints()->set_end_ms(1'039'000);
  response = Read(request, &answer);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(answer.results(0).timeseries(0).samples_size(), 10);
}

TEST_F(RemoteReadTest, TheSampleLimitAnswers400) {
  prometheus::ReadRequest request;
  prometheus::Query* query = request.add_queries();
  query->set_start_timestamp_ms(0);
  query->set_end_timestamp_ms(2'000'000);
  prometheus::LabelMatcher* matcher = query->add_matchers();
  matcher->set_type(prometheus::LabelMatcher::EQ);
  matcher->set_name("__name__");
  matcher->set_value("up");
  prometheus::ReadResponse answer;
  http::Response response = Read(request, &answer);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, "exceeded sample limit (150)\n");
}

TEST_F(RemoteReadTest, DamagedRequestsGet400) {
  prometheus::ReadRequest request;
  prometheus::Query* query = request.add_queries();
  query->set_end_timestamp_ms(2'000'000);
  prometheus::LabelMatcher* matcher = query->add_matchers();
  matcher->set_name("instance");
  matcher->set_value("i1");
  std::string body, compressed;
  request.SerializeToString(&body);
  snappy::Compress(body.data(), body.size(), &compressed);
  std::mt19937 rng(1);
  int ok = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string damaged = compressed;
    if (trial % 2 == 0) {
      damaged.resize(rng() % damaged.size());
    } else {
      damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    const http::Response response = Post(damaged);
    EXPECT_TRUE(response.status == 200 || response.status == 400 || response.status == 500) << response.status;
    ok += response.status == 200;
  }
  EXPECT_LT(ok, 300);
}

// A streamed response's frames, decoded and checked as a client does.
struct Frame {
  int64_t query_index = 0;
  Labels labels;
  std::vector<model::Sample> samples;
  int chunks = 0;
  size_t bytes = 0;
};

std::string DecodeFrames(const std::string& body, std::vector<Frame>* frames) {
  size_t at = 0;
  while (at < body.size()) {
    uint64_t size = 0;
    int shift = 0;
    for (;;) {
      if (at >= body.size() || shift > 63) return "truncated size";
      const uint8_t byte = static_cast<uint8_t>(body[at++]);
      size |= uint64_t{byte & 0x7Fu} << shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    if (at + 4 + size > body.size()) return "truncated frame";
    uint32_t crc = 0;
    for (int i = 0; i < 4; ++i) crc = crc << 8 | static_cast<uint8_t>(body[at + i]);
    const std::string message = body.substr(at + 4, size);
    at += 4 + size;
    if (crc != prometheus_tsdb::Crc32c(message)) return "bad CRC";
    prometheus::ChunkedReadResponse response;
    if (!response.ParseFromString(message)) return "bad message";
    if (response.chunked_series_size() != 1) return "a frame with other than one series";
    Frame frame;
    frame.query_index = response.query_index();
    frame.bytes = message.size();
    const prometheus::ChunkedSeries& series = response.chunked_series(0);
    for (const auto& label : series.labels()) frame.labels.push_back({label.name(), label.value()});
    for (const auto& chunk : series.chunks()) {
      if (chunk.type() != prometheus::Chunk::XOR) return "not an XOR chunk";
      std::vector<model::Sample> samples;
      if (!prometheus_tsdb::DecodeXorChunk(chunk.data(), &samples).ok()) return "bad chunk";
      if (samples.empty() || samples.front().timestamp_ms != chunk.min_time_ms() ||
          samples.back().timestamp_ms != chunk.max_time_ms()) {
        return "chunk times differ from its samples";
      }
      frame.samples.insert(frame.samples.end(), samples.begin(), samples.end());
      ++frame.chunks;
    }
    frames->push_back(std::move(frame));
  }
  return "";
}

prometheus::ReadRequest StreamedRequest(std::vector<int> types) {
  prometheus::ReadRequest request;
  for (int type : types) request.add_accepted_response_types(static_cast<prometheus::ReadRequest::ResponseType>(type));
  for (const char* pattern : {"i[01]", "i2"}) {
    prometheus::Query* query = request.add_queries();
    query->set_start_timestamp_ms(0);
    query->set_end_timestamp_ms(2'000'000);
    prometheus::LabelMatcher* matcher = query->add_matchers();
    matcher->set_type(prometheus::LabelMatcher::RE);
    matcher->set_name("instance");
    matcher->set_value(pattern);
  }
  return request;
}

TEST_F(RemoteReadTest, StreamedChunksCarryEverySampleInCheckedFrames) {
  std::string body, compressed;
  StreamedRequest({1, 0}).SerializeToString(&body);
  snappy::Compress(body.data(), body.size(), &compressed);
  const http::Response response = Post(compressed);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("Content-Type"),
            "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse");
  EXPECT_EQ(response.Header("Content-Encoding"), "");
  std::vector<Frame> frames;
  ASSERT_EQ(DecodeFrames(response.body, &frames), "");
  // Three series of 100 samples, no sample limit on streams; a 1 KiB frame
  // holds about one 120-sample chunk, so each series needs one frame.
  std::map<std::pair<int64_t, std::string>, std::vector<model::Sample>> by_series;
  for (const Frame& frame : frames) {
    auto& samples = by_series[{frame.query_index, frame.labels[1].value}];
    samples.insert(samples.end(), frame.samples.begin(), frame.samples.end());
    EXPECT_LE(frame.chunks, 2);
  }
  ASSERT_EQ(by_series.size(), 3u);
  EXPECT_EQ(by_series.begin()->first, (std::pair<int64_t, std::string>{0, "i0"}));
  EXPECT_EQ(by_series.rbegin()->first, (std::pair<int64_t, std::string>{1, "i2"}));
  for (const auto& [key, samples] : by_series) {
    ASSERT_EQ(samples.size(), 100u) << key.second;
    const int s = key.second[1] - '0';
    for (int i = 0; i < 100; ++i) {
      EXPECT_EQ(samples[i].timestamp_ms, 1'000'000 + i * 1000);
      EXPECT_EQ(samples[i].value, static_cast<double>(i + s));
    }
  }
  // Frames come in query order, each series' frames together.
  for (size_t i = 1; i < frames.size(); ++i) EXPECT_LE(frames[i - 1].query_index, frames[i].query_index);
}

TEST_F(RemoteReadTest, LongSeriesSpanSeveralFramesWithTheirLabels) {
  storage::WriteInput input;
  storage::SeriesWrite write;
  write.labels = {{"__name__", "long"}, {"job", "j"}};
  for (int i = 0; i < 5000; ++i) write.samples.push_back({2'000'000 + i * 15'000, static_cast<double>(i % 17) * 1.25});
  input.series.push_back(write);
  storage::WriteResult result;
  ASSERT_TRUE(db_->Append(input, &result).ok());
  prometheus::ReadRequest request;
  request.add_accepted_response_types(prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
  prometheus::Query* query = request.add_queries();
  query->set_start_timestamp_ms(0);
  query->set_end_timestamp_ms(INT64_MAX);
  prometheus::LabelMatcher* matcher = query->add_matchers();
  matcher->set_name("__name__");
  matcher->set_value("long");
  std::string body, compressed;
  request.SerializeToString(&body);
  snappy::Compress(body.data(), body.size(), &compressed);
  const http::Response response = Post(compressed);
  ASSERT_EQ(response.status, 200) << response.body;
  std::vector<Frame> frames;
  ASSERT_EQ(DecodeFrames(response.body, &frames), "");
  ASSERT_GT(frames.size(), 5u);
  std::vector<model::Sample> samples;
  for (const Frame& frame : frames) {
    EXPECT_EQ(frame.labels, write.labels);
    EXPECT_LE(frame.bytes, 1024u + 600u) << "a frame exceeds the limit by more than one chunk";
    samples.insert(samples.end(), frame.samples.begin(), frame.samples.end());
  }
  ASSERT_EQ(samples.size(), 5000u);
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(samples[i].value, write.samples[i].value);
}

TEST_F(RemoteReadTest, ResponseTypeNegotiation) {
  for (const auto& [types, streamed] : std::vector<std::pair<std::vector<int>, bool>>{
           {{}, false}, {{0}, false}, {{0, 1}, false}, {{1}, true}, {{7, 1, 0}, true}}) {
    std::string body, compressed;
    StreamedRequest(types).SerializeToString(&body);
    snappy::Compress(body.data(), body.size(), &compressed);
    const http::Response response = Post(compressed);
    // The first query holds 200 samples, over the limit of 150 that only
    // SAMPLES responses have.
    if (streamed) {
      EXPECT_EQ(response.status, 200) << response.body;
      EXPECT_NE(response.Header("Content-Type").find("x-streamed"), std::string_view::npos);
    } else {
      EXPECT_EQ(response.status, 400) << types.size();
      EXPECT_EQ(response.body, "exceeded sample limit (150)\n");
    }
  }
  std::string body, compressed;
  StreamedRequest({5}).SerializeToString(&body);
  snappy::Compress(body.data(), body.size(), &compressed);
  const http::Response response = Post(compressed);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("response types"), std::string::npos) << response.body;
}

}  // namespace
}  // namespace tsvault::query
