// The HTTP/1.1 server: a Boost.Beast acceptor and one Session per TCP
// connection, all on one io_context run by a fixed pool of threads. Every
// Boost.Beast include of the server lives in this file to keep builds fast.
#include "http/server.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/internal_util.h"
#include "http/router.h"

namespace tsvault::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kHeaderLimitBytes = 64 * 1024;
constexpr size_t kReadChunkBytes = 16 * 1024;
// After an error response that closes the connection, unread request bytes
// are drained for a while so the peer sees the response, not a TCP reset.
constexpr auto kDrainTime = std::chrono::seconds(1);
constexpr size_t kDrainLimitBytes = 8u << 20;

class Session;

// Beast 1.74 has its own string_view type.
std::string_view View(beast::string_view text) { return std::string_view(text.data(), text.size()); }

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

// State shared by the acceptor and every session. Lock order: stop_mutex
// before sessions_mutex; Session objects take no lock except through
// Unregister (from their destructor).
struct ServerCore {
  explicit ServerCore(ServerOptions opts)
      : options(std::move(opts)),
        io(std::max(1, options.threads)),
        accept_strand(net::make_strand(io)),
        acceptor(accept_strand),
        accept_retry_timer(accept_strand) {}

  // Accept and OnAccept run on accept_strand (the first Accept runs in
  // Start, before any worker thread exists).
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  // Adds a session unless the server is stopping; false means "stopping".
  // Register and Unregister take sessions_mutex.
  // REQUIRES: sessions_mutex not held.
  bool Register(uint64_t id, const std::shared_ptr<Session>& session);
  void Unregister(uint64_t id);
  // Needs no lock; options.observer is called concurrently from every
  // I/O thread.
  void Observe(const std::string& route, int status, Clock::time_point start) const;

  // Immutable after construction; no lock.
  ServerOptions options;
  // Filled by Server::Route before Start(), read-only afterwards; no lock.
  Router router;
  net::io_context io;  // thread-safe
  // The acceptor and its retry timer are used only on accept_strand once
  // the workers run (Stop posts their closing there).
  net::strand<net::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry_timer;
  // Guarded by stop_mutex (filled by Start, joined and cleared by Stop).
  std::vector<std::thread> threads;
  // Runs blocking handlers; created by Start() when options.blocking_threads > 0.
  // Created under stop_mutex before the workers start and never reset
  // before destruction, so sessions read it without a lock.
  std::optional<net::thread_pool> blocking_pool;
  // Written by Start under stop_mutex; read without a lock by port(), which
  // is only valid after Start() returned.
  uint16_t port = 0;

  // Serialises Start() and Stop(); guards state, threads and the
  // Start-time setup (acceptor opening, blocking_pool, port).
  std::mutex stop_mutex;
  enum class State { kNew, kRunning, kStopped } state = State::kNew;  // Guarded by stop_mutex.

  // Guards next_session_id and sessions. `stopping` is atomic but is set
  // under it, so Register's check and Stop's snapshot of `sessions` agree:
  // no session registers after Stop collected the live ones.
  std::mutex sessions_mutex;
  // Atomic; also read without the lock by Session::Write (a hint to stop
  // keep-alive).
  std::atomic<bool> stopping{false};
  uint64_t next_session_id = 0;  // Guarded by sessions_mutex.
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;  // Guarded by sessions_mutex.
};

