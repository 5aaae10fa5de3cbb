// The admin API over real HTTP: refused unless enabled (as Prometheus), and
// when enabled delete_series removes what it matches from every read,
// clean_tombstones compacts, and snapshot writes a copy that opens as a
// data directory holding the same data.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

storage::WriteInput Data() {
  storage::WriteInput input;
  for (const char* route : {"/login", "/courses", "/admin"}) {
    storage::SeriesWrite series;
    series.labels = {{"__name__", "http_requests_total"}, {"route", route}};
    for (int i = 0; i < 100; ++i) series.samples.push_back({kStart + i * 15'000, static_cast<double>(i)});
    input.series.push_back(series);
  }
  return input;
}

class AdminApiTest : public QueryApiTest {
 protected:
  http::Response Send(const std::string& method, const std::string& target, const std::string& form = "") {
    http::Response response;
    EXPECT_TRUE(client_
                    ->Do(method, target, {{"Content-Type", "application/x-www-form-urlencoded"}}, form, &response)
                    .ok());
    return response;
  }
  nlohmann::json SeriesNamed(const std::string& route) {
    return Get("/api/v1/series?match[]=http_requests_total%7Broute=%22" + route + "%22%7D")["data"];
  }
};

TEST_F(AdminApiTest, RefusedUnlessEnabledAsPrometheusRefusesIt) {
  ASSERT_NO_FATAL_FAILURE(StartApiWith(Data(), ApiOptions{"test", "test", "today"}));
  for (const char* path : {"delete_series?match[]=up", "clean_tombstones", "snapshot"}) {
    const http::Response response = Send("POST", std::string("/api/v1/admin/tsdb/") + path);
    EXPECT_EQ(response.status, 503) << path;
    EXPECT_EQ(nlohmann::json::parse(response.body),
              (nlohmann::json{{"status", "error"}, {"errorType", "unavailable"}, {"error", "admin APIs disabled"}}));
  }
  EXPECT_EQ(SeriesNamed("/login").size(), 1u);
}

TEST_F(AdminApiTest, DeleteSeriesCleanTombstonesAndSnapshot) {
  ApiOptions options{"test", "test", "today"};
  options.enable_admin_api = true;
  options.snapshot_directory = dir_.path() + "/snapshots";
  ASSERT_NO_FATAL_FAILURE(StartApiWith(Data(), options));

  // Bad requests name the problem.
  http::Response response = Send("POST", "/api/v1/admin/tsdb/delete_series");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("no match[] parameter provided"), std::string::npos) << response.body;
  response = Send("POST", "/api/v1/admin/tsdb/delete_series", "match[]=%7Broute%3D~%22.*%22%7D");
  EXPECT_EQ(response.status, 400) << response.body;
  response = Send("POST", "/api/v1/admin/tsdb/delete_series", "match[]=up&start=yesterday");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("invalid parameter \\\"start\\\""), std::string::npos) << response.body;

  // A whole series (form body, as promtool and curl -d send it).
  response = Send("POST", "/api/v1/admin/tsdb/delete_series", "match[]=http_requests_total%7Broute%3D%22%2Flogin%22%7D");
  EXPECT_EQ(response.status, 204) << response.body;
  EXPECT_TRUE(response.body.empty());
  EXPECT_TRUE(SeriesNamed("/login").empty());
  // Part of one (PUT works too): samples 40..59 go.
  response = Send("PUT", "/api/v1/admin/tsdb/delete_series?match[]=http_requests_total%7Broute%3D%22%2Fcourses%22%7D&start=" +
                             std::to_string((kStart + 40 * 15'000) / 1000) +
                             "&end=" + std::to_string((kStart + 59 * 15'000) / 1000));
  EXPECT_EQ(response.status, 204) << response.body;
  nlohmann::json counted = Get("/api/v1/query?query=count_over_time(http_requests_total%5B1h%5D)&time=" +
                               std::to_string((kStart + 100 * 15'000) / 1000));
  ASSERT_EQ(counted["data"]["result"].size(), 2u) << counted.dump();
  for (const auto& sample : counted["data"]["result"]) {
    EXPECT_EQ(sample["value"][1], sample["metric"]["route"] == "/courses" ? "80" : "100") << counted.dump();
  }

  response = Send("POST", "/api/v1/admin/tsdb/clean_tombstones");
  EXPECT_EQ(response.status, 204) << response.body;

  response = Send("POST", "/api/v1/admin/tsdb/snapshot?skip_head=maybe");
  EXPECT_EQ(response.status, 400);
  response = Send("POST", "/api/v1/admin/tsdb/snapshot");
  ASSERT_EQ(response.status, 200) << response.body;
  const std::string name = nlohmann::json::parse(response.body)["data"]["name"];
  EXPECT_EQ(name.size(), 16u + 1u + 16u) << name;  // 20171210T211224Z-2be650b6d019eb54
  // The snapshot opens as a data directory with the same series.
  storage::Options snapshot_options;
  snapshot_options.data_dir = options.snapshot_directory + "/" + name;
  snapshot_options.background_checkpoints = false;
  std::unique_ptr<storage::DB> snapshot;
  ASSERT_TRUE(storage::DB::Open(snapshot_options, &snapshot).ok());
  std::vector<std::string> routes;
  ASSERT_TRUE(snapshot->LabelValues("route", {}, INT64_MIN, INT64_MAX, &routes).ok());
  EXPECT_EQ(routes, (std::vector<std::string>{"/admin", "/courses"}));
}

}  // namespace
}  // namespace tsvault::query
