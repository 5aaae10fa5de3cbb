// Request bodies read in pieces by the handler (Server::RouteStreamingBody):
// any size past max_body_bytes, content-length and chunked bodies,
// 100-continue, a handler that answers before the end closes the
// connection, a stalled client and Stop() end the reads.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "http/client.h"
#include "http/server.h"
#include "tests/unit/http/raw_connection.h"

namespace tsvault::http {
namespace {

using std::chrono::milliseconds;
using testing::RawConnection;

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.idle_timeout = std::chrono::seconds(1);
    options.max_body_bytes = 1000;  // streaming routes are not bound by it
    server_ = std::make_unique<Server>(options);
    // Counts bytes and pieces; answers "<bytes> <pieces> <error>".
    server_->RouteStreamingBody("POST", "/count", [this](const Request& request, Response* response) {
      std::string piece, error;
      uint64_t bytes = 0, pieces = 0, sum = 0;
      while (request.read_body(&piece, &error)) {
        EXPECT_FALSE(piece.empty());
        bytes += piece.size();
        ++pieces;
        for (char c : piece) sum += static_cast<unsigned char>(c);
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        last_error_ = error;
      }
      EXPECT_TRUE(request.body.empty());
      response->body = std::to_string(bytes) + " " + std::to_string(sum) + (error.empty() ? "" : " " + error);
    });
    // Reads one piece, then answers.
    server_->RouteStreamingBody("POST", "/first", [](const Request& request, Response* response) {
      std::string piece, error;
      request.read_body(&piece, &error);
      response->body = "took " + std::to_string(piece.size());
    });
    server_->Route("POST", "/small", [](const Request& request, Response* response) {
      response->body = std::to_string(request.body.size());
    });
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<Server> server_;
  // The /count handler's last read error, set on a server thread.
  std::string LastError() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_error_;
  }

  std::mutex mutex_;
  std::string last_error_;  // GUARDED_BY(mutex_)
};

TEST_F(UploadTest, ABodyOfAnySizeArrivesInPieces) {
  std::unique_ptr<Client> client;
  ASSERT_TRUE(Client::Create("http://127.0.0.1:" + std::to_string(server_->port()), &client).ok());
  std::string body(5'000'000, '\0');
  uint64_t sum = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>(i * 7);
    sum += static_cast<unsigned char>(body[i]);
  }
  Response response;
  ASSERT_TRUE(client->Do("POST", "/count", {}, body, &response).ok());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "5000000 " + std::to_string(sum));
  // The connection is reused, and other routes keep their limit.
  ASSERT_TRUE(client->Do("POST", "/small", {}, std::string(2000, 'x'), &response).ok());
  EXPECT_EQ(response.status, 413);
}

TEST_F(UploadTest, ChunkedBodiesAndContinue) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              "Expect: 100-continue\r\n\r\n"));
  EXPECT_NE(connection.ReadUntil("100 Continue", milliseconds(2000)).find("100 Continue"), std::string::npos);
  ASSERT_TRUE(connection.Send("3\r\nabc\r\n"));
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(connection.Send("2\r\nde\r\n0\r\n\r\n"));
  const std::string answer = connection.ReadUntil("\r\n\r\n5 ", milliseconds(2000));
  EXPECT_NE(answer.find("\r\n\r\n5 " + std::to_string('a' + 'b' + 'c' + 'd' + 'e')), std::string::npos) << answer;
}

TEST_F(UploadTest, AnAnswerBeforeTheEndClosesTheConnection) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.Send("POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" +
                              std::string(300000, 'y')));
  bool closed = false;
  const std::string answer = connection.ReadUntilClosed(milliseconds(5000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(answer.find("took "), std::string::npos) << answer.substr(0, 300);
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer.substr(0, 300);
}

TEST_F(UploadTest, AStalledClientEndsTheReadWithAnError) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.Send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten.."));
  bool closed = false;
  connection.ReadUntilClosed(milliseconds(4000), &closed);  // the idle timeout (1 s) ends it
  for (int i = 0; i < 50 && LastError().empty(); ++i) std::this_thread::sleep_for(milliseconds(20));
  EXPECT_NE(LastError().find("reading the body"), std::string::npos) << LastError();
}

TEST_F(UploadTest, StopDuringAnUploadIsPrompt) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.Send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nstalled"));
  std::this_thread::sleep_for(milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

}  // namespace
}  // namespace tsvault::http
