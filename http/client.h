// A small blocking HTTP/1.1 client with keep-alive, for tests, the load
// generator and (later) the remote-write forwarder.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/http.h"

namespace tsvault::http {

class Client {
 public:
  // `base_url` like "http://127.0.0.1:9201" (http only, no TLS).
  static Status Create(const std::string& base_url, std::unique_ptr<Client>* out);
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

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::http
