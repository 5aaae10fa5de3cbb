// Session: reading requests, running handlers, writing whole responses.
#include "http/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream_base.hpp>

#include <limits>

#include "http/internal_util.h"

namespace tsvault::http::internal {

namespace {

constexpr uint32_t kHeaderLimitBytes = 64 * 1024;
constexpr size_t kReadChunkBytes = 16 * 1024;
// After an error response that closes the connection, unread request bytes
// are drained for a while so the peer sees the response, not a TCP reset.
constexpr auto kDrainTime = std::chrono::seconds(1);
constexpr size_t kDrainLimitBytes = 8u << 20;

// Copies a sanitized Response into a Beast response. HEAD answers carry
// the Content-Length of the body they do not send.
void BuildBeastResponse(Response response, unsigned version, bool keep_alive, bool head,
                        bhttp::response<bhttp::string_body>* out) {
  SanitizeResponse(&response);
  out->version(version);
  out->result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers) out->insert(name, value);
  if (response.status != 204 && response.status != 304) {
    out->set(bhttp::field::content_length, std::to_string(response.body.size()));
  }
  if (!head) out->body() = std::move(response.body);
  out->keep_alive(keep_alive);
}

}  // namespace

Session::Session(ServerCore* core, uint64_t id, tcp::socket socket, std::shared_ptr<net::ssl::context> tls_context)
    : core_(core), id_(id), tls_context_(std::move(tls_context)) {
  if (tls_context_) {
    tls_stream_.emplace(std::move(socket), *tls_context_);
  } else {
    plain_stream_.emplace(std::move(socket));
  }
  beast::error_code ec;
  const tcp::endpoint peer = Tcp().socket().remote_endpoint(ec);
  if (!ec) remote_address_ = FormatHostPort(peer.address().to_string(), peer.port());
  Tcp().socket().set_option(tcp::no_delay(true), ec);
}

Session::~Session() { core_->Unregister(id_); }

void Session::Start() {
  net::dispatch(Tcp().get_executor(), [self = shared_from_this()] {
    self->tls_stream_ ? self->Handshake() : self->ReadRequest();
  });
}

void Session::CloseSoon() {
  net::post(Tcp().get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    self->Tcp().close();
  });
}

void Session::Handshake() {
  // A client that connects and says nothing is bounded like a slow header.
  Tcp().expires_after(core_->options.header_timeout);
  tls_stream_->async_handshake(net::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
    // A failed handshake (wrong protocol, untrusted client certificate,
    // plain HTTP sent to the TLS port) ends the connection; TLS itself
    // told the client why where it could.
    if (ec) return;
    self->ReadRequest();
  });
}

void Session::ReadRequest() {
  body_reservation_.reset();  // the previous request's, if still held
  parser_.emplace();
  parser_->header_limit(kHeaderLimitBytes);
  // Bounded in OnHeader, once the route is known (streaming-body routes
  // take any size).
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  if (requests_served_ > 0 && buffer_.size() == 0) {
    // Between keep-alive requests the idle timeout applies until the
    // first byte of the next request arrives.
    Tcp().expires_after(core_->options.idle_timeout);
    WithStream([&](auto& stream) {
      stream.async_read_some(buffer_.prepare(kReadChunkBytes),
                             [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                               self->buffer_.commit(bytes);
                               if (ec) return self->OnReadError(ec);
                               self->ReadHeader();
                             });
    });
    return;
  }
  ReadHeader();
}

void Session::ReadHeader() {
  Tcp().expires_after(core_->options.header_timeout);
  WithStream([&](auto& stream) {
    bhttp::async_read_header(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->request_start_ = Clock::now();
      self->OnHeader();
    });
  });
}

void Session::OnHeader() {
  const auto& header = parser_->get();
  // The route is found once per request, here: it decides how the body is
  // read, and HandleRequest or StartStreamingBodyRequest use it.
  const std::string_view target = View(header.target());
  request_path_ = PercentDecode(target.substr(0, target.find('?')), /*plus_is_space=*/false);
  match_ = core_->router.Find(View(header.method_string()), request_path_);
  if (!Admit()) return;
  const bool streaming =
      !parser_->is_done() && match_.handler != nullptr && match_.streaming_body && core_->blocking_pool;
  if (!streaming) {
    parser_->body_limit(core_->options.max_body_bytes);
    const auto content_length = parser_->content_length();
    if (content_length && *content_length > core_->options.max_body_bytes) {
      return OnReadError(bhttp::error::body_limit);
    }
    if (!ReserveBody()) return;
  }
  auto expect = header.find(bhttp::field::expect);
  if (!parser_->is_done() && expect != header.end() &&
      beast::iequals(expect->value(), "100-continue")) {
    continue_response_.emplace(bhttp::status::continue_, header.version());
    Tcp().expires_after(core_->options.idle_timeout);
    WithStream([&](auto& stream) {
      bhttp::async_write(stream, *continue_response_,
                         [self = shared_from_this(), streaming](beast::error_code ec, size_t) {
                           if (ec) return self->OnReadError(ec);
                           streaming ? self->StartStreamingBodyRequest() : self->ReadBody();
                         });
    });
    return;
  }
  streaming ? StartStreamingBodyRequest() : ReadBody();
}

