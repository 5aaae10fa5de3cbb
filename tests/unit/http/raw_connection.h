// Test helper: a plain POSIX TCP connection for sending hand-written (and
// deliberately broken) HTTP to the server and watching how it reacts.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace tsvault::http::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:`port`; check connected().
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  // Writes all of `data`; false on error (e.g. the server reset us).
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `needle` arrives, the peer closes or `timeout` passes;
  // returns everything read so far.
  std::string ReadUntil(std::string_view needle, std::chrono::milliseconds timeout) {
    ReadLoop(timeout, &pending_, [&](const std::string& data) { return data.find(needle) != std::string::npos; });
    return pending_;
  }

  // Reads until the peer closes (EOF or reset) or `timeout` passes.
  // *closed tells which. Returns everything read.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout, bool* closed) {
    std::string out;
    *closed = ReadLoop(timeout, &out, [](const std::string&) { return false; });
    return out;
  }

  // Reads one response: up to the end of its headers plus Content-Length
  // body bytes (none when the header is absent), or up to the last chunk of
  // a chunked body. Empty on timeout/EOF.
  std::string ReadResponse(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto length = [](const std::string& data) -> size_t {  // 0 while incomplete
      const size_t end = data.find("\r\n\r\n");
      if (end == std::string::npos) return 0;
      const std::string head = data.substr(0, end);
      if (head.find("\r\nTransfer-Encoding: chunked") != std::string::npos) {
        const size_t last = data.find("\r\n0\r\n\r\n", end);
        return last == std::string::npos ? 0 : last + 7;
      }
      const size_t total = end + 4 + ContentLength(head);
      return data.size() >= total ? total : 0;
    };
    ReadLoop(timeout, &pending_, [&](const std::string& data) { return length(data) != 0; });
    const size_t total = length(pending_);
    if (total == 0) return "";
    std::string response = pending_.substr(0, total);
    pending_.erase(0, total);
    return response;
  }

 private:
  // Content-Length of a header block (lower/upper case accepted), or 0.
  static size_t ContentLength(const std::string& head) {
    for (const char* name : {"\r\nContent-Length: ", "\r\ncontent-length: "}) {
      const size_t at = head.find(name);
      if (at != std::string::npos) return std::strtoul(head.c_str() + at + std::string_view(name).size(), nullptr, 10);
    }
    return 0;
  }

  // Appends to *out until `done(*out)`, the peer closes (returns true) or
  // the timeout passes (returns false).
  template <typename Done>
  bool ReadLoop(std::chrono::milliseconds timeout, std::string* out, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(*out)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd poll_fd{fd_, POLLIN, 0};
      const int ready = ::poll(&poll_fd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return true;
      out->append(chunk, static_cast<size_t>(n));
    }
    return false;
  }

  int fd_ = -1;
  std::string pending_;  // bytes read past the last returned response
};

}  // namespace tsvault::http::testing
