#include "tests/support/ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "http/client.h"

namespace tsvault::testing {

Status PickFreePort(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int error = errno;
    close(fd);
    return Status::IOError(std::string("bind/getsockname: ") + strerror(error));
  }
  close(fd);
  *port = ntohs(address.sin_port);
  return Status::OK();
}

std::string QueryEscape(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status WaitForHttpOk(const std::string& base_url, const std::string& path, Process* process,
                     std::chrono::milliseconds timeout, const std::string& log_path,
                     const http::TlsOptions* tls_options) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  std::unique_ptr<http::Client> client;
  http::TlsOptions tls;
  tls.insecure_skip_verify = true;  // readiness only; https:// test servers use their own certificates
  if (tls_options != nullptr) tls = *tls_options;
  Status s = http::Client::Create(base_url, tls, &client);
  if (!s.ok()) return s;
  std::string last_error = "no attempt";
  while (true) {
    if (!process->IsAlive()) {
      return Status::Internal(base_url + " exited before " + path + " answered 200 (" +
                              DescribeWaitStatus(process->last_wait_status()) + "); log tail:\n" +
                              ReadLogTail(log_path));
    }
    http::Response response;
    s = client->Do("GET", path, {}, "", &response, std::chrono::milliseconds(1000));
    if (s.ok() && response.status == 200) return Status::OK();
    last_error = s.ok() ? "HTTP " + std::to_string(response.status) : s.ToString();
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::DeadlineExceeded(base_url + path + " did not answer 200 within " +
                                  std::to_string(timeout.count()) + "ms (last: " + last_error +
                                  "); log tail:\n" + ReadLogTail(log_path));
}

}  // namespace tsvault::testing
