// Small text helpers for the http module; see internal_util.h.
#include "http/internal_util.h"

#include <cstring>
#include <exception>
#include <utility>
#include <vector>

namespace tsvault::http {

Status ParseHostPort(std::string_view text, HostPort* out) {
  // Built by appending: GCC 12 warns (-Wrestrict, a known false positive)
  // on `"literal" + std::string(...)`.
  std::string shown = "\"";
  shown.append(text);
  shown.push_back('"');
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument("address " + shown + " is not \"[ipv6]:port\"");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.empty()) return Status::InvalidArgument("address " + shown + " has an empty IPv6 host");
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("address " + shown + " has no port (want host:port)");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Status::InvalidArgument("address " + shown + ": put an IPv6 host in brackets, \"[::1]:9201\"");
    }
  }
  if (port.empty() || port.size() > 5) {
    return Status::InvalidArgument("address " + shown + " has an invalid port");
  }
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return Status::InvalidArgument("address " + shown + " has an invalid port");
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return Status::InvalidArgument("address " + shown + " has a port above 65535");
  out->host = std::string(host);
  out->port = static_cast<uint16_t>(value);
  return Status::OK();
}

std::string FormatHostPort(std::string_view host, uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  out.append(":").append(std::to_string(port));
  return out;
}

bool IsValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && (c == '\0' || std::strchr("!#$%&'*+-.^_`|~", c) == nullptr)) return false;
  }
  return true;
}

bool IsValidHeaderValue(std::string_view value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

void RunHandlerSafely(const Handler& handler, const Request& request, Response* response) {
  try {
    handler(request, response);
  } catch (const std::exception& e) {
    *response = Response();
    response->status = 500;
    response->body = std::string("500 internal server error: ") + e.what() + "\n";
  } catch (...) {
    *response = Response();
    response->status = 500;
    response->body = "500 internal server error: unknown exception\n";
  }
}

void SanitizeResponse(Response* response) {
  if (response->status < 200 || response->status > 999) {
    const int invalid = response->status;
    *response = Response();
    response->status = 500;
    response->body = "500 internal server error: handler set invalid status " + std::to_string(invalid) + "\n";
  }
  bool has_content_type = false;
  std::vector<std::pair<std::string, std::string>> kept;
  kept.reserve(response->headers.size() + 1);
  for (auto& [name, value] : response->headers) {
    if (!IsValidHeaderName(name) || !IsValidHeaderValue(value)) continue;
    const std::string lower = ToLowerAscii(name);
    if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection") continue;
    if (lower == "content-type") has_content_type = true;
    kept.emplace_back(std::move(name), std::move(value));
  }
  if (response->status == 204 || response->status == 304) response->body.clear();
  if (!response->body.empty() && !has_content_type) {
    kept.emplace_back("Content-Type", "text/plain; charset=utf-8");
  }
  response->headers = std::move(kept);
}

}  // namespace tsvault::http
