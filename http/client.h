// A small blocking HTTP/1.1 client with keep-alive, over TCP or TLS, for
// tests, the load generator and the remote-write forwarder.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/http.h"

namespace tsvault::http {

// TLS settings for https:// base URLs (Prometheus' tls_config).
struct TlsOptions {
  std::string ca_file;    // trusted CAs (PEM); empty: the system's
  std::string cert_file;  // client certificate (PEM), with key_file
  std::string key_file;
  std::string server_name;  // name to verify and send as SNI; empty: the URL's host
  bool insecure_skip_verify = false;
};

struct BodySink;

class Client {
 public:
  // `base_url` like "http://127.0.0.1:9201" or "https://host:port/prefix"
  // (TLS 1.2 or later, the server's certificate verified against `tls`).
  // InvalidArgument for a bad URL or unreadable TLS files.
  static Status Create(const std::string& base_url, const TlsOptions& tls, std::unique_ptr<Client>* out);
  static Status Create(const std::string& base_url, std::unique_ptr<Client>* out) {
    return Create(base_url, TlsOptions(), out);
  }
  ~Client();

  // Sends a request to `target` (path + query) and reads the whole response.
  // Reconnects once if a kept-alive connection was closed by the server.
  // A transport failure returns IOError; any HTTP status is a success here.
  Status Do(const std::string& method, const std::string& target,
            const std::vector<std::pair<std::string, std::string>>& headers,
            const std::string& body, Response* response,
            std::chrono::milliseconds timeout = std::chrono::seconds(30));

  Status Get(const std::string& target, Response* response) {
    return Do("GET", target, {}, "", response);
  }

  // Like Do, but hands the response body to `on_body` in pieces as it
  // arrives (response->body stays empty), so a body of any size is read in
  // bounded memory. `timeout` bounds connecting, sending and the wait for
  // each piece, not the whole transfer. An error `on_body` returns ends the
  // transfer (the connection is closed) and is returned.
  Status DoStreamed(const std::string& method, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                    const std::function<Status(std::string_view piece)>& on_body, Response* response,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  // Do's body; `on_body` null reads the whole body into the response.
  Status Exchange(const std::string& method, const std::string& target,
                  const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                  const BodySink* on_body, Response* response, std::chrono::milliseconds timeout);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::http
