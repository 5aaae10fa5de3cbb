// http::Server over TLS (ServerOptions::tls) and its admit/decorate hooks,
// through http::Client with the certificates of a test CA.
#include <gtest/gtest.h>

#include <atomic>

#include "http/client.h"
#include "http/server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace tsvault::http {
namespace {

class ServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = testing::MakeTestCertificates(dir_.path(), &certificates_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  TlsServerOptions Tls() const {
    TlsServerOptions tls;
    tls.cert_file = certificates_.server_cert;
    tls.key_file = certificates_.server_key;
    return tls;
  }

  void StartServer(ServerOptions options) {
    options.listen_address = "127.0.0.1:0";
    options.threads = 2;
    options.blocking_threads = 2;
    server_ = std::make_unique<Server>(std::move(options));
    server_->Route("GET", "/hello", [](const Request&, Response* response) { response->body = "hello"; });
    server_->RouteBlocking("GET", "/stream", [](const Request&, Response* response) {
      auto left = std::make_shared<int>(100);
      response->body_source = [left](std::string* piece) {
        piece->assign(1000, static_cast<char>('a' + *left % 26));
        return --*left == 0 ? BodyStep::kEnd : BodyStep::kMore;
      };
    });
    server_->RouteStreamingBody("POST", "/upload", [this](const Request& request, Response* response) {
      std::string piece, error;
      size_t total = 0;
      while (request.read_body(&piece, &error)) total += piece.size();
      handled_ = true;
      response->body = error.empty() ? std::to_string(total) : "error: " + error;
    });
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::string Url() const { return "https://127.0.0.1:" + std::to_string(server_->port()); }

  // A client trusting the test CA (and presenting `cert`/`key` when given).
  std::unique_ptr<Client> TrustingClient(const std::string& cert = "", const std::string& key = "") {
    TlsOptions tls;
    tls.ca_file = certificates_.ca_cert;
    tls.cert_file = cert;
    tls.key_file = key;
    std::unique_ptr<Client> client;
    EXPECT_TRUE(Client::Create(Url(), tls, &client).ok());
    return client;
  }

  testing::TempDir dir_;
  testing::TestCertificates certificates_;
  std::unique_ptr<Server> server_;
  std::atomic<bool> handled_{false};
};

TEST_F(ServerTlsTest, ServesWholeStreamedAndUploadedBodiesOverTls) {
  ServerOptions options;
  options.tls = Tls();
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  EXPECT_TRUE(server_->tls());
  std::unique_ptr<Client> client = TrustingClient();
  Response response;
  ASSERT_TRUE(client->Get("/hello", &response).ok());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
  ASSERT_TRUE(client->Get("/stream", &response).ok());  // kept alive: the same TLS connection
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(response.body.size(), 100'000u);
  EXPECT_EQ(response.body.substr(0, 3), "www");  // 100 % 26 = 22 -> 'w'
  const std::string big(3 << 20, 'x');
  ASSERT_TRUE(client->Do("POST", "/upload", {}, big, &response).ok());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, std::to_string(big.size()));
}

TEST_F(ServerTlsTest, PlainHttpAndUntrustedClientsGetNoAnswer) {
  ServerOptions options;
  options.tls = Tls();
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  std::unique_ptr<Client> plain;
  ASSERT_TRUE(Client::Create("http://127.0.0.1:" + std::to_string(server_->port()), &plain).ok());
  Response response;
  EXPECT_FALSE(plain->Do("GET", "/hello", {}, "", &response, std::chrono::seconds(5)).ok());
  std::unique_ptr<Client> untrusting;
  ASSERT_TRUE(Client::Create(Url(), TlsOptions(), &untrusting).ok());
  Status s = untrusting->Get("/hello", &response);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("certificate"), std::string::npos) << s.ToString();
  // The server is unharmed.
  ASSERT_TRUE(TrustingClient()->Get("/hello", &response).ok());
  EXPECT_EQ(response.body, "hello");
}

TEST_F(ServerTlsTest, RequireAndVerifyClientCertAcceptsOnlyCertificatesOfTheClientCa) {
  ServerOptions options;
  options.tls = Tls();
  options.tls->client_auth = ClientAuth::kRequireAndVerify;
  options.tls->client_ca_file = certificates_.ca_cert;
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  Response response;
  EXPECT_FALSE(TrustingClient()->Get("/hello", &response).ok());
  EXPECT_FALSE(TrustingClient(certificates_.other_client_cert, certificates_.other_client_key)->Get("/hello", &response).ok());
  ASSERT_TRUE(TrustingClient(certificates_.client_cert, certificates_.client_key)->Get("/hello", &response).ok());
  EXPECT_EQ(response.body, "hello");
}

TEST_F(ServerTlsTest, MinVersionTls13RefusesATls12OnlyClient) {
  ServerOptions options;
  options.tls = Tls();
  options.tls->min_version = TlsVersion::kTls13;
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  Response response;
  ASSERT_TRUE(TrustingClient()->Get("/hello", &response).ok());  // the client offers 1.2 and 1.3
  const std::string command = "openssl s_client -connect 127.0.0.1:" + std::to_string(server_->port()) +
                              " -tls1_2 -CAfile " + certificates_.ca_cert + " < /dev/null > " + dir_.path() +
                              "/s_client.log 2>&1";
  EXPECT_NE(std::system(command.c_str()), 0) << "a TLS 1.2 handshake succeeded against min_version TLS13";
}

TEST_F(ServerTlsTest, BadSettingsAreNamedAndAReloadThatFailsKeepsTheOldOnes) {
  TlsServerOptions wrong_key = Tls();
  wrong_key.key_file = certificates_.client_key;
  Status s = CheckTlsServerOptions(wrong_key);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("as the key of cert_file " + certificates_.server_cert), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("mismatch"), std::string::npos) << s.ToString();
  TlsServerOptions missing = Tls();
  missing.cert_file = dir_.path() + "/nope.pem";
  s = CheckTlsServerOptions(missing);
  EXPECT_NE(s.message().find("cannot load cert_file " + dir_.path() + "/nope.pem"), std::string::npos) << s.ToString();
  TlsServerOptions suites = Tls();
  suites.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_NOT_A_SUITE"};
  s = CheckTlsServerOptions(suites);
  EXPECT_NE(s.message().find("unknown or unsupported suite \"TLS_NOT_A_SUITE\""), std::string::npos) << s.ToString();
  suites.cipher_suites.pop_back();
  EXPECT_TRUE(CheckTlsServerOptions(suites).ok());
  TlsServerOptions no_ca = Tls();
  no_ca.client_auth = ClientAuth::kRequireAndVerify;
  EXPECT_FALSE(CheckTlsServerOptions(no_ca).ok());

