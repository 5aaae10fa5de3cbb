// Hostile queries against the real binary (issue 13): a query whose client
// has gone stops using the CPU, health probes answer while one runs, and
// SIGTERM stops the server promptly although one is running.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "http/client.h"
#include "tests/support/ports.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

using Clock = std::chrono::steady_clock;

// A year at a 1 ms subquery step over a series with one sample: almost
// every step finds nothing, so only the timeout (2 minutes by default) or a
// cancellation ends it.
const std::string kHostileQuery =
    "/api/v1/query?query=" + testing::QueryEscape("count_over_time(up[1y:1ms])");

double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i == 12 || i == 13) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class HostileQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TsvaultServerOptions options;
    options.binary = testing::TsvaultBinaryPath();
    options.data_dir = dir_.path() + "/data";
    options.log_path = dir_.path() + "/tsvault.log";
    options.extra_args = {"--storage.wal-sync=none"};
    server_ = std::make_unique<testing::TsvaultServer>(options);
    ASSERT_TRUE(server_->Start().ok()) << server_->LogTail();
    std::unique_ptr<http::Client> client;
    ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    http::Response response;
    ASSERT_TRUE(client->Do("POST", "/api/v1/import/prometheus", {}, "up{job=\"a\"} 1 " + std::to_string(now_ms) + "\n",
                           &response)
                    .ok());
    ASSERT_EQ(response.status, 204) << response.body;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TsvaultServer> server_;
};

// Queries that used to take 3-4 GiB each (issue 13) answer 422 "execution"
// naming --query.max-memory-bytes, four at once, while the process stays
// far below what they would have taken and health still answers.
TEST_F(HostileQueryTest, MemoryHungryQueriesAnswer422WithinTheBound) {
  ASSERT_TRUE(server_->Stop().ok());
  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir_.path() + "/data";
  options.log_path = dir_.path() + "/tsvault.log";
  options.extra_args = {"--storage.wal-sync=none", "--query.max-memory-bytes=67108864"};
  server_ = std::make_unique<testing::TsvaultServer>(options);
  ASSERT_TRUE(server_->Start().ok()) << server_->LogTail();
  const uint64_t baseline = testing::PeakResidentBytes(server_->pid());

  std::string doubling = "up";  // 2^30 times "up" after 30 doublings
  for (int i = 0; i < 30; ++i) doubling = "label_join(" + doubling + ", \"job\", \"\", \"job\", \"job\")";
  std::string repeated;
  for (int i = 0; i < 50000; ++i) repeated += "$1";
  const std::string wide = "label_replace(up, \"long\", \"" + std::string(100'000, 'x') + "\", \"job\", \".*\")";
  std::string many_long;  // 1000 times the 100 kB label: 100 MB
  for (int i = 0; i < 1000; ++i) many_long += ", \"long\"";
  const std::string queries[] = {
      doubling,
      "label_replace(" + wide + ", \"copy\", \"" + repeated + "\", \"long\", \"(.*)\")",
      "count_values(\"v\", " + doubling + ")",
      "label_join(" + wide + ", \"joined\", \",\"" + many_long + ")",
  };
  std::vector<std::thread> callers;
  std::vector<http::Response> answers(std::size(queries));
  for (size_t i = 0; i < std::size(queries); ++i) {
    callers.emplace_back([&, i] {
      std::unique_ptr<http::Client> client;
      ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
      ASSERT_TRUE(client->Do("POST", "/api/v1/query", {{"Content-Type", "application/x-www-form-urlencoded"}},
                             "query=" + testing::QueryEscape(queries[i]), &answers[i], std::chrono::seconds(60))
                      .ok());
    });
  }
  std::unique_ptr<http::Client> probe;
  ASSERT_TRUE(http::Client::Create(server_->base_url(), &probe).ok());
  http::Response health;
  ASSERT_TRUE(probe->Do("GET", "/-/healthy", {}, "", &health, std::chrono::seconds(5)).ok());
  EXPECT_EQ(health.status, 200);
  for (std::thread& caller : callers) caller.join();
  for (size_t i = 0; i < std::size(queries); ++i) {
    EXPECT_EQ(answers[i].status, 422) << queries[i].substr(0, 120) << ": " << answers[i].body.substr(0, 300);
    EXPECT_NE(answers[i].body.find("\"errorType\":\"execution\""), std::string::npos) << answers[i].body.substr(0, 300);
  }
  EXPECT_NE(answers[0].body.find("--query.max-memory-bytes"), std::string::npos) << answers[0].body.substr(0, 300);
  const uint64_t peak = testing::PeakResidentBytes(server_->pid());
  // Four queries of at most 64 MiB each, plus temporaries; without the
  // bound the first alone needed over 2 GiB.
  EXPECT_LT(peak - baseline, uint64_t{512} << 20) << "baseline " << (baseline >> 20) << " MiB, peak " << (peak >> 20)
                                                  << " MiB";
  RecordProperty("peak_rss_mib", std::to_string(peak >> 20));
  RecordProperty("baseline_rss_mib", std::to_string(baseline >> 20));
}

TEST_F(HostileQueryTest, AQueryWhoseClientLeftStops) {
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
  http::Response response;
  EXPECT_FALSE(client->Do("GET", kHostileQuery, {}, "", &response, std::chrono::milliseconds(1000)).ok())
      << "the query answered within a second: " << response.body;
  // The client is gone; give the server a moment, then it must be idle.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double before = CpuSeconds(server_->pid());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double used = CpuSeconds(server_->pid()) - before;
  EXPECT_LT(used, 0.8) << "the server kept computing for a client that left";
}

TEST_F(HostileQueryTest, HealthAnswersAndSigtermStopsPromptlyDuringOne) {
  std::thread caller([this] {
    std::unique_ptr<http::Client> client;
    ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
    http::Response response;
    client->Do("GET", kHostileQuery, {}, "", &response, std::chrono::seconds(60));  // ends with the server
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::unique_ptr<http::Client> probe;
  ASSERT_TRUE(http::Client::Create(server_->base_url(), &probe).ok());
  http::Response health;
  ASSERT_TRUE(probe->Do("GET", "/-/healthy", {}, "", &health, std::chrono::seconds(5)).ok());
  EXPECT_EQ(health.status, 200);
  const auto began = Clock::now();
  EXPECT_TRUE(server_->Stop(std::chrono::seconds(30)).ok()) << server_->LogTail();
  EXPECT_LT(Clock::now() - began, std::chrono::seconds(10)) << "SIGTERM waited for the running query";
  caller.join();
}

}  // namespace
}  // namespace tsvault
