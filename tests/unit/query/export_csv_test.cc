// GET/POST /api/v1/export/csv: the default layout with a header, the
// VictoriaMetrics format= columns, quoting, special values, staleness
// markers and histograms left out, gzip, streaming of a large export, and
// errors naming the parameter.
#include "query/api/export_csv.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <bit>
#include <cmath>
#include <limits>
#include <cstring>
#include <sstream>

#include "tests/support/ports.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

std::string Gunzip(const std::string& compressed) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char buffer[65536];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
  }
  EXPECT_EQ(result, Z_STREAM_END);
  inflateEnd(&stream);
  return out;
}

class ExportCsvTest : public QueryApiTest {
 protected:
  void SetUp() override {
    storage::WriteInput input;
    storage::SeriesWrite a, b, stale, histogram;
    a.labels = {{"__name__", "up"}, {"instance", "a,1"}, {"job", "node"}};
    b.labels = {{"__name__", "up"}, {"job", "say \"hi\""}};
    for (int i = 0; i < 3; ++i) {
      a.samples.push_back({1'700'000'000'000 + i * 15'000, i + 0.5});
      b.samples.push_back({1'700'000'000'000 + i * 15'000, i == 1 ? std::nan("") : 10.0 - i});
    }
    b.samples.push_back({1'700'000'045'000, std::numeric_limits<double>::infinity()});
    stale.labels = {{"__name__", "gone"}, {"job", "node"}};
    stale.samples = {{1'700'000'000'000, 7}, {1'700'000'015'000, std::bit_cast<double>(storage::kStaleNaNBits)}};
    input.series = {a, b, stale};
    ASSERT_NO_FATAL_FAILURE(StartApiWith(input, ApiOptions()));
  }

  http::Response Export(const std::string& query, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    http::Response response;
    EXPECT_TRUE(client_->Do("GET", "/api/v1/export/csv?" + query, headers, "", &response).ok());
    return response;
  }
};

TEST_F(ExportCsvTest, DefaultLayoutHasAHeaderAndEveryLabelAsAColumn) {
  const http::Response response =
      Export("match[]=" + testing::QueryEscape("{job=~\".+\"}") + "&start=1700000000&end=1700000100");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(response.body,
            "__name__,instance,job,timestamp,value\n"
            "gone,,node,2023-11-14T22:13:20.000Z,7\n"
            "up,\"a,1\",node,2023-11-14T22:13:20.000Z,0.5\n"
            "up,\"a,1\",node,2023-11-14T22:13:35.000Z,1.5\n"
            "up,\"a,1\",node,2023-11-14T22:13:50.000Z,2.5\n"
            "up,,\"say \"\"hi\"\"\",2023-11-14T22:13:20.000Z,10\n"
            "up,,\"say \"\"hi\"\"\",2023-11-14T22:13:35.000Z,NaN\n"
            "up,,\"say \"\"hi\"\"\",2023-11-14T22:13:50.000Z,8\n"
            "up,,\"say \"\"hi\"\"\",2023-11-14T22:14:05.000Z,+Inf\n");
}

TEST_F(ExportCsvTest, VictoriaMetricsFormatColumns) {
  const http::Response response = Export("match[]=up&match[]=" + testing::QueryEscape("{instance=\"a,1\"}") +
                                         "&start=1700000000&end=1700000020&format=" +
                                         testing::QueryEscape("__timestamp__:unix_s,job,__name__,__value__,__timestamp__:rfc3339,__timestamp__:unix_ns,missing"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body,
            "1700000000,node,up,0.5,2023-11-14T22:13:20Z,1700000000000000000,\n"
            "1700000015,node,up,1.5,2023-11-14T22:13:35Z,1700000015000000000,\n"
            "1700000000,\"say \"\"hi\"\"\",up,10,2023-11-14T22:13:20Z,1700000000000000000,\n"
            "1700000015,\"say \"\"hi\"\"\",up,NaN,2023-11-14T22:13:35Z,1700000015000000000,\n");
  const http::Response with_header = Export("match[]=gone&format=__value__&header=true&start=0");
  EXPECT_EQ(with_header.body, "__value__\n7\n");
}

TEST_F(ExportCsvTest, SubSecondTimesEmptyColumnsAndApostrophes) {
  storage::WriteInput input;
  storage::SeriesWrite series;
  series.labels = {{"__name__", "fine"}, {"note", "'quoted"}};
  series.samples = {{0, 4}, {1'700'000'000'000, 1}, {1'700'000'000'500, 2}, {1'700'000'000'520, 3}};
  input.series.push_back(series);
  storage::WriteResult result;
  ASSERT_TRUE(db_->Append(input, &result).ok());
  const http::Response response =
      Export("match[]=fine&start=0&format=" + testing::QueryEscape("__timestamp__:rfc3339,,note,__timestamp__:unix_ns"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body,
            "1970-01-01T00:00:00Z,,\"'quoted\",0\n"
            "2023-11-14T22:13:20Z,,\"'quoted\",1700000000000000000\n"
            "2023-11-14T22:13:20.5Z,,\"'quoted\",1700000000500000000\n"
            "2023-11-14T22:13:20.52Z,,\"'quoted\",1700000000520000000\n");
}

TEST_F(ExportCsvTest, GzipWhenAccepted) {
  const http::Response plain = Export("match[]=up&start=0");
  const http::Response zipped = Export("match[]=up&start=0", {{"Accept-Encoding", "deflate, gzip"}});
  ASSERT_EQ(zipped.status, 200);
  EXPECT_EQ(zipped.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(Gunzip(zipped.body), plain.body);
  EXPECT_EQ(Export("match[]=up&start=0", {{"Accept-Encoding", "gzip;q=0, identity"}}).Header("Content-Encoding"), "");
}

TEST_F(ExportCsvTest, ALargeExportIsStreamedWhole) {
  storage::WriteInput input;
  for (int s = 0; s < 40; ++s) {
    storage::SeriesWrite series;
    series.labels = {{"__name__", "big"}, {"s", std::to_string(s)}};
    for (int i = 0; i < 2000; ++i) series.samples.push_back({1'000'000 + i * 1000, static_cast<double>(i)});
    input.series.push_back(series);
  }
  storage::WriteResult result;
  ASSERT_TRUE(db_->Append(input, &result).ok());
  const http::Response response = Export("match[]=big&start=0&format=s,__value__");
  ASSERT_EQ(response.status, 200);
  std::istringstream lines(response.body);
  std::string line;
  size_t rows = 0;
  while (std::getline(lines, line)) ++rows;
  EXPECT_EQ(rows, 40u * 2000);
  EXPECT_GT(response.body.size(), 512u * 1024) << "more than a few streamed pieces";
  const http::Response zipped = Export("match[]=big&start=0&format=s,__value__", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(Gunzip(zipped.body), response.body);
  EXPECT_LT(zipped.body.size(), response.body.size() / 3);
}

TEST_F(ExportCsvTest, ErrorsNameTheParameter) {
  http::Response response = Export("start=0");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("match[]"), std::string::npos) << response.body;
  response = Export("match[]=up{&start=0");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("match[]"), std::string::npos) << response.body;
  response = Export("match[]=up&format=__timestamp__:weeks");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("unknown timestamp format"), std::string::npos) << response.body;
  response = Export("match[]=up&start=yesterday");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("start"), std::string::npos) << response.body;
  response = Export("match[]=up&extra_label=job%3Dx");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("extra_label"), std::string::npos) << response.body;
  response = Export("match[]=up&layout=tall");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("invalid parameter \"layout\""), std::string::npos) << response.body;
  response = Export("match[]=up&layout=wide&start=0");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("missing parameter \"step\""), std::string::npos) << response.body;
  response = Export("query=up&start=0&step=0s");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("invalid parameter \"step\""), std::string::npos) << response.body;
  response = Export("match[]=up&start=0&step=1m");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("\"step\" applies to query= and layout=wide"), std::string::npos) << response.body;
  response = Export("query=up&match[]=up&start=0&step=1m");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("either query= or match[]"), std::string::npos) << response.body;
  response = Export("query=up&start=0&end=60&step=1m&tz=Mars%2FOlympus");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("invalid parameter \"tz\": unknown time zone"), std::string::npos) << response.body;
  response = Export("query=up&layout=wide&start=0&end=60&step=1m&format=__value__");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("timestamp_format"), std::string::npos) << response.body;
  response = Export("query=" + testing::QueryEscape("sum(") + "&start=0&end=60&step=1m");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("invalid parameter \"query\""), std::string::npos) << response.body;
  response = Export("query=up&start=0&end=100000000&step=1s");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("points per timeseries"), std::string::npos) << response.body;
}

