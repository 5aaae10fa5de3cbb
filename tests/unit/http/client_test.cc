// Tests of http::Client: URL parsing, base paths, reconnecting after the
// server drops an idle connection, timeouts and transport errors.
#include "http/client.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "http/server.h"

namespace tsvault::http {
namespace {

using std::chrono::milliseconds;

TEST(ClientCreateTest, AcceptsAndRejects) {
  std::unique_ptr<Client> client;
  for (const char* good : {"http://127.0.0.1:9201", "http://localhost:9201/prefix/", "HTTP://host",
                           "http://[::1]:9201/a/b", "https://127.0.0.1:9201", "HTTPS://host/prefix"}) {
    EXPECT_TRUE(Client::Create(good, &client).ok()) << good;
  }
  for (const char* bad : {"", "httpx://127.0.0.1:9201", "ftp://x:1", "127.0.0.1:9201", "http://",
                          "http://:9201", "http://host:99999", "http://host:0", "http://host:x",
                          "http://user@host:1", "http://host:1/a?b", "http://[::1/"}) {
    Status status = Client::Create(bad, &client);
    EXPECT_TRUE(status.IsInvalidArgument()) << bad << " " << status.ToString();
  }
  TlsOptions tls;
  tls.ca_file = "/nonexistent/ca.pem";
  Status status = Client::Create("https://127.0.0.1:9201", tls, &client);
  EXPECT_TRUE(status.IsInvalidArgument()) << status.ToString();
  EXPECT_NE(status.message().find("ca_file"), std::string::npos) << status.ToString();
}

// TLS against a plain HTTP server fails cleanly (a handshake error, not a hang).
TEST(ClientTlsTest, AHandshakeWithAPlainServerFailsCleanly) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  Server server(options);
  server.Route("GET", "/", [](const Request&, Response* response) { response->body = "plain"; });
  ASSERT_TRUE(server.Start().ok());
  std::unique_ptr<Client> client;
  TlsOptions tls;
  tls.insecure_skip_verify = true;
  ASSERT_TRUE(Client::Create("https://127.0.0.1:" + std::to_string(server.port()), tls, &client).ok());
  Response response;
  Status status = client->Do("GET", "/", {}, "", &response, milliseconds(2000));
  EXPECT_TRUE(status.IsIOError()) << status.ToString();
  server.Stop();
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.header_timeout = std::chrono::seconds(1);
    options.idle_timeout = std::chrono::seconds(1);
    server_ = std::make_unique<Server>(options);
    server_->Route("GET", "/prefix/*", [](const Request& request, Response* response) {
      response->body = request.target + "|" + std::string(request.Header("x-test")) + "|" +
                       std::string(request.Header("host"));
    });
    server_->Route("GET", "/whoami", [](const Request& request, Response* response) {
      response->body = request.remote_address;
    });
    server_->Route("GET", "/slow", [](const Request&, Response* response) {
      std::this_thread::sleep_for(milliseconds(3000));
      response->body = "slow";
    });
    server_->Route("POST", "/close", [](const Request& request, Response* response) {
      response->SetHeader("Connection", "close");  // ignored: the server owns this header
      response->body = request.body;
    });
    ASSERT_TRUE(server_->Start().ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  std::unique_ptr<Server> server_;
  std::string base_;
};

TEST_F(ClientTest, BasePathAndHeaders) {
  std::unique_ptr<Client> client;
  ASSERT_TRUE(Client::Create(base_ + "/prefix/", &client).ok());
  Response response;
  ASSERT_TRUE(client->Do("GET", "/api?x=1", {{"X-Test", "v"}}, "", &response).ok());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "/prefix/api?x=1|v|127.0.0.1:" + std::to_string(server_->port()));
  ASSERT_TRUE(client->Do("GET", "rel", {}, "", &response).ok());
  EXPECT_EQ(response.body.substr(0, 12), "/prefix/rel|");

  EXPECT_TRUE(client->Do("GET", "/a b", {}, "", &response).IsInvalidArgument());
  EXPECT_TRUE(client->Do("GET", "/a", {{"X", "a\r\nb"}}, "", &response).IsInvalidArgument());
  EXPECT_TRUE(client->Do("BAD METHOD", "/a", {}, "", &response).IsInvalidArgument());
}

TEST_F(ClientTest, ReconnectsAfterServerClosedIdleConnection) {
  std::unique_ptr<Client> client;
  ASSERT_TRUE(Client::Create(base_, &client).ok());
  Response first;
  ASSERT_TRUE(client->Get("/whoami", &first).ok());
  std::this_thread::sleep_for(milliseconds(1500));  // past the server's idle timeout
  Response second;
  ASSERT_TRUE(client->Get("/whoami", &second).ok());
  EXPECT_EQ(second.status, 200);
  EXPECT_NE(first.body, second.body);  // a new connection was made
}

TEST_F(ClientTest, TimeoutThenRecovers) {
  std::unique_ptr<Client> client;
  ASSERT_TRUE(Client::Create(base_, &client).ok());
  Response response;
  const auto start = std::chrono::steady_clock::now();
  Status status = client->Do("GET", "/slow", {}, "", &response, milliseconds(100));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(status.IsIOError());
  EXPECT_NE(status.message().find("timed out"), std::string::npos) << status.ToString();
  EXPECT_LT(elapsed, milliseconds(2500));  // before the handler finishes (3 s)
  ASSERT_TRUE(client->Do("GET", "/slow", {}, "", &response, milliseconds(10000)).ok());
  EXPECT_EQ(response.body, "slow");
}

TEST_F(ClientTest, ManyRequestsAndLargeBodies) {
  std::unique_ptr<Client> client;
  ASSERT_TRUE(Client::Create(base_, &client).ok());
  std::set<std::string> peers;
  for (int i = 0; i < 50; ++i) {
    Response response;
    ASSERT_TRUE(client->Get("/whoami", &response).ok());
    peers.insert(response.body);
  }
  EXPECT_EQ(peers.size(), 1u);
  Response response;
  std::string big(1 << 20, 'z');
  big[12345] = 'q';
  ASSERT_TRUE(client->Do("POST", "/close", {}, big, &response).ok());
  EXPECT_EQ(response.body, big);
  // The handler's "Connection: close" is ignored, so the connection lives on.
  ASSERT_TRUE(client->Get("/whoami", &response).ok());
  EXPECT_EQ(peers.count(response.body), 1u);
}

TEST(ClientErrorTest, ConnectionRefused) {
  uint16_t port;
  {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    Server server(options);
    ASSERT_TRUE(server.Start().ok());
    port = server.port();
  }
  std::unique_ptr<Client> client;
  ASSERT_TRUE(Client::Create("http://127.0.0.1:" + std::to_string(port), &client).ok());
  Response response;
  Status status = client->Get("/", &response);
  EXPECT_TRUE(status.IsIOError());
  EXPECT_NE(status.message().find("connect"), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace tsvault::http
