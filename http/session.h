// Internal to the http module: one TCP connection of the server (see
// server_core.h). Methods are split by concern: session.cc reads requests
// and writes whole responses, session_stream.cc writes streamed bodies.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "http/server_core.h"

namespace tsvault::http::internal {

// One TCP connection: reads requests, runs handlers, writes responses.
// No mutex: every member below is touched only on the session's strand
// (stream_'s executor), one handler at a time. Blocking handlers run on
// blocking_pool with their own copy of the request and post the answer back
// to the strand. CloseSoon may be called from any thread: like the
// blocking-pool path, it only reads stream_'s executor off the strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerCore* core, uint64_t id, tcp::socket socket);
  ~Session();

  void Start();

  // Closes the socket from another thread; pending operations fail.
  void CloseSoon();

 private:
  void ReadRequest();

  void ReadHeader();

  void OnHeader();

  void ReadBody();

  // Answers protocol errors; quietly ends the session on transport errors.
  void OnReadError(beast::error_code ec);

  void SendError(int status, std::string message);

  void HandleRequest();

  // Sends `response`, then reads the next request or closes.
  void Write(Response response, std::string route, unsigned version, bool keep_alive, bool head);

  // Half-closes, then discards what the peer still sends for a short while.
  void CloseGracefully();

  void Drain();

  ServerCore* const core_;
  const uint64_t id_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string remote_address_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_response_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  std::string route_;
  Clock::time_point request_start_ = Clock::now();
  uint64_t requests_served_ = 0;
  size_t drained_bytes_ = 0;
};

}  // namespace tsvault::http::internal
