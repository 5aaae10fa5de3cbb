// /api/v1/query, /api/v1/query_range, /api/v1/format_query and
// /api/v1/query_exemplars through a real HTTP server and storage engine:
// Prometheus' exact JSON text, parameters and error types.
#include <gtest/gtest.h>

#include <bit>
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "query/api/api.h"
#include "tests/support/test_labels.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

using testing::L;

class EngineApiTest : public QueryApiTest {
 protected:
  void SetUp() override {
    storage::WriteInput input;
    // up: 1 at every 15s from t=0 to t=600s.
    storage::SeriesWrite up{L({{"__name__", "up"}, {"job", "node"}, {"instance", "a"}}), {}, {}, {}};
    for (int64_t t = 0; t <= 600'000; t += 15'000) up.samples.push_back({t, 1});
    input.series.push_back(up);
    storage::SeriesWrite requests{L({{"__name__", "requests_total"}, {"path", "/<a&b>"}}), {}, {}, {}};
    for (int64_t t = 0; t <= 600'000; t += 15'000) requests.samples.push_back({t, static_cast<double>(t / 1000)});
    requests.exemplars.push_back({L({{"trace_id", "abc"}}), 6, 30'500});
    input.series.push_back(requests);
    input.series.push_back({L({{"__name__", "tiny"}}), {{0, 1e-7}, {15'000, 1e21}, {30'000, 123456789.125}}, {}, {}});
    input.series.push_back({L({{"__name__", "dup"}, {"a", "1"}}), {{0, 1}}, {}, {}});
    input.series.push_back({L({{"__name__", "dup2"}, {"a", "1"}}), {{0, 2}}, {}, {}});
    EngineOptions engine;
    engine.max_samples = 1000;
    ASSERT_NO_FATAL_FAILURE(StartApiWith(input, ApiOptions{"0.1.0", "abc", "today", engine}));
  }
};

TEST_F(EngineApiTest, InstantVectorExactJson) {
  EXPECT_EQ(GetBody("/api/v1/query?query=up&time=300"),
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"up","instance":"a","job":"node"},"value":[300,"1"]}]}})");
  // Fractional evaluation time: three decimals, as Prometheus.
  EXPECT_EQ(GetBody("/api/v1/query?query=up&time=300.5"),
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"up","instance":"a","job":"node"},"value":[300.500,"1"]}]}})");
}

TEST_F(EngineApiTest, LabelValuesAreHtmlEscapedAsGo) {
  const std::string body = GetBody("/api/v1/query?query=requests_total&time=30");
  EXPECT_NE(body.find(R"("path":"/\u003ca\u0026b\u003e")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("value":[30,"30"])"), std::string::npos) << body;
}

TEST_F(EngineApiTest, ValueFormatting) {
  EXPECT_NE(GetBody("/api/v1/query?query=tiny&time=0").find(R"("value":[0,"1e-07"])"), std::string::npos);
  EXPECT_NE(GetBody("/api/v1/query?query=tiny&time=15").find(R"("value":[15,"1e+21"])"), std::string::npos);
  EXPECT_NE(GetBody("/api/v1/query?query=tiny&time=30").find(R"("value":[30,"123456789.125"])"),
            std::string::npos);
  EXPECT_NE(GetBody("/api/v1/query?query=tiny%20/%200&time=30").find(R"("value":[30,"+Inf"])"),
            std::string::npos);
  EXPECT_NE(GetBody("/api/v1/query?query=-tiny%20/%200&time=30").find(R"("value":[30,"-Inf"])"),
            std::string::npos);
  EXPECT_NE(GetBody("/api/v1/query?query=tiny%20*%200%20/%200&time=30").find(R"("value":[30,"NaN"])"),
            std::string::npos);
}

TEST_F(EngineApiTest, ScalarAndString) {
  EXPECT_EQ(GetBody("/api/v1/query?query=1%2B2&time=1.5"),
            R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"3"]}})");
  EXPECT_EQ(GetBody("/api/v1/query?query=%22hello%22&time=2"),
            R"({"status":"success","data":{"resultType":"string","result":[2,"hello"]}})");
}

