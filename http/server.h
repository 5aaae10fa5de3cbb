// An asynchronous HTTP/1.1 server on a fixed pool of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/http.h"

namespace tsvault::http {

// Whether and how the server asks for client certificates (the values of
// Prometheus' web config `client_auth_type`, docs/security.md).
enum class ClientAuth {
  kNone,              // NoClientCert
  kRequest,           // RequestClientCert: asked for, not verified
  kRequireAny,        // RequireAnyClientCert: required, not verified
  kVerifyIfGiven,     // VerifyClientCertIfGiven
  kRequireAndVerify,  // RequireAndVerifyClientCert
};

// TLS protocol versions, for TlsServerOptions::min_version/max_version.
enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

// HTTPS: the server's certificate and what it asks of clients.
struct TlsServerOptions {
  std::string cert_file;  // PEM, the server certificate (chain)
  std::string key_file;   // PEM, its private key
  ClientAuth client_auth = ClientAuth::kNone;
  std::string client_ca_file;  // PEM, CAs that verify client certificates
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // IANA names (as Go and Prometheus spell them, e.g.
  // "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") of the TLS 1.2 suites allowed;
  // empty: OpenSSL's defaults. TLS 1.3 suites are not configurable (as in Go).
  std::vector<std::string> cipher_suites;
};

// Checks that `options` can serve: the files load, the key matches the
// certificate, the CA file loads where client_auth needs it, the suites are
// known. InvalidArgument naming the problem otherwise.
Status CheckTlsServerOptions(const TlsServerOptions& options);

struct ServerOptions {
  std::string listen_address = "127.0.0.1:9201";  // host:port; port 0 picks one
  int threads = 2;                                // I/O worker threads
  // Threads for handlers registered with RouteBlocking (queries); 0 runs
  // them on the I/O threads like any other handler.
  int blocking_threads = 4;
  uint64_t max_body_bytes = 64ull << 20;          // enforced while reading
  // Bound on the request bodies being received or handled at once, across
  // all connections (streaming-body routes aside, which hold one piece at a
  // time): a request whose body would pass it is answered 429 with
  // Retry-After before its body is read. A body without Content-Length
  // (chunked) counts as max_body_bytes. Bounds the memory overload can take
  // whatever the thread count. 0: no bound.
  uint64_t max_inflight_body_bytes = 0;
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
  // When set, the server speaks HTTPS only (Start fails if it cannot load).
  std::optional<TlsServerOptions> tls;
  // When set, called for every request once its headers are read, before
  // its body is read and before routing (an unknown path may answer 401):
  // `request` holds everything but the body. Returning false refuses it
  // with *refusal (e.g. 401 or 403); the body is not read and the
  // connection closes after the answer. Called concurrently from the I/O
  // threads; must be quick (cache slow password checks).
  std::function<bool(const Request& request, Response* refusal)> admit;
  // When set, called for every response before it is sent (e.g. to add the
  // headers of the web config's http_server_config). Called concurrently.
  std::function<void(Response* response)> decorate;
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

  // Replaces the TLS settings for connections accepted from now on (e.g.
  // renewed certificate files). Connections already open keep theirs.
  // InvalidArgument when the new settings do not load (the old ones stay)
  // or the server was not started with TLS (turning TLS on or off needs a
  // restart). Thread-safe.
  Status ReloadTls(const TlsServerOptions& tls);

  // True when the server was configured with TLS.
  bool tls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::http
