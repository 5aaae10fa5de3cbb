// An asynchronous HTTP/1.1 server on a fixed pool of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/http.h"

namespace tsvault::http {

struct ServerOptions {
  std::string listen_address = "127.0.0.1:9201";  // host:port; port 0 picks one
  int threads = 2;                                // I/O worker threads
  // Threads for handlers registered with RouteBlocking (queries); 0 runs
  // them on the I/O threads like any other handler.
  int blocking_threads = 4;
  uint64_t max_body_bytes = 64ull << 20;          // enforced while reading
  std::chrono::seconds header_timeout{10};        // to read a request's headers
  std::chrono::seconds idle_timeout{120};         // keep-alive idle limit
  // Called after every response with the matched route pattern (or
  // "other" for unrouted paths), the status code and the handling time in
  // seconds; used for the request metrics. May be empty.
  std::function<void(const std::string& route, int status, double seconds)> observer;
  // Called when accepting a connection fails (usually: out of file
  // descriptors; clients then cannot connect until some close). The server
  // retries every 100 ms. May be empty.
  std::function<void(const std::string& error)> accept_error_observer;
};

// Routes requests by exact path, or by path prefix for routes ending in "/*".
// Unknown paths answer 404; a known path with another method answers 405.
class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers `handler` for `method` ("GET", "POST", ...) on `path`. A path
  // ending in "/*" matches every path with that prefix. Call before Start().
  void Route(const std::string& method, const std::string& path, Handler handler);

  // Like Route, for a handler that may run long (a query): it runs on the
  // blocking pool, so it never holds an I/O thread and other requests on
  // other connections (remote write) keep flowing. Call before Start().
  void RouteBlocking(const std::string& method, const std::string& path, Handler handler);

  // Like RouteBlocking, for a handler that takes a body of any size (an
  // import): the server reads only the headers, and the handler reads the
  // body in pieces with Request::read_body as it processes them, so memory
  // stays bounded. max_body_bytes does not apply; each piece must arrive
  // within the idle timeout. A handler that answers before reading the
  // whole body ends the connection after its answer. Call before Start().
  void RouteStreamingBody(const std::string& method, const std::string& path, Handler handler);

  // Binds and starts serving on the worker threads; returns at once.
  Status Start();
  // The port actually bound (useful with port 0). Valid after Start().
  uint16_t port() const;
  // Stops accepting, closes connections, joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::http