bool Session::ReserveBody() {
  body_reservation_.reset();
  const uint64_t bound = core_->options.max_inflight_body_bytes;
  if (bound == 0 || parser_->is_done()) return true;  // no bound, or no body
  const auto content_length = parser_->content_length();
  const uint64_t bytes = content_length ? *content_length : core_->options.max_body_bytes;
  const uint64_t before = core_->inflight_body_bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (before + bytes <= bound || before == 0) {  // one request alone always fits
    body_reservation_ = std::make_shared<BodyReservation>();
    body_reservation_->inflight = &core_->inflight_body_bytes;
    body_reservation_->bytes = bytes;
    return true;
  }
  core_->inflight_body_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  Response busy;
  busy.status = 429;
  busy.SetHeader("Retry-After", "1");
  busy.body = "429 too many request bytes in flight: " + std::to_string(before) + " bytes of bodies are being " +
              "received or handled, this one has " + std::to_string(bytes) + ", the bound is " +
              std::to_string(bound) + "; retry later\n";
  // The body stays unread: the connection closes after the answer.
  Write(std::move(busy), match_.pattern, parser_->get().version(), /*keep_alive=*/false, /*head=*/false);
  return false;
}

void Session::ReadBody() {
  if (parser_->is_done()) return HandleRequest();
  // A request body may take a while on a slow link; the idle timeout bounds it.
  Tcp().expires_after(core_->options.idle_timeout);
  WithStream([&](auto& stream) {
    bhttp::async_read(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->HandleRequest();
    });
  });
}

bool Session::Admit() {
  if (!core_->options.admit) return true;
  const auto& message = parser_->get();
  Request request;
  request.method = std::string(View(message.method_string()));
  request.target = std::string(View(message.target()));
  request.path = request_path_;
  for (const auto& field : message) {
    request.headers.emplace_back(ToLowerAscii(View(field.name_string())), std::string(View(field.value())));
  }
  request.remote_address = remote_address_;
  Response refusal;
  bool admitted = false;
  try {
    admitted = core_->options.admit(request, &refusal);
  } catch (...) {
    refusal = Response();
    refusal.status = 500;
    refusal.body = "500 internal server error: the request could not be checked\n";
  }
  if (admitted) return true;
  // The body stays unread: the connection closes after the answer.
  Write(std::move(refusal), match_.pattern, message.version(), /*keep_alive=*/false, request.method == "HEAD");
  return false;
}

void Session::OnReadError(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    return SendError(413, "413 request body too large: the limit is " +
                              std::to_string(core_->options.max_body_bytes) + " bytes\n");
  }
  if (ec == bhttp::error::header_limit) {
    return SendError(431, "431 request header fields too large: the limit is " +
                              std::to_string(kHeaderLimitBytes) + " bytes\n");
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == bhttp::error::need_more || ec == bhttp::error::buffer_overflow) {
    return;  // the peer went away or stalled: nothing useful to answer
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return SendError(400, "400 bad request: " + ec.message() + "\n");
  }
  // Timeouts, resets, cancellation by Stop(): the session just ends.
}

void Session::SendError(int status, std::string message) {
  Response response;
  response.status = status;
  response.body = std::move(message);
  // The request line may be known even when the headers were not all read.
  const bool has_request_line = parser_ && !parser_->get().target().empty();
  const unsigned version = has_request_line ? parser_->get().version() : 11;
  std::string route = "other";
  if (has_request_line) {
    const std::string target(View(parser_->get().target()));
    route = core_->router.Find(View(parser_->get().method_string()),
                               PercentDecode(target.substr(0, target.find('?')), false))
                .pattern;
  }
  if (!parser_ || !parser_->is_header_done()) request_start_ = Clock::now();
  Write(std::move(response), std::move(route), version, /*keep_alive=*/false, /*head=*/false);
}

