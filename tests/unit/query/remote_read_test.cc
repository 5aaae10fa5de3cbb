// POST /api/v1/read (query/api/remote_read.cc): matchers and the time range
// select what Select gives, the sample limit answers 400, and damaged
// requests get 400, never a crash.
#include <gtest/gtest.h>
#include <snappy.h>

#include <random>

#include "proto/remote_read.pb.h"
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

}  // namespace
}  // namespace tsvault::query