// One TCP connection: reads requests, runs handlers, writes responses.
// No mutex: every member below is touched only on the session's strand
// (stream_'s executor), one handler at a time. Blocking handlers run on
// blocking_pool with their own copy of the request and post the answer back
// to the strand. CloseSoon may be called from any thread: like the
// blocking-pool path, it only reads stream_'s executor off the strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerCore* core, uint64_t id, tcp::socket socket)
      : core_(core), id_(id), stream_(std::move(socket)) {
    beast::error_code ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = FormatHostPort(peer.address().to_string(), peer.port());
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }
  ~Session() { core_->Unregister(id_); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

  // Closes the socket from another thread; pending operations fail.
  void CloseSoon() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimitBytes);
    parser_->body_limit(core_->options.max_body_bytes);
    if (requests_served_ > 0 && buffer_.size() == 0) {
      // Between keep-alive requests the idle timeout applies until the
      // first byte of the next request arrives.
      stream_.expires_after(core_->options.idle_timeout);
      stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                              [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                                self->buffer_.commit(bytes);
                                if (ec) return self->OnReadError(ec);
                                self->ReadHeader();
                              });
      return;
    }
    ReadHeader();
  }

  void ReadHeader() {
    stream_.expires_after(core_->options.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->OnReadError(ec);
                               self->request_start_ = Clock::now();
                               self->OnHeader();
                             });
  }

  void OnHeader() {
    const auto& header = parser_->get();
    auto expect = header.find(bhttp::field::expect);
    if (!parser_->is_done() && expect != header.end() &&
        beast::iequals(expect->value(), "100-continue")) {
      continue_response_.emplace(bhttp::status::continue_, header.version());
      stream_.expires_after(core_->options.idle_timeout);
      bhttp::async_write(stream_, *continue_response_,
                         [self = shared_from_this()](beast::error_code ec, size_t) {
                           if (ec) return self->OnReadError(ec);
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return HandleRequest();
    // A request body may take a while on a slow link; the idle timeout bounds it.
    stream_.expires_after(core_->options.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->HandleRequest();
                      });
  }

  // Answers protocol errors; quietly ends the session on transport errors.
  void OnReadError(beast::error_code ec) {
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

  void SendError(int status, std::string message) {
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

  void HandleRequest() {
    auto& message = parser_->get();
    Request request;
    request.method = std::string(View(message.method_string()));
    request.target = std::string(View(message.target()));
    request.path = PercentDecode(std::string_view(request.target).substr(0, request.target.find('?')),
                                 /*plus_is_space=*/false);
    request.headers.reserve(16);
    for (const auto& field : message) {
      request.headers.emplace_back(ToLowerAscii(View(field.name_string())), std::string(View(field.value())));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_address_;

    Router::Match match = core_->router.Find(request.method, request.path);
    const bool keep_alive = message.keep_alive();
    const unsigned version = message.version();
    if (match.handler != nullptr && match.blocking && core_->blocking_pool) {
      // The work guard keeps the I/O threads alive until the answer is
      // posted back, even if Stop() closed every connection meanwhile.
      net::post(*core_->blocking_pool, [self = shared_from_this(), handler = match.handler,
                                        request = std::move(request), pattern = std::move(match.pattern),
                                        version, keep_alive,
                                        guard = net::make_work_guard(core_->io)]() mutable {
        auto response = std::make_shared<Response>();
        RunHandlerSafely(*handler, request, response.get());
        const bool head = request.method == "HEAD";
        net::post(self->stream_.get_executor(),
                  [self, response, pattern = std::move(pattern), version, keep_alive, head]() mutable {
                    self->Write(std::move(*response), std::move(pattern), version, keep_alive, head);
                  });
      });
      return;
    }
    Response response;
    if (match.handler != nullptr) {
      RunHandlerSafely(*match.handler, request, &response);
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

  // Sends `response`, then reads the next request or closes.
  void Write(Response response, std::string route, unsigned version, bool keep_alive, bool head) {
    if (core_->stopping.load(std::memory_order_relaxed)) keep_alive = false;
    response_.emplace();
    BuildBeastResponse(std::move(response), version, keep_alive, head, &*response_);
    route_ = std::move(route);
    stream_.expires_after(core_->options.idle_timeout);
    bhttp::async_write(stream_, *response_,
                       [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                         self->core_->Observe(self->route_, self->response_->result_int(),
                                              self->request_start_);
                         self->response_.reset();
                         if (ec) return;
                         if (!keep_alive) return self->CloseGracefully();
                         ++self->requests_served_;
                         self->ReadRequest();
                       });
  }

  // Half-closes, then discards what the peer still sends for a short while.
  void CloseGracefully() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    stream_.expires_after(kDrainTime);
    buffer_.clear();
    Drain();
  }

  void Drain() {
    stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                            [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                              self->buffer_.consume(self->buffer_.size());
                              self->drained_bytes_ += bytes;
                              if (ec || self->drained_bytes_ > kDrainLimitBytes) return;
                              self->Drain();
                            });
  }

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

void ServerCore::Accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void ServerCore::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Usually out of file descriptors: wait a little instead of spinning.
    accept_retry_timer.expires_after(std::chrono::milliseconds(100));
    accept_retry_timer.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && acceptor.is_open()) Accept();
    });
    return;
  }
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(sessions_mutex);
    id = next_session_id++;
  }
  auto session = std::make_shared<Session>(this, id, std::move(socket));
  if (Register(id, session)) session->Start();
  Accept();
}