void Session::HandleRequest() {
  auto& message = parser_->get();
  Request request;
  request.method = std::string(View(message.method_string()));
  request.target = std::string(View(message.target()));
  request.path = std::move(request_path_);
  request.headers.reserve(16);
  for (const auto& field : message) {
    request.headers.emplace_back(ToLowerAscii(View(field.name_string())), std::string(View(field.value())));
  }
  request.body = std::move(message.body());
  request.remote_address = remote_address_;

  Router::Match match = std::move(match_);
  const bool keep_alive = message.keep_alive();
  const unsigned version = message.version();
  if (match.handler != nullptr && match.blocking && core_->blocking_pool) {
    // No work guard on io: while the server runs, the pending accept keeps
    // io busy; once Stop() began, an answer posted to a stopped io is never
    // run and is destroyed with it (a guard would keep the I/O threads from
    // returning while a job waits in the pool).
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    request.cancelled = cancelled.get();
    WatchForDisconnect(cancelled);
    net::post(*core_->blocking_pool, [self = shared_from_this(), handler = match.handler,
                                      request = std::move(request), pattern = std::move(match.pattern),
                                      version, keep_alive, cancelled,
                                      reservation = std::move(body_reservation_)]() mutable {
      // Queued when Stop() began: drop it (Stop waits for the pool to drain).
      if (self->core_->stopping.load(std::memory_order_relaxed)) return;
      auto response = std::make_shared<Response>();
      RunHandlerSafely(*handler, request, response.get());
      request.body = std::string();
      reservation.reset();  // the body is gone
      const bool head = request.method == "HEAD";
      if (response->body_source && (head || version < 11)) CollectStreamedBody(response.get());
      net::post(self->Tcp().get_executor(),
                [self, response, pattern = std::move(pattern), version, keep_alive, head]() mutable {
                  self->Write(std::move(*response), std::move(pattern), version, keep_alive, head);
                });
    });
    return;
  }
  Response response;
  if (match.handler != nullptr) {
    RunHandlerSafely(*match.handler, request, &response);
    request.body = std::string();
    body_reservation_.reset();  // the body is gone
    if (response.body_source) CollectStreamedBody(&response);
  } else if (match.error_status == 405) {
    response.status = 405;
    response.SetHeader("Allow", match.allow);
    response.body = "405 method not allowed\n";
  } else {
    response.status = 404;
    response.body = "404 page not found\n";
  }
  Write(std::move(response), std::move(match.pattern), version, keep_alive, request.method == "HEAD");
}

void Session::WatchForDisconnect(std::shared_ptr<std::atomic<bool>> cancelled) {
  // The socket turns readable when the client closes it (or sends a
  // pipelined request, which is not a reason to stop); epoll also wakes
  // waits spuriously, which re-arm. Stop() closes the socket, which ends
  // the wait with operation_aborted while `stopping` is set; Write() ends
  // it the same way without.
  watching_disconnect_ = true;
  const uint64_t generation = ++watch_generation_;
  Tcp().socket().async_wait(
      tcp::socket::wait_read, [self = shared_from_this(), cancelled, generation](beast::error_code ec) {
        const bool current = self->watching_disconnect_ && generation == self->watch_generation_;
        if (ec == net::error::operation_aborted) {
          if (self->core_->stopping.load(std::memory_order_relaxed)) cancelled->store(true, std::memory_order_relaxed);
          return;
        }
        if (!ec) {
          char byte;
          beast::error_code peek_error;
          tcp::socket& socket = self->Tcp().socket();
          socket.non_blocking(true, peek_error);
          const size_t got = socket.receive(net::buffer(&byte, 1), tcp::socket::message_peek, peek_error);
          beast::error_code ignored;
          socket.non_blocking(false, ignored);
          if (got > 0) return;  // a pipelined request: read once this one is answered
          if (!peek_error || peek_error == net::error::would_block || peek_error == net::error::try_again) {
            if (current) self->WatchForDisconnect(std::move(cancelled));  // a spurious wake-up
            return;
          }
          ec = peek_error;  // eof, connection reset, ...
        }
        if (current) cancelled->store(true, std::memory_order_relaxed);
      });
}

void Session::Write(Response response, std::string route, unsigned version, bool keep_alive, bool head) {
  if (watching_disconnect_) {
    // The handler is done: end the watch (its flag no longer matters).
    watching_disconnect_ = false;
    beast::error_code ignored;
    Tcp().socket().cancel(ignored);
  }
  if (core_->options.decorate) {
    try {
      core_->options.decorate(&response);
    } catch (...) {
      // Extra headers are not worth the connection.
    }
  }
  if (core_->stopping.load(std::memory_order_relaxed)) keep_alive = false;
  if (response.body_source) return WriteStreamed(std::move(response), std::move(route), version, keep_alive);
  response_.emplace();
  BuildBeastResponse(std::move(response), version, keep_alive, head, &*response_);
  route_ = std::move(route);
  Tcp().expires_after(core_->options.idle_timeout);
  WithStream([&](auto& stream) {
    bhttp::async_write(stream, *response_, [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
      self->core_->Observe(self->route_, self->response_->result_int(), self->request_start_);
      self->response_.reset();
      if (ec) return;
      if (!keep_alive) return self->CloseGracefully();
      ++self->requests_served_;
      self->ReadRequest();
    });
  });
}

void Session::CloseGracefully() {
  Tcp().expires_after(kDrainTime);
  buffer_.clear();
  if (!tls_stream_) {
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
  }
  // TLS cannot half-close without ending the session: there the answer is
  // out, and reading what the peer still sends (a refused request's body)
  // keeps its TCP stack from turning our close into a reset it would see
  // before the answer. The session, and so the socket, ends with the drain.
  Drain();
}

void Session::Drain() {
  WithStream([&](auto& stream) {
    stream.async_read_some(buffer_.prepare(kReadChunkBytes),
                           [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                             self->buffer_.consume(self->buffer_.size());
                             self->drained_bytes_ += bytes;
                             if (ec || self->drained_bytes_ > kDrainLimitBytes) return;
                             self->Drain();
                           });
  });
}

}  // namespace tsvault::http::internal