TEST_F(ExportCsvTest, QueryResultsInTheLongLayout) {
  http::Response response = Export("query=up&start=1700000000&end=1700000030&step=15s");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body,
            "__name__,instance,job,timestamp,value\n"
            "up,\"a,1\",node,2023-11-14T22:13:20.000Z,0.5\n"
            "up,\"a,1\",node,2023-11-14T22:13:35.000Z,1.5\n"
            "up,\"a,1\",node,2023-11-14T22:13:50.000Z,2.5\n"
            "up,,\"say \"\"hi\"\"\",2023-11-14T22:13:20.000Z,10\n"
            "up,,\"say \"\"hi\"\"\",2023-11-14T22:13:35.000Z,NaN\n"
            "up,,\"say \"\"hi\"\"\",2023-11-14T22:13:50.000Z,8\n");
  // format= columns, a Go layout in the team's zone, no header.
  response = Export("query=" + testing::QueryEscape("up{job=\"node\"} * 2") +
                    "&start=1700000000&end=1700000000&step=15s&tz=Europe%2FMoscow&header=false&format=" +
                    testing::QueryEscape("__timestamp__:custom:2006-01-02 15:04:05,job,__value__"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, "2023-11-15 01:13:20,node,1\n");
}

TEST_F(ExportCsvTest, WideLayoutHasOneColumnPerSeries) {
  http::Response response =
      Export("layout=wide&match[]=up&start=1700000000&end=1700000030&step=15s&timestamp_format=unix_s");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body,
            "timestamp,\"instance=a,1 job=node\",\"job=say \"\"hi\"\"\"\n"
            "1700000000,0.5,10\n"
            "1700000015,1.5,NaN\n"
            "1700000030,2.5,8\n");
  // Daily steps land on the zone's midnights; a series without labels is "value".
  response = Export("layout=wide&query=vector(1)&start=1735689600&end=1736035200&step=1d&tz=Europe%2FMoscow"
                    "&timestamp_format=custom:2006-01-02");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, "timestamp,value\n2025-01-02,1\n2025-01-03,1\n2025-01-04,1\n2025-01-05,1\n");
  // Missing points are empty cells.
  response = Export("layout=wide&query=" + testing::QueryEscape("up{job=\"node\"} > 1 or up{job!=\"node\"}") +
                    "&start=1700000000&end=1700000030&step=15s&timestamp_format=unix_s");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body,
            "timestamp,\"instance=a,1 job=node\",\"job=say \"\"hi\"\"\"\n"
            "1700000000,,10\n"
            "1700000015,1.5,NaN\n"
            "1700000030,2.5,8\n");
}

}  // namespace
}  // namespace tsvault::query
