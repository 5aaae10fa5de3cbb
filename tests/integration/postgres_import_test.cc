// `tsvault import postgres` against a real PostgreSQL 15 (Debian
// `postgresql`): two years of daily ReengagementMetrics rows, mapped by the
// example shipped in docs/examples/, land in a tsvault with the default 30d
// raw retention (so most of them go straight into rollups). Monthly sums by
// level and type from PromQL equal SQL's GROUP BY to the last digit, for the
// per-day gauges and for the running-total counters; re-runs (also from
// --since) store nothing twice; --dry-run stores nothing; a missing table or
// column and a value that is not a number are named. Then tsvault's CSV
// export is \copy-ed into a second table and compared with EXCEPT both ways.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "tests/support/ports.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

constexpr char kMapping[] = TSVAULT_SOURCE_DIR "/docs/examples/reengagement-metrics.yaml";

// Two years of rows up to yesterday (Moscow), 12 per day; values from a
// hash, so each (day, level, type, campaign) differs.
constexpr char kCreateTable[] = R"sql(
CREATE TABLE "ReengagementMetrics" (
  id serial PRIMARY KEY,
  date date NOT NULL,
  level text NOT NULL,
  type text NOT NULL,
  campaign text NOT NULL,
  active_campaigns integer,
  notifications_sent integer,
  users_returned integer,
  clicks integer,
  opens integer
);
INSERT INTO "ReengagementMetrics"
  (date, level, type, campaign, active_campaigns, notifications_sent, users_returned, clicks, opens)
SELECT d::date, l, t, c,
       1 + abs(hashtext(d::text || l)) % 5,
       abs(hashtext(d::text || l || t || c)) % 5000,
       abs(hashtext(c || t || l || d::text)) % 300,
       abs(hashtext(t || d::text || c || l)) % 1000,
       abs(hashtext(l || c || d::text || t)) % 2000
FROM generate_series((now() AT TIME ZONE 'Europe/Moscow')::date - interval '2 years',
                     (now() AT TIME ZONE 'Europe/Moscow')::date - interval '1 day', interval '1 day') AS d,
     unnest(ARRAY['easy', 'medium', 'hard']) AS l,
     unnest(ARRAY['email', 'push']) AS t,
     unnest(ARRAY['spring', 'winter']) AS c;
)sql";

// Per month, level and type: the sum of notifications_sent, and when the
// month ends (the next month's first midnight in Moscow) and its length.
constexpr char kMonthlySums[] = R"sql(
SELECT to_char(date_trunc('month', date), 'YYYY-MM'), level, type, sum(notifications_sent),
       extract(epoch FROM (date_trunc('month', date) + interval '1 month')::timestamp AT TIME ZONE 'Europe/Moscow')::bigint,
       extract(day FROM date_trunc('month', date) + interval '1 month' - interval '1 day')::int
FROM "ReengagementMetrics" GROUP BY 1, 2, 3, 5, 6 ORDER BY 1, 2, 3;
)sql";

struct MonthSum {
  std::string month, level, type;
  double sum = 0;
  int64_t end_seconds = 0;
  int days = 0;
};

class PostgresImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::PostgresServer::Installed()) {
      GTEST_FAIL() << "PostgreSQL 15 is not installed: scripts/install-deps.sh installs the postgresql package";
    }
    ASSERT_TRUE(postgres_.Start(dir_.path()).ok());
    ASSERT_TRUE(postgres_.Psql(kCreateTable).ok());
    testing::TsvaultServerOptions options;
    options.binary = testing::TsvaultBinaryPath();
    options.data_dir = dir_.path() + "/tsvault";
    options.log_path = dir_.path() + "/tsvault.log";
    // The default retention (raw 30d, 5m 180d, 1h 2y); downsampling and
    // retention run every second, so the cutoffs are set before the import.
    options.extra_args = {"--storage.wal-sync=none", "--downsample.interval=1s"};
    tsvault_ = std::make_unique<testing::TsvaultServer>(options);
    ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
    ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), &client_).ok());
    for (int i = 0; i < 300 && RawCutoff() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_GT(RawCutoff(), 0) << "retention never set the raw cutoff";
  }

  nlohmann::json Get(const std::string& target) {
    http::Response response;
    EXPECT_TRUE(client_->Get(target, &response).ok());
    EXPECT_EQ(response.status, 200) << target << ": " << response.body;
    return nlohmann::json::parse(response.body, nullptr, false);
  }

  // droppedBefore of a resolution (0 raw ... 3 1d), 0 when none.
  int64_t Cutoff(int level) {
    const nlohmann::json tsdb = Get("/api/v1/status/tsdb");
    const nlohmann::json& entry = tsdb["data"]["resolutions"][level];
    return entry.contains("droppedBefore") ? entry["droppedBefore"].get<int64_t>() : 0;
  }
  int64_t RawCutoff() { return Cutoff(0); }

  // `tsvault import postgres` with these flags; its exit code, its output in *log.
  int Import(std::vector<std::string> flags, std::string* log) {
    std::vector<std::string> argv = {testing::TsvaultBinaryPath(), "import", "postgres", "--connection",
                                     postgres_.ConnectionString()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const std::string path = dir_.path() + "/import-" + std::to_string(++imports_) + ".log";
    const int code = testing::RunProgram(argv, path);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    *log = text.str();
    return code;
  }

  std::vector<MonthSum> SqlMonthlySums() {
    std::string output;
    EXPECT_TRUE(postgres_.Psql(kMonthlySums, &output).ok());
    std::vector<MonthSum> sums;
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      std::vector<std::string> fields;
      std::istringstream parts(line);
      std::string field;
      while (std::getline(parts, field, '|')) fields.push_back(field);
      EXPECT_EQ(fields.size(), 6u) << line;
      if (fields.size() != 6) continue;
      sums.push_back({fields[0], fields[1], fields[2], std::stod(fields[3]), std::stoll(fields[4]), std::stoi(fields[5])});
    }
    return sums;
  }

  // sum by (level, type) of `expr` at `t` (seconds): "level/type" -> value.
  std::map<std::string, double> ByLevelAndType(const std::string& expr, int64_t t) {
    const nlohmann::json answer = Get("/api/v1/query?query=" + testing::QueryEscape("sum by (level, type) (" + expr + ")") +
                                      "&time=" + std::to_string(t));
    std::map<std::string, double> out;
    for (const nlohmann::json& entry : answer["data"]["result"]) {
      out[entry["metric"].value("level", "") + "/" + entry["metric"].value("type", "")] =
          std::stod(entry["value"][1].get<std::string>());
    }
    return out;
  }

  static double Value(const std::map<std::string, double>& values, const std::string& key) {
    auto found = values.find(key);
    return found == values.end() ? -1 : found->second;
  }

  // Checks every month whose rows the 1h rollups (or finer data) still hold
  // against SQL: the gauge summed over the month, and the counter's growth
  // over it. Returns the number of months checked.
  int CheckMonthlySums(const std::vector<MonthSum>& sums) {
    const int64_t hour_cutoff_seconds = Cutoff(2) / 1000;
    std::map<std::string, double> previous_totals;  // counter at the end of the previous month
    int months = 0;
    std::string month;
    for (size_t i = 0; i < sums.size(); ++i) {
      if (sums[i].month == month) continue;
      month = sums[i].month;
      // The month's samples lie in (end - days - 1h, end - 1h]: at each
      // day's midnight in Moscow, 21:00 UTC, a multiple of 1h.
      const int64_t at = sums[i].end_seconds - 3600;
      const std::string range = std::to_string(sums[i].days) + "d";
      const auto gauge = ByLevelAndType("sum_over_time(reengagement_notifications_sent[" + range + "])", at);
      // The counter's last total in the month (the current month ends later).
      const auto totals = ByLevelAndType("last_over_time(reengagement_notifications_sent_total[" + range + "])", at);
      const bool checked = at - sums[i].days * 86400 > hour_cutoff_seconds;
      for (size_t j = i; j < sums.size() && sums[j].month == month; ++j) {
        const std::string key = sums[j].level + "/" + sums[j].type;
        if (checked) {
          EXPECT_EQ(Value(gauge, key), sums[j].sum) << month << " " << key;
          if (previous_totals.count(key) > 0) {
            EXPECT_EQ(Value(totals, key) - previous_totals[key], sums[j].sum) << month << " " << key << " (counter)";
          }
        }
        previous_totals[key] = totals.count(key) ? totals.at(key) : 0;
      }
      months += checked ? 1 : 0;
    }
    return months;
  }

  testing::TempDir dir_;
  testing::PostgresServer postgres_;
  std::unique_ptr<testing::TsvaultServer> tsvault_;
  std::unique_ptr<http::Client> client_;
  int imports_ = 0;
};

