// Tests for the transport-neutral pieces: header lookup, URL and form
// decoding, request parameters, address parsing and the router.
#include "http/http.h"

#include <gtest/gtest.h>

#include <random>

#include "http/internal_util.h"
#include "http/router.h"

namespace tsvault::http {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(PercentDecodeTest, DecodesEscapes) {
  EXPECT_EQ(PercentDecode("%41b%2Fc%2f", false), "Ab/c/");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("%e2%82%AC", false), "\xe2\x82\xac");
  EXPECT_EQ(PercentDecode("%00", false), std::string(1, '\0'));
}

TEST(PercentDecodeTest, KeepsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("%", false), "%");
  EXPECT_EQ(PercentDecode("%4", false), "%4");
  EXPECT_EQ(PercentDecode("a%zzb", false), "a%zzb");
  EXPECT_EQ(PercentDecode("%%41", false), "%A");
  EXPECT_EQ(PercentDecode("", true), "");
}

TEST(ParseFormEncodedTest, SplitsAndDecodes) {
  EXPECT_EQ(ParseFormEncoded("a=1&b=x+y&a=%3D%26"),
            (Pairs{{"a", "1"}, {"b", "x y"}, {"a", "=&"}}));
  EXPECT_EQ(ParseFormEncoded("match%5B%5D=up%7Bjob%3D%22x%22%7D"),
            (Pairs{{"match[]", "up{job=\"x\"}"}}));
}

TEST(ParseFormEncodedTest, EdgeCases) {
  EXPECT_TRUE(ParseFormEncoded("").empty());
  EXPECT_TRUE(ParseFormEncoded("&&&").empty());
  EXPECT_EQ(ParseFormEncoded("flag&k="), (Pairs{{"flag", ""}, {"k", ""}}));
  EXPECT_EQ(ParseFormEncoded("=v"), (Pairs{{"", "v"}}));
  EXPECT_EQ(ParseFormEncoded("a=b=c"), (Pairs{{"a", "b=c"}}));
}

TEST(ParseFormEncodedTest, RandomInputNeverCrashes) {
  std::mt19937 random(1234);
  const std::string alphabet("ab=&%+0F9z\0\xff", 12);
  for (int round = 0; round < 20000; ++round) {
    std::string input(random() % 40, ' ');
    for (char& c : input) c = alphabet[random() % alphabet.size()];
    size_t decoded_size = 0;
    for (const auto& [key, value] : ParseFormEncoded(input)) decoded_size += key.size() + value.size();
    ASSERT_LE(decoded_size, input.size());
    ASSERT_LE(PercentDecode(input, false).size(), input.size());
  }
}

TEST(RequestTest, HeaderLookupIgnoresCase) {
  Request request;
  request.headers = {{"content-type", "text/plain"}, {"x-empty", ""}, {"x-dup", "1"}, {"x-dup", "2"}};
  EXPECT_EQ(request.Header("Content-Type"), "text/plain");
  EXPECT_EQ(request.Header("X-DUP"), "1");
  EXPECT_EQ(request.Header("missing"), "");
  EXPECT_TRUE(request.HasHeader("X-Empty"));
  EXPECT_FALSE(request.HasHeader("missing"));
}

TEST(ResponseTest, SetHeaderReplaces) {
  Response response;
  response.headers = {{"X-A", "1"}, {"x-b", "2"}, {"x-a", "3"}};
  response.SetHeader("x-A", "new");
  EXPECT_EQ(response.headers, (Pairs{{"x-A", "new"}, {"x-b", "2"}}));
  response.SetHeader("Content-Type", "application/json");
  EXPECT_EQ(response.Header("content-type"), "application/json");
  EXPECT_EQ(response.headers.size(), 3u);
}

TEST(RequestParamsTest, QueryThenForm) {
  Request request;
  request.method = "POST";
  request.target = "/api/v1/query?query=up&time=1";
  request.headers = {{"content-type", "application/x-www-form-urlencoded; charset=UTF-8"}};
  request.body = "query=rate(x%5B5m%5D)&step=15";
  EXPECT_EQ(RequestParams(request),
            (Pairs{{"query", "up"}, {"time", "1"}, {"query", "rate(x[5m])"}, {"step", "15"}}));
}

TEST(RequestParamsTest, IgnoresBodyUnlessPostForm) {
  Request request;
  request.method = "GET";
  request.target = "/q?a=1";
  request.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  request.body = "b=2";
  EXPECT_EQ(RequestParams(request), (Pairs{{"a", "1"}}));

  request.method = "POST";
  request.headers = {{"content-type", "application/json"}};
  EXPECT_EQ(RequestParams(request), (Pairs{{"a", "1"}}));

  request.headers = {{"content-type", " Application/X-WWW-Form-Urlencoded "}};
  request.target = "/q";
  EXPECT_EQ(RequestParams(request), (Pairs{{"b", "2"}}));
}