bool ServerCore::Register(uint64_t id, const std::shared_ptr<Session>& session) {
  std::lock_guard<std::mutex> lock(sessions_mutex);
  if (stopping) return false;
  sessions.emplace(id, session);
  return true;
}

void ServerCore::Unregister(uint64_t id) {
  std::lock_guard<std::mutex> lock(sessions_mutex);
  sessions.erase(id);
}

void ServerCore::Observe(const std::string& route, int status, Clock::time_point start) const {
  if (!options.observer) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  try {
    options.observer(route, status, seconds);
  } catch (...) {
    // A metrics callback must not take the connection down.
  }
}

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions options) : core(std::move(options)) {}
  ServerCore core;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { Stop(); }

void Server::Route(const std::string& method, const std::string& path, Handler handler) {
  impl_->core.router.Add(method, path, std::move(handler));
}

void Server::RouteBlocking(const std::string& method, const std::string& path, Handler handler) {
  impl_->core.router.Add(method, path, std::move(handler), /*blocking=*/true);
}

Status Server::Start() {
  ServerCore& core = impl_->core;
  std::lock_guard<std::mutex> lock(core.stop_mutex);
  if (core.state != ServerCore::State::kNew) {
    return Status::InvalidArgument("http server: Start() may be called only once");
  }
  const std::string& shown = core.options.listen_address;
  HostPort address;
  Status status = ParseHostPort(shown, &address);
  if (!status.ok()) return Status::IOError("http server: invalid listen " + status.message());
  if (address.host.empty()) address.host = "0.0.0.0";

  beast::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  const net::ip::address literal = net::ip::make_address(address.host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, address.port);
  } else {
    tcp::resolver resolver(core.io);
    auto results = resolver.resolve(address.host, std::to_string(address.port),
                                    tcp::resolver::numeric_service, ec);
    if (ec) {
      return Status::IOError("http server: cannot resolve listen address \"" + shown +
                             "\": " + ec.message());
    }
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  beast::error_code bind_error = net::error::host_not_found;
  for (const tcp::endpoint& endpoint : endpoints) {
    beast::error_code step;
    core.acceptor.open(endpoint.protocol(), step);
    if (!step) core.acceptor.set_option(net::socket_base::reuse_address(true), step);
    if (!step) core.acceptor.bind(endpoint, step);
    if (!step) core.acceptor.listen(net::socket_base::max_listen_connections, step);
    if (!step) {
      bind_error = {};
      break;
    }
    bind_error = step;
    beast::error_code ignored;
    core.acceptor.close(ignored);
  }
  if (bind_error) {
    return Status::IOError("http server: cannot listen on \"" + shown + "\": " + bind_error.message());
  }
  core.port = core.acceptor.local_endpoint(ec).port();

  if (core.options.blocking_threads > 0) core.blocking_pool.emplace(core.options.blocking_threads);
  core.Accept();
  const int thread_count = std::max(1, core.options.threads);
  for (int i = 0; i < thread_count; ++i) {
    core.threads.emplace_back([&core] {
      for (;;) {
        try {
          core.io.run();
          return;
        } catch (...) {
          // Handlers catch their own errors; keep the worker alive regardless.
        }
      }
    });
  }
  core.state = ServerCore::State::kRunning;
  return Status::OK();
}

uint16_t Server::port() const { return impl_->core.port; }

void Server::Stop() {
  ServerCore& core = impl_->core;
  std::lock_guard<std::mutex> lock(core.stop_mutex);
  if (core.state != ServerCore::State::kRunning) {
    core.state = ServerCore::State::kStopped;
    return;
  }
  core.state = ServerCore::State::kStopped;
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> sessions_lock(core.sessions_mutex);
    core.stopping = true;
    for (auto& [id, weak] : core.sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  net::post(core.accept_strand, [&core] {
    beast::error_code ec;
    core.acceptor.close(ec);
    core.accept_retry_timer.cancel();
  });
  for (auto& session : live) session->CloseSoon();
  live.clear();
  if (core.blocking_pool) {
    // Queued handlers are dropped; running ones finish (queries are bounded
    // by their timeout) and post answers the closed sockets refuse.
    core.blocking_pool->stop();
    core.blocking_pool->join();
  }
  // Every socket is closed, so the workers run out of work and return.
  for (auto& thread : core.threads) thread.join();
  core.threads.clear();
}

}  // namespace tsvault::http