TEST_F(PostgresImportTest, TwoYearsOfDailyRowsGiveTheSameMonthlySumsAsSql) {
  const std::string url = tsvault_->base_url();
  std::string log;

  // --dry-run shows the first rows' series and stores nothing.
  ASSERT_EQ(Import({"--mapping", kMapping, "--dry-run", "--dry-run-rows", "2"}, &log), 0) << log;
  EXPECT_NE(log.find("statement: SELECT"), std::string::npos) << log;
  EXPECT_NE(log.find("reengagement_notifications_sent{campaign=\"spring\", level=\"easy\", type=\"email\"} "),
            std::string::npos)
      << log;
  EXPECT_TRUE(ByLevelAndType("reengagement_notifications_sent", std::chrono::duration_cast<std::chrono::seconds>(
                                                                     std::chrono::system_clock::now().time_since_epoch())
                                                                     .count())
                  .empty());

  ASSERT_EQ(Import({"--mapping", kMapping, "--url", url}, &log), 0) << log;
  EXPECT_NE(log.find(" 0 refused"), std::string::npos) << log;
  const std::vector<MonthSum> sums = SqlMonthlySums();
  ASSERT_GE(sums.size(), 24u * 6);
  EXPECT_GE(CheckMonthlySums(sums), 22) << "too few months compared; 1h cutoff " << Cutoff(2);

  // Re-runs store nothing twice: the whole table, then from --since (the
  // counters continue from the sums of the rows before it).
  ASSERT_EQ(Import({"--mapping", kMapping, "--url", url}, &log), 0) << log;
  EXPECT_NE(log.find(" 0 refused"), std::string::npos) << log;
  std::string since;
  ASSERT_TRUE(postgres_.Psql("SELECT (now() AT TIME ZONE 'Europe/Moscow')::date - 45;", &since).ok());
  since.erase(since.find_last_not_of("\n ") + 1);
  ASSERT_EQ(Import({"--mapping", kMapping, "--url", url, "--since", since}, &log), 0) << log;
  EXPECT_NE(log.find(" 0 refused"), std::string::npos) << log;
  EXPECT_GE(CheckMonthlySums(sums), 22);

  // `tsvault export csv` of the daily values (a PromQL query at every local
  // midnight), \copy-ed into a second table, equals the source rows: 0 rows
  // differ either way. From the first day the 1h rollups still hold.
  std::string first;
  ASSERT_TRUE(postgres_
                  .Psql("SELECT min(date), extract(epoch FROM min(date)::timestamp AT TIME ZONE 'Europe/Moscow')::bigint "
                        "FROM \"ReengagementMetrics\" WHERE extract(epoch FROM date::timestamp AT TIME ZONE "
                        "'Europe/Moscow') > " + std::to_string(Cutoff(2) / 1000) + ";",
                        &first)
                  .ok());
  const std::string first_day = first.substr(0, first.find('|'));
  const std::string first_seconds = first.substr(first.find('|') + 1, first.find('\n') - first.find('|') - 1);
  const std::string csv = dir_.path() + "/export.csv";
  const std::string export_log = dir_.path() + "/export.log";
  ASSERT_EQ(testing::RunProgram({testing::TsvaultBinaryPath(), "export", "csv", "--url", url, "--query",
                                 "reengagement_notifications_sent", "--start", first_seconds, "--step", "1d", "--tz",
                                 "Europe/Moscow", "--format",
                                 "__timestamp__:custom:2006-01-02,level,type,campaign,__value__", "--no-header", "-o",
                                 csv},
                                export_log),
            0)
      << testing::ReadLogTail(export_log);
  std::string differences;
  const std::string source = "SELECT date, level, type, campaign, notifications_sent FROM \"ReengagementMetrics\" "
                             "WHERE date >= '" + first_day + "'";
  ASSERT_TRUE(postgres_
                  .Psql("CREATE TABLE exported (date date, level text, type text, campaign text, "
                        "notifications_sent integer);\n\\copy exported FROM '" + csv + "' WITH (FORMAT csv)\n"
                        "SELECT (SELECT count(*) FROM exported), (SELECT count(*) FROM (" + source +
                        ") s), (SELECT count(*) FROM (" + source + " EXCEPT SELECT * FROM exported) a), "
                        "(SELECT count(*) FROM (SELECT * FROM exported EXCEPT " + source + ") b);",
                        &differences)
                  .ok());
  const std::string rows = differences.substr(0, differences.find('|'));
  EXPECT_GT(std::stoll(rows), 12 * 600) << differences;
  EXPECT_EQ(differences, rows + "|" + rows + "|0|0\n") << "exported|source|missing|extra rows";
}

