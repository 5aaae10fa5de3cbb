// WebSecurity: who may do what, request by request, and reloading.
#include "auth/web_security.h"

#include <gtest/gtest.h>

#include <fstream>

#include "auth/password_hash.h"
#include "tests/support/temp_dir.h"

namespace tsvault::auth {
namespace {

std::string Hash(const std::string& password) {
  std::string hash;
  EXPECT_TRUE(HashPassword(password, 4, &hash).ok());
  return hash;
}

std::string Basic(const std::string& user, const std::string& password) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = user + ":" + password;
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t chunk = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) chunk |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) chunk |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[chunk & 63] : '=';
  }
  return "Basic " + out;
}

class WebSecurityTest : public ::testing::Test {
 protected:
  void Write(const std::string& text) { std::ofstream(path_) << text; }

  void Open() {
    Status s = WebSecurity::Open(path_, &security_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // The status Admit gives (200 when admitted), and the refusal.
  int Decide(const std::string& method, const std::string& path, const std::string& authorization,
             http::Response* refusal = nullptr) {
    http::Request request;
    request.method = method;
    request.path = path;
    if (!authorization.empty()) request.headers.emplace_back("authorization", authorization);
    http::Response response;
    const bool admitted = security_->Admit(request, &response);
    if (refusal != nullptr) *refusal = response;
    return admitted ? 200 : response.status;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.path() + "/web.yml";
  std::unique_ptr<WebSecurity> security_;
};

TEST_F(WebSecurityTest, EndpointsNeedTheirRole) {
  EXPECT_EQ(RequiredRole("/-/healthy"), 0);
  EXPECT_EQ(RequiredRole("/-/ready"), 0);
  EXPECT_EQ(RequiredRole("/api/v1/write"), kRoleWrite);
  EXPECT_EQ(RequiredRole("/api/v1/import/csv"), kRoleWrite);
  EXPECT_EQ(RequiredRole("/api/v1/admin/tsdb/delete_series"), kRoleAdmin);
  EXPECT_EQ(RequiredRole("/api/v1/query"), kRoleRead);
  EXPECT_EQ(RequiredRole("/api/v1/read"), kRoleRead);
  EXPECT_EQ(RequiredRole("/api/v1/export/csv"), kRoleRead);
  EXPECT_EQ(RequiredRole("/metrics"), kRoleRead);
  EXPECT_EQ(RequiredRole("/anything/else"), kRoleRead);
}

TEST_F(WebSecurityTest, UsersAndTokensGetExactlyTheirRoles) {
  Write("basic_auth_users:\n  prometheus: " + Hash("pw-w") + "\n  grafana: " + Hash("pw-r") +
        "\n  nobody: " + Hash("pw-n") + "\nbearer_tokens:\n  ops: " + Hash("token-ops") +
        "\nroles:\n  prometheus: [write]\n  grafana: [read]\n  ops: [read, write, admin]\n");
  ASSERT_NO_FATAL_FAILURE(Open());
  http::Response refusal;
  EXPECT_EQ(Decide("GET", "/api/v1/query", "", &refusal), 401);
  EXPECT_EQ(refusal.Header("WWW-Authenticate"), "Basic realm=\"tsvault\"");
  EXPECT_EQ(Decide("GET", "/-/healthy", ""), 200);
  EXPECT_EQ(Decide("HEAD", "/-/ready", ""), 200);
  EXPECT_EQ(Decide("POST", "/api/v1/write", Basic("prometheus", "pw-w")), 200);
  EXPECT_EQ(Decide("GET", "/api/v1/query", Basic("prometheus", "pw-w"), &refusal), 403);
  EXPECT_EQ(refusal.body,
            "403 forbidden: user \"prometheus\" (roles: write) may not GET /api/v1/query, which needs the read role\n");
  EXPECT_EQ(Decide("GET", "/api/v1/query", Basic("grafana", "pw-r")), 200);
  EXPECT_EQ(Decide("POST", "/api/v1/import/csv", Basic("grafana", "pw-r")), 403);
  EXPECT_EQ(Decide("POST", "/api/v1/admin/tsdb/snapshot", Basic("grafana", "pw-r")), 403);
  EXPECT_EQ(Decide("GET", "/metrics", Basic("nobody", "pw-n")), 403);  // not in roles: none
  EXPECT_EQ(Decide("GET", "/api/v1/query", Basic("grafana", "pw-w"), &refusal), 401);
  EXPECT_EQ(refusal.body, "401 unauthorized: wrong user name or password\n");
  EXPECT_EQ(Decide("GET", "/api/v1/query", Basic("mallory", "pw-r")), 401);
  EXPECT_EQ(Decide("POST", "/api/v1/admin/tsdb/snapshot", "Bearer token-ops"), 200);
  EXPECT_EQ(Decide("POST", "/api/v1/admin/tsdb/snapshot", "bearer token-ops"), 200);  // scheme case
  EXPECT_EQ(Decide("POST", "/api/v1/write", "Bearer token-nope", &refusal), 401);
  EXPECT_EQ(refusal.body, "401 unauthorized: unknown bearer token\n");
  EXPECT_EQ(Decide("GET", "/api/v1/query", "Basic !!!!", &refusal), 401);
  EXPECT_EQ(refusal.body, "401 unauthorized: malformed basic credentials\n");
  EXPECT_EQ(Decide("GET", "/api/v1/query", "Digest x", &refusal), 401);
  EXPECT_EQ(refusal.body, "401 unauthorized: the \"Digest\" scheme is not accepted here (Basic or Bearer)\n");
  // The same answers again come from the cache of checked credentials.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Decide("POST", "/api/v1/write", Basic("prometheus", "pw-w")), 200);
    EXPECT_EQ(Decide("POST", "/api/v1/write", Basic("prometheus", "pw-x")), 401);
  }
  // A password with a colon: only the first colon separates the user.
  Write("basic_auth_users:\n  u: " + Hash("a:b") + "\n");
  ASSERT_TRUE(security_->Reload(nullptr).ok());
  EXPECT_EQ(Decide("GET", "/api/v1/query", Basic("u", "a:b")), 200);
}

TEST_F(WebSecurityTest, WithoutRolesEveryUserMayDoEverythingAndWithoutUsersNothingIsAsked) {
  Write("basic_auth_users:\n  alice: " + Hash("pw") + "\n");
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(Decide("POST", "/api/v1/admin/tsdb/delete_series", Basic("alice", "pw")), 200);
  EXPECT_EQ(Decide("POST", "/api/v1/admin/tsdb/delete_series", ""), 401);
  Write("http_server_config:\n  headers:\n    X-Frame-Options: deny\n");
  ASSERT_TRUE(security_->Reload(nullptr).ok());
  EXPECT_EQ(Decide("POST", "/api/v1/write", ""), 200);
  std::unique_ptr<WebSecurity> open;
  ASSERT_TRUE(WebSecurity::Open("", &open).ok());
  http::Request request;
  request.path = "/api/v1/write";
  http::Response response;
  EXPECT_TRUE(open->Admit(request, &response));
  EXPECT_FALSE(open->tls());
}

TEST_F(WebSecurityTest, AReloadThatFailsKeepsThePreviousConfig) {
  Write("basic_auth_users:\n  alice: " + Hash("old") + "\n");
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(Decide("GET", "/api/v1/query", Basic("alice", "old")), 200);
  Write("basic_auth_users:\n  alice: not-a-hash\n");
  Status s = security_->Reload(nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path_ + ": line 2 column 10: basic_auth_users.alice: not a bcrypt hash"), std::string::npos)
      << s.message();
  EXPECT_EQ(Decide("GET", "/api/v1/query", Basic("alice", "old")), 200);
  Write("basic_auth_users:\n  alice: " + Hash("new") + "\n");
  ASSERT_TRUE(security_->Reload(nullptr).ok());
  EXPECT_EQ(Decide("GET", "/api/v1/query", Basic("alice", "old")), 401);  // the old cache went with the old config
  EXPECT_EQ(Decide("GET", "/api/v1/query", Basic("alice", "new")), 200);
  // TLS cannot be switched on by a reload.
  Write("tls_server_config:\n  cert_file: a.pem\n  key_file: a.key\n");
  EXPECT_FALSE(security_->Reload(nullptr).ok());
}

TEST_F(WebSecurityTest, OnlyBearerTokensAskForBearer) {
  Write("bearer_tokens:\n  writer: " + Hash("abc") + "\n");
  ASSERT_NO_FATAL_FAILURE(Open());
  http::Response refusal;
  EXPECT_EQ(Decide("POST", "/api/v1/write", Basic("writer", "abc"), &refusal), 401);
  EXPECT_EQ(refusal.Header("WWW-Authenticate"), "Bearer realm=\"tsvault\"");
  EXPECT_EQ(Decide("POST", "/api/v1/write", "Bearer abc"), 200);
  EXPECT_EQ(Decide("POST", "/api/v1/write", "Bearer  abc"), 200);
  EXPECT_EQ(Decide("POST", "/api/v1/write", "Bearer"), 401);
}

}  // namespace
}  // namespace tsvault::auth
