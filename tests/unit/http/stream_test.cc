// Streamed response bodies (Response::body_source): chunked on HTTP/1.1,
// collected for HTTP/1.0 and non-blocking routes, aborted bodies end
// broken, the source is released when the body ends or the client leaves.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "http/client.h"
#include "http/server.h"
#include "tests/unit/http/raw_connection.h"

namespace tsvault::http {
namespace {

using std::chrono::milliseconds;
using testing::RawConnection;

// A body source of `pieces` pieces "piece-0 ", "piece-1 ", ...; the last
// call answers `last` (kEnd or kAbort). Counts live sources in *alive.
BodySource Pieces(int pieces, BodyStep last, std::shared_ptr<std::atomic<int>> alive) {
  struct State {
    std::shared_ptr<std::atomic<int>> alive;
    int next = 0;
    explicit State(std::shared_ptr<std::atomic<int>> a) : alive(std::move(a)) { ++*alive; }
    ~State() { --*alive; }
  };
  auto state = std::make_shared<State>(alive);
  return [state, pieces, last](std::string* piece) {
    if (state->next == pieces) return last;
    *piece = "piece-" + std::to_string(state->next++) + " ";
    return BodyStep::kMore;
  };
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.idle_timeout = std::chrono::seconds(2);
    server_ = std::make_unique<Server>(options);
    server_->RouteBlocking("GET", "/stream", [this](const Request&, Response* response) {
      response->SetHeader("Content-Type", "application/x-test");
      response->body = "ignored";
      response->body_source = Pieces(500, BodyStep::kEnd, alive_);
    });
    server_->RouteBlocking("GET", "/abort", [this](const Request&, Response* response) {
      response->body_source = Pieces(3, BodyStep::kAbort, alive_);
    });
    server_->RouteBlocking("GET", "/endless", [this](const Request&, Response* response) {
      response->body_source = Pieces(1 << 30, BodyStep::kEnd, alive_);
    });
    server_->Route("GET", "/inline", [this](const Request&, Response* response) {
      response->body_source = Pieces(3, BodyStep::kEnd, alive_);
    });
    ASSERT_TRUE(server_->Start().ok());
  }

  std::string Expected(int pieces) {
    std::string out;
    for (int i = 0; i < pieces; ++i) out += "piece-" + std::to_string(i) + " ";
    return out;
  }

  // Every body producer is destroyed soon (within 10 s: a loaded machine
  // running the tests under ASan once needed more than 2 s).
  void ExpectReleased() {
    for (int i = 0; i < 1000 && alive_->load() != 0; ++i) std::this_thread::sleep_for(milliseconds(10));
    EXPECT_EQ(alive_->load(), 0);
  }

  std::shared_ptr<std::atomic<int>> alive_ = std::make_shared<std::atomic<int>>(0);
  std::unique_ptr<Server> server_;
};

TEST_F(StreamTest, ChunkedOnHttp11AndTheConnectionIsReused) {
  std::unique_ptr<Client> client;
  ASSERT_TRUE(Client::Create("http://127.0.0.1:" + std::to_string(server_->port()), &client).ok());
  for (int round = 0; round < 3; ++round) {
    Response response;
    ASSERT_TRUE(client->Get("/stream", &response).ok());
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, Expected(500));
    EXPECT_EQ(response.Header("Content-Type"), "application/x-test");
    EXPECT_EQ(response.Header("Content-Length"), "");
  }
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /inline HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string first = raw.ReadResponse();
  EXPECT_NE(first.find("Transfer-Encoding: chunked"), std::string::npos) << first.substr(0, 300);
  EXPECT_NE(first.find("piece-499 "), std::string::npos);
  const std::string second = raw.ReadResponse();
  EXPECT_NE(second.find("piece-2 "), std::string::npos) << second;
  ExpectReleased();
}

TEST_F(StreamTest, Http10AndInlineRoutesGetOneBody) {
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.Send("GET /stream HTTP/1.0\r\n\r\n"));
  bool closed = false;
  const std::string data = raw.ReadUntilClosed(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(data.find("Content-Length: " + std::to_string(Expected(500).size())), std::string::npos) << data.substr(0, 200);
  EXPECT_EQ(data.substr(data.find("\r\n\r\n") + 4), Expected(500));
  std::unique_ptr<Client> client;
  ASSERT_TRUE(Client::Create("http://127.0.0.1:" + std::to_string(server_->port()), &client).ok());
  Response response;
  ASSERT_TRUE(client->Get("/inline", &response).ok());
  EXPECT_EQ(response.body, Expected(3));
  EXPECT_EQ(response.Header("Content-Length"), std::to_string(Expected(3).size()));
  ExpectReleased();
}

TEST_F(StreamTest, AnAbortedBodyEndsBrokenAndIsNotReused) {
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.Send("GET /abort HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  const std::string data = raw.ReadUntilClosed(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(data.find("piece-2 "), std::string::npos) << data;
  EXPECT_EQ(data.find("\r\n0\r\n\r\n"), std::string::npos) << "a final chunk was sent";
  std::unique_ptr<Client> client;
  ASSERT_TRUE(Client::Create("http://127.0.0.1:" + std::to_string(server_->port()), &client).ok());
  Response response;
  EXPECT_FALSE(client->Get("/abort", &response).ok());
  ExpectReleased();
}

TEST_F(StreamTest, AClientLeavingMidStreamReleasesTheSource) {
  {
    RawConnection raw(server_->port());
    ASSERT_TRUE(raw.Send("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_NE(raw.ReadUntil("piece-100 ", milliseconds(3000)).find("piece-100 "), std::string::npos);
  }
  ExpectReleased();
  server_->Stop();
}

TEST_F(StreamTest, StopDuringAStreamIsPrompt) {
  RawConnection reading(server_->port());
  ASSERT_TRUE(reading.Send("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(reading.ReadUntil("piece-100 ", milliseconds(3000)).find("piece-100 "), std::string::npos);
  RawConnection stalled(server_->port());  // never reads: its stream waits on a full socket
  ASSERT_TRUE(stalled.Send("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ExpectReleased();
}

}  // namespace
}  // namespace tsvault::http
