// The HTTP/1.1 server: a Boost.Beast acceptor and one Session per TCP
// connection (session.h), all on one io_context run by a fixed pool of
// threads. This file accepts connections and starts and stops the server.
#include "http/server.h"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "http/internal_util.h"
#include "http/server_core.h"
#include "http/session.h"
#include "http/tls_server_context.h"

namespace tsvault::http {

namespace internal {

void ServerCore::Accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void ServerCore::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    if (options.accept_error_observer) {
      try {
        options.accept_error_observer(ec.message());
      } catch (...) {
      }
    }
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
  auto session = std::make_shared<Session>(this, id, std::move(socket), CurrentTlsContext());
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

}  // namespace internal

using internal::ServerCore;
using internal::Session;
namespace beast = internal::beast;
namespace net = internal::net;
using internal::tcp;

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

void Server::RouteStreamingBody(const std::string& method, const std::string& path, Handler handler) {
  impl_->core.router.Add(method, path, std::move(handler), /*blocking=*/true, /*streaming_body=*/true);
}

Status Server::Start() {
  ServerCore& core = impl_->core;
  std::lock_guard<std::mutex> lock(core.stop_mutex);
  if (core.state != ServerCore::State::kNew) {
    return Status::InvalidArgument("http server: Start() may be called only once");
  }
  if (core.options.tls) {
    std::shared_ptr<net::ssl::context> context;
    Status tls_status = internal::NewTlsServerContext(*core.options.tls, &context);
    if (!tls_status.ok()) return tls_status;
    std::lock_guard<std::mutex> tls_lock(core.tls_mutex);
    core.tls_context = std::move(context);
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

bool Server::tls() const { return impl_->core.options.tls.has_value(); }

Status Server::ReloadTls(const TlsServerOptions& tls) {
  ServerCore& core = impl_->core;
  if (!core.options.tls) {
    return Status::InvalidArgument("the server was started without TLS; turning TLS on needs a restart");
  }
  std::shared_ptr<net::ssl::context> context;
  Status s = internal::NewTlsServerContext(tls, &context);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(core.tls_mutex);
  core.tls_context = std::move(context);
  return Status::OK();
}

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
    // Jobs still queued see `stopping` and return at once; running ones
    // finish (queries are bounded by their timeout) and post answers the
    // closed sockets refuse. Jobs hold no work on io, so the I/O threads
    // below return even if one is posted to the pool after this.
    core.blocking_pool->join();
  }
  // Every socket is closed, so the workers run out of work and return.
  for (auto& thread : core.threads) thread.join();
  core.threads.clear();
}

}  // namespace tsvault::http
