// Internal to the http module: the server's shared state (ServerCore) and
// what the server's files share (Boost.Beast aliases, limits). Only the
// http module's own sources include it; no public header sees Beast.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/router.h"
#include "http/server.h"

namespace tsvault::http::internal {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

class Session;

// Beast 1.74 has its own string_view type.
inline std::string_view View(beast::string_view text) { return std::string_view(text.data(), text.size()); }

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
  // Request body bytes reserved now (ServerOptions::max_inflight_body_bytes);
  // lock-free.
  std::atomic<uint64_t> inflight_body_bytes{0};

  // The TLS context for connections accepted now; null for plain HTTP.
  // REQUIRES: tls_mutex not held.
  std::shared_ptr<net::ssl::context> CurrentTlsContext() const {
    std::lock_guard<std::mutex> lock(tls_mutex);
    return tls_context;
  }
  // Needs no lock; options.observer is called concurrently from every
  // I/O thread.
  void Observe(const std::string& route, int status, Clock::time_point start) const;

  // Immutable after construction; no lock.
  ServerOptions options;
  // Filled by Server::Route before Start(), read-only afterwards; no lock.
  Router router;
  // Declared before io and the pool, so they outlive them: sessions
  // released by the pool's or io's destruction still Unregister.
  // Guards next_session_id and sessions. `stopping` is atomic but is set
  // under it, so Register's check and Stop's snapshot of `sessions` agree:
  // no session registers after Stop collected the live ones.
  std::mutex sessions_mutex;
  // Atomic; also read without the lock by Session::Write (a hint to stop
  // keep-alive).
  std::atomic<bool> stopping{false};
  uint64_t next_session_id = 0;  // Guarded by sessions_mutex.
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;  // Guarded by sessions_mutex.
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

  // Set by Start, replaced by Server::ReloadTls; sessions hold their own
  // reference for their whole life.
  mutable std::mutex tls_mutex;
  std::shared_ptr<net::ssl::context> tls_context;  // Guarded by tls_mutex.

  // Serialises Start() and Stop(); guards state, threads and the
  // Start-time setup (acceptor opening, blocking_pool, port).
  std::mutex stop_mutex;
  enum class State { kNew, kRunning, kStopped } state = State::kNew;  // Guarded by stop_mutex.

};

}  // namespace tsvault::http::internal
