// Transport-neutral HTTP request/response types shared by the server, the
// client and every handler. Boost.Beast stays inside http/*.cc.
#pragma once

#include <cstdint>
#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tsvault::http {

// A parsed HTTP request as seen by a handler.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent, e.g. "/api/v1/series?match[]=up"
  std::string path;    // target without the query string, percent-decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // Set instead of `body` for routes registered with RouteStreamingBody:
  // waits for the next piece of the body and returns true with it in
  // *piece (replaced, never empty); false at the end (*error empty) or when
  // reading failed (*error says why: a timeout, a closed connection, the
  // server stopping). Call only from the handler, on its thread.
  std::function<bool(std::string* piece, std::string* error)> read_body;
  // The peer as "ip:port" ("[::1]:50312" for IPv6); set by the server,
  // empty elsewhere. Useful for logs.
  std::string remote_address;
  // For handlers on the blocking pool: becomes true when the client closes
  // the connection while the handler runs, or the server is stopping, so a
  // long handler (a query) can stop early; its answer is not sent then.
  // Null elsewhere. Valid for the handler's whole run.
  const std::atomic<bool>* cancelled = nullptr;

  // First header value with this (case-insensitive) name, or empty.
  std::string_view Header(std::string_view name) const;
  // True when the header is present (even if empty).
  bool HasHeader(std::string_view name) const;
};

// A response built by a handler.
// What a streamed body's producer reports (Response::body_source).
enum class BodyStep {
  kMore,   // *piece holds the next bytes (may be empty); call again
  kEnd,    // *piece holds the last bytes (may be empty); the body is complete
  kAbort,  // an error after the headers went out: end the response broken
};

// Produces the next piece of a streamed body into *piece (empty on entry).
using BodySource = std::function<BodyStep(std::string* piece)>;

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, `body` is ignored and the body is streamed: the headers go out
  // with chunked transfer encoding, then the server calls body_source on its
  // blocking pool, one call at a time, sending each piece before asking for
  // the next, until kEnd. kAbort closes the connection without the final
  // chunk, so the client sees a truncated body. HTTP/1.0 requests, HEAD and
  // handlers not registered with RouteBlocking get the pieces collected
  // into `body` (kAbort then answers 500). The server destroys the source
  // when the body ends or the connection fails.
  BodySource body_source;

  void SetHeader(std::string name, std::string value);
  std::string_view Header(std::string_view name) const;
};

// Handles one request. Called on a server worker thread; may block briefly
// (a WAL fsync), not for long.
using Handler = std::function<void(const Request&, Response*)>;

// Decodes application/x-www-form-urlencoded or a URL query string into
// ordered pairs ("+" is a space, %XX decoded). Repeated keys are kept.
std::vector<std::pair<std::string, std::string>> ParseFormEncoded(std::string_view text);

// Percent-encodes `text` for a URL query value: everything but
// A-Z a-z 0-9 - _ . ~ becomes %XX.
std::string PercentEncode(std::string_view text);

// Percent-decodes a path segment ("+" stays "+").
std::string PercentDecode(std::string_view text, bool plus_is_space);

// Query-string parameters of the target followed by form-body parameters
// when the request is a POST with Content-Type application/x-www-form-urlencoded,
// the way Prometheus' API reads its parameters.
std::vector<std::pair<std::string, std::string>> RequestParams(const Request& request);

}  // namespace tsvault::http