TEST_F(EngineApiTest, RangeQueryMatrix) {
  EXPECT_EQ(GetBody("/api/v1/query_range?query=up&start=0&end=30&step=15"),
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{"__name__":"up","instance":"a","job":"node"},"values":[[0,"1"],[15,"1"],[30,"1"]]}]}})");
  auto rate = Get("/api/v1/query_range?query=rate(requests_total[1m])&start=60&end=120&step=30");
  ASSERT_EQ(rate["data"]["result"].size(), 1u);
  EXPECT_EQ(rate["data"]["result"][0]["metric"], nlohmann::json({{"path", "/<a&b>"}}));
  EXPECT_EQ(rate["data"]["result"][0]["values"],
            nlohmann::json::parse(R"([[60,"1"],[90,"1"],[120,"1"]])"));
  // Matrix results are sorted by labels.
  auto both = Get("/api/v1/query_range?query=%7B__name__=~%22dup.*%22%7D&start=0&end=0&step=1");
  ASSERT_EQ(both["data"]["result"].size(), 2u);
  EXPECT_EQ(both["data"]["result"][0]["metric"]["__name__"], "dup");
  // Scalars become a one-series matrix without labels.
  EXPECT_EQ(GetBody("/api/v1/query_range?query=time()&start=0&end=2&step=1"),
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{},"values":[[0,"0"],[1,"1"],[2,"2"]]}]}})");
}

TEST_F(EngineApiTest, PostForm) {
  http::Response response;
  ASSERT_TRUE(client_->Do("POST", "/api/v1/query_range", {{"Content-Type", "application/x-www-form-urlencoded"}},
                          "query=up&start=0&end=15&step=15", &response)
                  .ok());
  ASSERT_EQ(response.status, 200) << response.body;
  auto json = nlohmann::json::parse(response.body);
  EXPECT_EQ(json["data"]["result"][0]["values"].size(), 2u);
  // The form body wins over the URL query, as Go's FormValue.
  ASSERT_TRUE(client_->Do("POST", "/api/v1/query?query=nonexistent", {{"Content-Type", "application/x-www-form-urlencoded"}},
                          "query=up&time=0", &response)
                  .ok());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(nlohmann::json::parse(response.body)["data"]["result"].size(), 1u);
}

TEST_F(EngineApiTest, BadDataErrors) {
  auto parse = Get("/api/v1/query?query=up%7B&time=0", 400);
  EXPECT_EQ(parse["status"], "error");
  EXPECT_EQ(parse["errorType"], "bad_data");
  EXPECT_EQ(parse["error"].get<std::string>().rfind("invalid parameter \"query\": 1:", 0), 0u) << parse;
  auto empty = Get("/api/v1/query?time=0", 400);
  EXPECT_EQ(empty["error"], "invalid parameter \"query\": 1:1: parse error: no expression found in input");
  auto time = Get("/api/v1/query?query=up&time=abc", 400);
  EXPECT_EQ(time["error"], "invalid parameter \"time\": cannot parse \"abc\" to a valid timestamp");
  auto start = Get("/api/v1/query_range?query=up&end=10&step=1", 400);
  EXPECT_EQ(start["error"], "invalid parameter \"start\": cannot parse \"\" to a valid timestamp");
  auto order = Get("/api/v1/query_range?query=up&start=10&end=5&step=1", 400);
  EXPECT_EQ(order["error"], "invalid parameter \"end\": end timestamp must not be before start time");
  auto step = Get("/api/v1/query_range?query=up&start=0&end=5&step=0", 400);
  EXPECT_EQ(step["error"],
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. "
            "Try a positive integer");
  auto resolution = Get("/api/v1/query_range?query=up&start=0&end=11001&step=1", 400);
  EXPECT_EQ(resolution["error"],
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution "
            "(?step=XX)");
  Get("/api/v1/query_range?query=nonexistent&start=0&end=11000&step=1", 200);
  auto type = Get("/api/v1/query_range?query=up[5m]&start=0&end=10&step=1", 400);
  EXPECT_EQ(type["error"],
            "invalid parameter \"query\": invalid expression type \"range vector\" for range query, must be "
            "Scalar or instant Vector");
  auto timeout = Get("/api/v1/query?query=up&timeout=abc", 400);
  EXPECT_EQ(timeout["error"], "invalid parameter \"timeout\": cannot parse \"abc\" to a valid duration");
}

