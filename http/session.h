// Internal to the http module: one TCP connection of the server (see
// server_core.h). Methods are split by concern: session.cc reads requests
// and writes whole responses, session_stream.cc writes streamed bodies.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/ssl/ssl_stream.hpp>

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
  // `tls_context` null: plain HTTP; else the connection starts with a TLS
  // handshake and everything after it is encrypted.
  Session(ServerCore* core, uint64_t id, tcp::socket socket, std::shared_ptr<net::ssl::context> tls_context);
  ~Session();

  void Start();

  // Closes the socket from another thread; pending operations fail.
  void CloseSoon();

 private:
  // The TCP layer under TLS (or the stream itself): timeouts, the socket.
  beast::tcp_stream& Tcp() { return tls_stream_ ? tls_stream_->next_layer() : *plain_stream_; }
  // Calls `operation` with the stream requests and responses travel on
  // (TLS or plain), for Beast's templated reads and writes.
  template <typename Operation>
  void WithStream(Operation&& operation) {
    if (tls_stream_) {
      operation(*tls_stream_);
    } else {
      operation(*plain_stream_);
    }
  }

  // TLS only: the handshake (within the header timeout), then ReadRequest.
  void Handshake();

  // Applies ServerOptions::admit to the request whose headers were read;
  // false when it was refused (the refusal is being sent).
  bool Admit();

  // Reserves the request's body from ServerOptions::max_inflight_body_bytes
  // into body_reservation_; false when it does not fit (a 429 is being sent).
  bool ReserveBody();
  // Part of the server's body budget, returned when destroyed.
  struct BodyReservation {
    std::atomic<uint64_t>* inflight = nullptr;
    uint64_t bytes = 0;
    ~BodyReservation() {
      if (inflight != nullptr) inflight->fetch_sub(bytes, std::memory_order_relaxed);
    }
  };

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

  // Streamed request bodies (Server::RouteStreamingBody; session_upload.cc).
  // Hands the request to the blocking pool with a Request::read_body that
  // asks the strand for one piece at a time (ReadUploadPiece).
  void StartStreamingBodyRequest();
  struct UploadPiece;
  void ReadUploadPiece(std::shared_ptr<UploadPiece> piece);
  // While a blocking handler runs: sets `cancelled` when the client closes
  // the connection or the socket is closed (Stop()). Write() ends the watch.
  void WatchForDisconnect(std::shared_ptr<std::atomic<bool>> cancelled);
  // Reads into the current upload piece until it is full, the body ends, or
  // no more bytes are waiting; then calls `finish`.
  void ReadUploadBytes(std::function<void(bool, std::string, std::string)> finish);

  // Streamed bodies (Response::body_source; session_stream.cc).
  // Sends the headers (chunked), then the pieces as they are produced.
  void WriteStreamed(Response response, std::string route, unsigned version, bool keep_alive);
  // Runs the body source once on the blocking pool, then WritePiece.
  void ProduceNextPiece();
  // Sends piece_ as one chunk (on the strand), then asks for more or ends.
  void WritePiece(BodyStep step);
  void WriteLastChunk();
  // Counts the response, drops the stream state, then reads the next
  // request (keep-alive, no error) or closes.
  void FinishStreamed(beast::error_code ec, bool keep_alive);

  ServerCore* const core_;
  const uint64_t id_;
  // Exactly one of the two is set, for the connection's whole life.
  std::shared_ptr<net::ssl::context> tls_context_;  // kept alive for tls_stream_
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  std::optional<beast::tcp_stream> plain_stream_;
  beast::flat_buffer buffer_;
  std::string remote_address_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  // The current request's decoded path and route, from OnHeader.
  std::string request_path_;
  Router::Match match_;
  // While a streaming-body handler runs: the parser, moved from parser_
  // after the headers, and the buffer its pieces are read into.
  std::optional<bhttp::request_parser<bhttp::buffer_body>> upload_parser_;
  std::string upload_buffer_;
  // The current request's share of the body budget (null when none).
  std::shared_ptr<BodyReservation> body_reservation_;
  bool watching_disconnect_ = false;  // a WatchForDisconnect wait is pending (strand only)
  uint64_t watch_generation_ = 0;     // which watch is the current one (strand only)
  std::optional<bhttp::response<bhttp::empty_body>> continue_response_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  std::string route_;
  Clock::time_point request_start_ = Clock::now();
  uint64_t requests_served_ = 0;
  size_t drained_bytes_ = 0;
  // A streamed response in progress (empty otherwise). body_source_ is
  // called on the blocking pool while the strand waits for its piece.
  std::optional<bhttp::response<bhttp::empty_body>> stream_header_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> stream_serializer_;
  BodySource body_source_;
  std::string piece_;
  int stream_status_ = 0;
  bool stream_keep_alive_ = false;
};

// Runs a streamed response's source to the end on the calling thread and
// puts the pieces into response->body (for HTTP/1.0, HEAD and non-blocking
// handlers); kAbort or an exception turn the response into a 500.
void CollectStreamedBody(Response* response);

}  // namespace tsvault::http::internal
