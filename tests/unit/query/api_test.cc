// The read endpoints through a real HTTP server and a real storage engine,
// checking Prometheus' JSON envelope and error codes.
#include "query/api/api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "tests/support/test_labels.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

using testing::L;

class ApiTest : public QueryApiTest {
 protected:
  void SetUp() override {
    storage::WriteInput input;
    input.series.push_back({L({{"__name__", "up"}, {"job", "node"}, {"instance", "a"}}), {{1000, 1}}, {}, {}});
    input.series.push_back({L({{"__name__", "up"}, {"job", "blackbox"}, {"instance", "b"}}), {{5000, 1}}, {}, {}});
    input.series.push_back({L({{"__name__", "http_requests_total"}, {"app", "web"}}), {{5000, 3}}, {}, {}});
    input.metadata.push_back({"http_requests_total", storage::MetricType::kCounter, "Requests.", ""});
    ASSERT_NO_FATAL_FAILURE(StartApiWith(input, ApiOptions{"0.1.0", "abc", "today"}));
  }
};

TEST_F(ApiTest, SeriesMatchesAndFiltersByTime) {
  auto all = Get("/api/v1/series?match[]=up");
  EXPECT_EQ(all["status"], "success");
  ASSERT_EQ(all["data"].size(), 2u);
  EXPECT_EQ(all["data"][0]["job"], "node");  // sorted: instance a < b
  auto late = Get("/api/v1/series?match[]=up&start=4&end=6");
  ASSERT_EQ(late["data"].size(), 1u);
  EXPECT_EQ(late["data"][0]["instance"], "b");
  auto both = Get("/api/v1/series?match[]=up&match[]=%7Bapp%3D%22web%22%7D");
  EXPECT_EQ(both["data"].size(), 3u);
  auto limited = Get("/api/v1/series?match[]=up&limit=1");
  EXPECT_EQ(limited["data"].size(), 1u);
  EXPECT_EQ(limited["warnings"], nlohmann::json({"results truncated due to limit"}));
  EXPECT_FALSE(Get("/api/v1/series?match[]=up&limit=2").contains("warnings"));
}

// --api.max-results bounds answers without `limit` and caps larger ones.
class ApiResultLimitTest : public QueryApiTest {
 protected:
  void SetUp() override {
    storage::WriteInput input;
    for (int i = 0; i < 5; ++i) {
      input.series.push_back({Labels{{"__name__", "m" + std::to_string(i)}, {"i", std::to_string(i)}}, {{1000, 1}}, {}, {}});
    }
    ApiOptions options{"0.1.0", "abc", "today"};
    options.max_results = 3;
    ASSERT_NO_FATAL_FAILURE(StartApiWith(input, options));
  }
};

TEST_F(ApiResultLimitTest, EveryListIsCutAtTheServerLimitWithAWarning) {
  const nlohmann::json truncated = {"results truncated due to limit"};
  for (const char* target : {"/api/v1/series?match[]=%7B__name__%3D~%22.%2B%22%7D",
                             "/api/v1/series?match[]=%7B__name__%3D~%22.%2B%22%7D&limit=10",
                             "/api/v1/label/__name__/values", "/api/v1/label/i/values?limit=0"}) {
    auto answer = Get(target);
    EXPECT_EQ(answer["data"].size(), 3u) << target;
    EXPECT_EQ(answer["warnings"], truncated) << target;
  }
  auto fewer = Get("/api/v1/label/__name__/values?limit=2");
  EXPECT_EQ(fewer["data"], nlohmann::json({"m0", "m1"}));
  auto names = Get("/api/v1/labels");  // __name__ and i: under the limit
  EXPECT_EQ(names["data"].size(), 2u);
  EXPECT_FALSE(names.contains("warnings"));
}

TEST_F(ApiTest, SeriesErrors) {
  auto missing = Get("/api/v1/series", 400);
  EXPECT_EQ(missing["status"], "error");
  EXPECT_EQ(missing["errorType"], "bad_data");
  EXPECT_NE(missing["error"].get<std::string>().find("match[]"), std::string::npos);
  auto bad = Get("/api/v1/series?match[]=up%7B", 400);
  EXPECT_EQ(bad["errorType"], "bad_data");
  auto empty_matcher = Get("/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D", 400);
  EXPECT_EQ(empty_matcher["errorType"], "bad_data");
  auto bad_time = Get("/api/v1/series?match[]=up&start=abc", 400);
  EXPECT_NE(bad_time["error"].get<std::string>().find("start"), std::string::npos);
}

TEST_F(ApiTest, LabelsAndValues) {
  auto names = Get("/api/v1/labels");
  EXPECT_EQ(names["data"], nlohmann::json({"__name__", "app", "instance", "job"}));
  auto matched = Get("/api/v1/labels?match[]=http_requests_total");
  EXPECT_EQ(matched["data"], nlohmann::json({"__name__", "app"}));
  auto values = Get("/api/v1/label/job/values");
  EXPECT_EQ(values["data"], nlohmann::json({"blackbox", "node"}));
  auto metric_names = Get("/api/v1/label/__name__/values?start=4&end=6");
  EXPECT_EQ(metric_names["data"], nlohmann::json({"http_requests_total", "up"}));
  auto none = Get("/api/v1/label/nope/values");
  EXPECT_EQ(none["data"], nlohmann::json::array());
}

TEST_F(ApiTest, PostFormBody) {
  http::Response response;
  ASSERT_TRUE(client_->Do("POST", "/api/v1/series",
                          {{"Content-Type", "application/x-www-form-urlencoded"}},
                          "match%5B%5D=up&start=0", &response).ok());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(nlohmann::json::parse(response.body)["data"].size(), 2u);
}

TEST_F(ApiTest, MetadataBuildInfoAndTsdbStatus) {
  auto metadata = Get("/api/v1/metadata");
  EXPECT_EQ(metadata["data"]["http_requests_total"][0]["type"], "counter");
  EXPECT_EQ(metadata["data"]["http_requests_total"][0]["help"], "Requests.");
  auto build = Get("/api/v1/status/buildinfo");
  EXPECT_EQ(build["data"]["version"], "0.1.0");
  auto tsdb = Get("/api/v1/status/tsdb");
  EXPECT_EQ(tsdb["data"]["headStats"]["numSeries"], 3);
  EXPECT_EQ(tsdb["data"]["seriesCountByMetricName"][0]["name"], "up");
  EXPECT_EQ(tsdb["data"]["seriesCountByMetricName"][0]["value"], 2);
}

}  // namespace
}  // namespace tsvault::query