TEST_F(PostgresImportTest, MissingTablesColumnsAndBadValuesAreNamed) {
  const std::string url = tsvault_->base_url();
  const std::string mappings = dir_.path() + "/mapping.yaml";
  auto write_mapping = [&](const std::string& text) {
    std::ofstream(mappings) << text;
  };
  std::string log;

  write_mapping("table: Nope\ntime: {column: date}\nmetrics: [{column: sent, name: x}]\n");
  EXPECT_EQ(Import({"--mapping", mappings, "--url", url}, &log), 1) << log;
  EXPECT_NE(log.find("table public.Nope not found"), std::string::npos) << log;

  write_mapping("table: ReengagementMetrics\ntime: {column: date}\nmetrics: [{column: notifications_snt, name: x}]\n");
  EXPECT_EQ(Import({"--mapping", mappings, "--url", url}, &log), 1) << log;
  EXPECT_NE(log.find("column notifications_snt (metric x) not found in table public.ReengagementMetrics; it has: "),
            std::string::npos)
      << log;

  write_mapping("table: ReengagementMetrics\ntime: {column: date}\nmetrics: [{column: clicks, name: x, type: sum}]\n");
  EXPECT_EQ(Import({"--mapping", mappings, "--url", url}, &log), 2) << log;
  EXPECT_NE(log.find("mapping line 3, column"), std::string::npos) << log;

  ASSERT_TRUE(postgres_.Psql("CREATE TABLE bad_rows (day date, level text, sent text);"
                             "INSERT INTO bad_rows VALUES ('2026-01-01', 'easy', '5'), ('2026-01-02', 'easy', 'n/a'),"
                             "('2026-01-03', 'easy', '7');")
                  .ok());
  write_mapping("table: bad_rows\ntime: {column: day}\nlabels: {level: level}\nmetrics: [{column: sent, name: bad_sent}]\n");
  EXPECT_EQ(Import({"--mapping", mappings, "--url", url}, &log), 1) << log;
  EXPECT_NE(log.find("row 2 (day 2026-01-02, level=easy): column sent: \"n/a\" is not a number"), std::string::npos)
      << log;
  // What came before the bad row is stored; --on-error=skip stores the rest.
  // (Read at 01:00, a multiple of the 1h rollups that hold January.)
  const int64_t jan3 = 1767398400 + 3600;  // 2026-01-03T01:00:00Z
  EXPECT_EQ(ByLevelAndType("count_over_time(bad_sent[3d])", jan3), (std::map<std::string, double>{{"easy/", 1}}));
  EXPECT_EQ(Import({"--mapping", mappings, "--url", url, "--on-error=skip"}, &log), 1) << log;
  EXPECT_EQ(ByLevelAndType("count_over_time(bad_sent[3d])", jan3), (std::map<std::string, double>{{"easy/", 2}}));
}

}  // namespace
}  // namespace tsvault