TEST_F(EngineApiTest, ExecutionErrors) {
  auto same = Get(
      "/api/v1/query?query=label_replace(%7B__name__=~%22dup.*%22%7D,%22__name__%22,%22x%22,%22%22,%22%22)&time=0",
      422);
  EXPECT_EQ(same["errorType"], "execution");
  EXPECT_EQ(same["error"], "vector cannot contain metrics with the same labelset");
  auto samples = Get("/api/v1/query_range?query=up&start=0&end=900&step=0.1", 422);
  EXPECT_EQ(samples["errorType"], "execution");
  EXPECT_EQ(samples["error"], "query processing would load too many samples into memory in query execution");
}

TEST_F(EngineApiTest, Timeout) {
  auto timeout = Get("/api/v1/query?query=up&time=0&timeout=0", 503);
  EXPECT_EQ(timeout["errorType"], "timeout");
  EXPECT_EQ(timeout["error"], "query timed out in expression evaluation");
}

TEST_F(EngineApiTest, FormatQuery) {
  EXPECT_EQ(GetBody("/api/v1/format_query?query=sum%20by(job)(rate(up%5B5m%5D))"),
            R"x({"status":"success","data":"sum by (job) (rate(up[5m]))"})x");
  auto bad = Get("/api/v1/format_query?query=sum(", 400);
  EXPECT_EQ(bad["errorType"], "bad_data");
}

TEST_F(EngineApiTest, QueryExemplars) {
  EXPECT_EQ(GetBody("/api/v1/query_exemplars?query=rate(requests_total%5B5m%5D)&start=0&end=100"),
            R"({"status":"success","data":[{"seriesLabels":{"__name__":"requests_total","path":"/\u003ca\u0026b\u003e"},)"
            R"("exemplars":[{"labels":{"trace_id":"abc"},"value":"6","timestamp":30.500}]}]})");
  EXPECT_EQ(GetBody("/api/v1/query_exemplars?query=1%2B1"), R"({"status":"success","data":null})");
  auto order = Get("/api/v1/query_exemplars?query=up&start=10&end=5", 400);
  EXPECT_EQ(order["error"], "end timestamp must not be before start timestamp");
}

TEST_F(EngineApiTest, NativeHistogramJson) {
  storage::WriteInput input;
  storage::Histogram h;
  h.timestamp_ms = 60'000;
  h.count_int = 6;
  h.sum = 10.5;
  h.schema = 0;
  h.zero_threshold = 0.001;
  h.zero_count_int = 1;
  h.positive_spans = {{0, 2}};
  h.positive_deltas = {2, 1};  // buckets (0.5,1]: 2, (1,2]: 3
  input.series.push_back({L({{"__name__", "hist"}}), {}, {h}, {}});
  storage::WriteResult result;
  ASSERT_TRUE(db_->Append(input, &result).ok());
  EXPECT_EQ(GetBody("/api/v1/query?query=hist&time=60"),
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"hist"},)"
            R"("histogram":[60,{"count":"6","sum":"10.5","buckets":[[3,"-0.001","0.001","1"],)"
            R"([0,"0.5","1","2"],[0,"1","2","3"]]}]}]}})");
  auto range = Get("/api/v1/query_range?query=hist&start=60&end=75&step=15");
  ASSERT_EQ(range["data"]["result"].size(), 1u);
  EXPECT_FALSE(range["data"]["result"][0].contains("values"));
  EXPECT_EQ(range["data"]["result"][0]["histograms"].size(), 2u);
  EXPECT_EQ(Get("/api/v1/query?query=histogram_count(hist)&time=60")["data"]["result"][0]["value"][1], "6");
  EXPECT_EQ(Get("/api/v1/query?query=histogram_sum(hist)&time=60")["data"]["result"][0]["value"][1], "10.5");
}

}  // namespace
}  // namespace tsvault::query
