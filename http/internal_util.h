// Internal to the http module: helpers shared by the server and the client
// (address parsing, header checks, response clean-up). No Boost.Beast here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/ascii.h"
#include "common/status.h"
#include "http/http.h"

namespace tsvault::http {

// A host and port split out of "host:port", "[v6]:port" or ":port".
struct HostPort {
  std::string host;  // brackets removed; empty for ":port"
  uint16_t port = 0;
};

// Parses "host:port", "[::1]:port" or ":port". The port is required and must
// be 0-65535. Returns InvalidArgument naming the problem.
Status ParseHostPort(std::string_view text, HostPort* out);

// Formats a host and port the way ParseHostPort reads them ("[::1]:80").
std::string FormatHostPort(std::string_view host, uint16_t port);

// True when `name` is a non-empty RFC 9110 token (safe as a header name).
bool IsValidHeaderName(std::string_view name);

// True when `value` holds no CR, LF or NUL (cannot inject headers).
bool IsValidHeaderValue(std::string_view value);

// Runs `handler`; an exception becomes a 500 response carrying its message.
void RunHandlerSafely(const Handler& handler, const Request& request, Response* response);

// Makes a handler's response safe to send: an invalid status becomes 500;
// malformed headers and those the server manages (Content-Length,
// Transfer-Encoding, Connection) are dropped; 204 and 304 lose their body;
// a non-empty body without Content-Type gets "text/plain; charset=utf-8".
void SanitizeResponse(Response* response);

}  // namespace tsvault::http