TEST(HostPortTest, Parses) {
  HostPort out;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:9201", &out).ok());
  EXPECT_EQ(out.host, "127.0.0.1");
  EXPECT_EQ(out.port, 9201);
  ASSERT_TRUE(ParseHostPort("[::1]:0", &out).ok());
  EXPECT_EQ(out.host, "::1");
  EXPECT_EQ(out.port, 0);
  ASSERT_TRUE(ParseHostPort(":65535", &out).ok());
  EXPECT_EQ(out.host, "");
  EXPECT_EQ(out.port, 65535);
  ASSERT_TRUE(ParseHostPort("localhost:80", &out).ok());
  EXPECT_EQ(out.host, "localhost");
}

TEST(HostPortTest, Rejects) {
  HostPort out;
  for (const char* bad : {"", "host", "host:", "host:65536", "host:12a", "::1:80", "[::1]", "[::1]80",
                          "[]:80", "host:-1", "host:123456"}) {
    Status status = ParseHostPort(bad, &out);
    EXPECT_TRUE(status.IsInvalidArgument()) << bad;
  }
  EXPECT_EQ(FormatHostPort("::1", 80), "[::1]:80");
  EXPECT_EQ(FormatHostPort("10.0.0.1", 9), "10.0.0.1:9");
}

TEST(HeaderCheckTest, RejectsInjection) {
  EXPECT_TRUE(IsValidHeaderName("X-Prometheus-Remote-Write-Version"));
  EXPECT_FALSE(IsValidHeaderName(""));
  EXPECT_FALSE(IsValidHeaderName("a b"));
  EXPECT_FALSE(IsValidHeaderName("a:b"));
  EXPECT_TRUE(IsValidHeaderValue("text/plain; charset=utf-8"));
  EXPECT_FALSE(IsValidHeaderValue("a\r\nSet-Cookie: x"));
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* pattern : {"/api/v1/query", "/api/v1/label/*", "/api/v1/label/special/*", "/"}) {
      router_.Add("GET", pattern, Named(pattern));
    }
    router_.Add("POST", "/api/v1/query", Named("post-query"));
  }
  static Handler Named(std::string name) {
    return [name](const Request&, Response* response) { response->body = name; };
  }
  std::string Run(const Router::Match& match) {
    Response response;
    (*match.handler)(Request(), &response);
    return response.body;
  }
  Router router_;
};

TEST_F(RouterTest, ExactAndPrefix) {
  auto match = router_.Find("GET", "/api/v1/query");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(Run(match), "/api/v1/query");
  EXPECT_EQ(match.pattern, "/api/v1/query");
  EXPECT_EQ(Run(router_.Find("POST", "/api/v1/query")), "post-query");

  match = router_.Find("GET", "/api/v1/label/job/values");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(match.pattern, "/api/v1/label/*");
  EXPECT_EQ(Run(router_.Find("GET", "/api/v1/label/special/x")), "/api/v1/label/special/*");
  EXPECT_EQ(Run(router_.Find("GET", "/api/v1/label/")), "/api/v1/label/*");
}

TEST_F(RouterTest, NotFoundAndMethodNotAllowed) {
  auto match = router_.Find("GET", "/api/v1/label");  // no trailing '/'
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_EQ(match.error_status, 404);
  EXPECT_EQ(match.pattern, "other");
  EXPECT_EQ(router_.Find("GET", "/api/v1/query/extra").error_status, 404);

  match = router_.Find("DELETE", "/api/v1/query");
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_EQ(match.error_status, 405);
  EXPECT_EQ(match.allow, "GET, HEAD, POST");
  EXPECT_EQ(match.pattern, "/api/v1/query");
  EXPECT_EQ(router_.Find("PUT", "/api/v1/label/x").error_status, 405);
}

TEST_F(RouterTest, HeadUsesGet) {
  auto match = router_.Find("HEAD", "/api/v1/label/a");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_TRUE(match.head_via_get);
  EXPECT_FALSE(router_.Find("GET", "/api/v1/label/a").head_via_get);
}

TEST_F(RouterTest, LaterRegistrationReplaces) {
  router_.Add("GET", "/api/v1/query", Named("replaced"));
  router_.Add("GET", "/api/v1/label/*", Named("replaced-prefix"));
  EXPECT_EQ(Run(router_.Find("GET", "/api/v1/query")), "replaced");
  EXPECT_EQ(Run(router_.Find("GET", "/api/v1/label/z")), "replaced-prefix");
}

}  // namespace
}  // namespace tsvault::http
