// Parsing the web config file (auth/web_config.h) and bcrypt hashes.
#include "auth/web_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "auth/password_hash.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace tsvault::auth {
namespace {

std::string Hash(const std::string& password) {
  std::string hash;
  EXPECT_TRUE(HashPassword(password, 4, &hash).ok());
  return hash;
}

TEST(PasswordHashTest, HashesAreBcryptAndMatchOnlyTheirPassword) {
  const std::string hash = Hash("s3cret");
  EXPECT_EQ(hash.substr(0, 7), "$2y$04$");
  EXPECT_TRUE(CheckPasswordHash(hash).ok());
  EXPECT_TRUE(PasswordMatches("s3cret", hash));
  EXPECT_FALSE(PasswordMatches("s3cret ", hash));
  EXPECT_FALSE(PasswordMatches("", hash));
  EXPECT_FALSE(PasswordMatches(std::string("s3cret\0x", 8), hash));
  // The $2a$/$2b$ spellings (htpasswd, Python's bcrypt) verify too.
  std::string b_spelling = hash;
  b_spelling[2] = 'b';
  EXPECT_TRUE(PasswordMatches("s3cret", b_spelling));
  // A published vector of crypt_blowfish's test suite.
  EXPECT_TRUE(PasswordMatches("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  EXPECT_FALSE(PasswordMatches("U*V", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  EXPECT_FALSE(CheckPasswordHash("secret").ok());
  EXPECT_FALSE(CheckPasswordHash("$1$abc$" + std::string(53, 'a')).ok());
  EXPECT_FALSE(CheckPasswordHash("$2y$99$" + std::string(53, 'a')).ok());
  EXPECT_FALSE(CheckPasswordHash("$2y$10$" + std::string(52, 'a') + "!").ok());
  std::string out;
  EXPECT_FALSE(HashPassword("x", 3, &out).ok());
}

TEST(WebConfigTest, ReadsPrometheusFieldsAndTsvaultRoles) {
  const std::string writer = Hash("w"), reader = Hash("r"), token = Hash("t");
  WebConfig config;
  Status s = ParseWebConfig("tls_server_config:\n"
                            "  cert_file: certs/server.pem\n"
                            "  key_file: /abs/server.key\n"
                            "  client_auth_type: RequireAndVerifyClientCert\n"
                            "  client_ca_file: ca.pem\n"
                            "  min_version: TLS13\n"
                            "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
                            "  prefer_server_cipher_suites: true\n"
                            "http_server_config:\n"
                            "  http2: false\n"
                            "  headers:\n"
                            "    Strict-Transport-Security: max-age=31536000\n"
                            "basic_auth_users:\n"
                            "  prometheus: " + writer + "\n"
                            "  grafana: '" + reader + "'\n"
                            "bearer_tokens:\n"
                            "  agent: " + token + "\n"
                            "roles:\n"
                            "  prometheus: [write]\n"
                            "  grafana: [read]\n"
                            "  agent: [read, write, admin]\n",
                            "/etc/tsvault", &config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(config.tls.has_value());
  EXPECT_EQ(config.tls->cert_file, "/etc/tsvault/certs/server.pem");
  EXPECT_EQ(config.tls->key_file, "/abs/server.key");
  EXPECT_EQ(config.tls->client_ca_file, "/etc/tsvault/ca.pem");
  EXPECT_EQ(config.tls->client_auth, http::ClientAuth::kRequireAndVerify);
  EXPECT_EQ(config.tls->min_version, http::TlsVersion::kTls13);
  EXPECT_EQ(config.tls->cipher_suites, std::vector<std::string>{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"});
  ASSERT_EQ(config.headers.size(), 1u);
  EXPECT_EQ(config.headers[0].second, "max-age=31536000");
  EXPECT_EQ(config.basic_auth_users.at("prometheus"), writer);
  EXPECT_EQ(config.bearer_tokens.at("agent"), token);
  ASSERT_TRUE(config.roles.has_value());
  EXPECT_EQ(config.roles->at("prometheus"), kRoleWrite);
  EXPECT_EQ(config.roles->at("grafana"), kRoleRead);
  EXPECT_EQ(config.roles->at("agent"), kAllRoles);
  EXPECT_TRUE(config.RequiresCredentials());
  EXPECT_EQ(RoleNames(kRoleRead | kRoleAdmin), "read,admin");
  EXPECT_EQ(RoleNames(0), "none");
}

TEST(WebConfigTest, AnEmptyFileMeansPlainHttpWithoutCredentials) {
  WebConfig config;
  ASSERT_TRUE(ParseWebConfig("", ".", &config).ok());
  EXPECT_FALSE(config.tls.has_value());
  EXPECT_FALSE(config.RequiresCredentials());
  EXPECT_FALSE(config.roles.has_value());
}

TEST(WebConfigTest, MistakesAreNamedWithLineAndColumn) {
  const std::string hash = Hash("x");
  const std::pair<std::string, std::string> cases[] = {
      {"basic_auth_user:\n  a: b\n", "line 1 column 1: unknown field \"basic_auth_user\""},
      {"tls_server_config:\n  cert_file: a\n  keyfile: b\n", "line 3 column 3: unknown field \"keyfile\" in tls_server_config"},
      {"tls_server_config:\n  cert_file: a\n", "tls_server_config needs both cert_file and key_file"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always\n",
       "line 4 column 21: client_auth_type: unknown value \"Always\""},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n", "unknown TLS version \"TLS14\""},
      {"basic_auth_users:\n  alice: plaintext\n", "line 2 column 10: basic_auth_users.alice: not a bcrypt hash"},
      {"basic_auth_users:\n  'a:b': " + hash + "\n", "holds a colon"},
      {"http_server_config:\n  headers:\n    Set-Cookie: x\n", "line 3 column 5: header \"Set-Cookie\" may not be set"},
      {"basic_auth_users:\n  alice: " + hash + "\nroles:\n  alice: [read, delete]\n",
       "line 4 column 17: roles.alice: unknown role \"delete\""},
      {"basic_auth_users:\n  alice: " + hash + "\nroles:\n  bob: [read]\n",
       "line 4 column 3: roles: \"bob\" is neither in basic_auth_users nor in bearer_tokens"},
      {"basic_auth_users:\n  alice: " + hash + "\nbearer_tokens:\n  alice: " + hash + "\n",
       "\"alice\" is both a user and a token name"},
      {"roles: [read]\n", "line 1 column 8: roles must be a mapping"},
      {"basic_auth_users: {a: [\n", "line 2 column 1"},
      {"- 1\n", "the web config must be a mapping"},
  };
  for (const auto& [text, expected] : cases) {
    WebConfig config;
    Status s = ParseWebConfig(text, ".", &config);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.message().find(expected), std::string::npos) << text << "\n=> " << s.message();
  }
}

TEST(WebConfigTest, LoadingAFileChecksItsCertificatesAndNamesTheFile) {
  testing::TempDir dir;
  testing::TestCertificates certificates;
  ASSERT_TRUE(testing::MakeTestCertificates(dir.path(), &certificates).ok());
  const std::string path = dir.path() + "/web.yml";
  std::ofstream(path) << "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n";
  WebConfig config;
  Status s = LoadWebConfigFile(path, &config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(config.tls->cert_file, dir.path() + "/server.pem");
  std::ofstream(path) << "tls_server_config:\n  cert_file: server.pem\n  key_file: missing.key\n";
  s = LoadWebConfigFile(path, &config);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(path + ": tls_server_config: cannot load key_file " + dir.path() + "/missing.key", 0), 0u)
      << s.message();
  s = LoadWebConfigFile(dir.path() + "/absent.yml", &config);
  EXPECT_NE(s.message().find("cannot read the file"), std::string::npos);
}

}  // namespace
}  // namespace tsvault::auth