  ServerOptions options;
  options.tls = Tls();
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  EXPECT_FALSE(server_->ReloadTls(missing).ok());
  Response response;
  ASSERT_TRUE(TrustingClient()->Get("/hello", &response).ok());
  // A reload to client-certificate mode applies to new connections.
  TlsServerOptions mutual = Tls();
  mutual.client_auth = ClientAuth::kRequireAndVerify;
  mutual.client_ca_file = certificates_.ca_cert;
  ASSERT_TRUE(server_->ReloadTls(mutual).ok());
  EXPECT_FALSE(TrustingClient()->Get("/hello", &response).ok());
  EXPECT_TRUE(TrustingClient(certificates_.client_cert, certificates_.client_key)->Get("/hello", &response).ok());
}

TEST_F(ServerTlsTest, APlainServerCannotBeReloadedIntoTls) {
  ASSERT_NO_FATAL_FAILURE(StartServer(ServerOptions()));
  EXPECT_FALSE(server_->tls());
  Status s = server_->ReloadTls(Tls());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("needs a restart"), std::string::npos);
}

TEST_F(ServerTlsTest, AdmitRefusesBeforeTheBodyIsReadAndDecorateReachesEveryAnswer) {
  ServerOptions options;
  options.tls = Tls();
  std::atomic<int> admitted_paths{0};
  options.admit = [&](const Request& request, Response* refusal) {
    EXPECT_TRUE(request.body.empty());
    if (request.Header("x-key") == "open") {
      ++admitted_paths;
      return true;
    }
    refusal->status = 401;
    refusal->body = "no key for " + request.method + " " + request.path + "\n";
    return false;
  };
  options.decorate = [](Response* response) { response->SetHeader("X-Frame-Options", "deny"); };
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  std::unique_ptr<Client> client = TrustingClient();
  Response response;
  ASSERT_TRUE(client->Do("POST", "/upload", {}, std::string(1 << 20, 'y'), &response).ok());
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.body, "no key for POST /upload\n");
  EXPECT_EQ(response.Header("X-Frame-Options"), "deny");
  EXPECT_FALSE(handled_);
  ASSERT_TRUE(client->Do("GET", "/missing", {}, "", &response).ok());
  EXPECT_EQ(response.status, 401);  // refused before routing
  ASSERT_TRUE(client->Do("GET", "/missing", {{"X-Key", "open"}}, "", &response).ok());
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.Header("X-Frame-Options"), "deny");
  ASSERT_TRUE(client->Do("GET", "/stream", {{"X-Key", "open"}}, "", &response).ok());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("X-Frame-Options"), "deny");
  EXPECT_EQ(response.body.size(), 100'000u);
  EXPECT_EQ(admitted_paths, 2);
}

}  // namespace
}  // namespace tsvault::http
