// Internal to the http module: maps (method, path) to a handler. Exact
// routes win over prefix routes; the longest matching prefix wins.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/http.h"

namespace tsvault::http {

class Router {
 public:
  // What Find() decided for one request.
  struct Match {
    // The handler to run, or null when the answer is 404 or 405.
    const Handler* handler = nullptr;
    // 0 when a handler was found, else 404 (no such path) or 405 (the path
    // exists but not for this method).
    int error_status = 0;
    // The registered pattern ("/api/v1/label/*"), or "other" for a 404.
    std::string pattern;
    // For a 405: the methods the path accepts, comma separated.
    std::string allow;
    // True when a HEAD request is served by the GET handler; the server then
    // sends the headers without the body.
    bool head_via_get = false;
    // True when the handler was registered to run on the blocking pool.
    bool blocking = false;
    // True when the handler reads the body itself (Request::read_body).
    bool streaming_body = false;
  };

  // Registers `handler`; a later registration of the same method and
  // pattern replaces the earlier one. A pattern ending in "/*" matches
  // every path starting with the part before the "*". `blocking` marks a
  // handler that may run long (see Server::RouteBlocking).
  // `streaming_body` (implies blocking) marks a handler that reads the
  // request body in pieces (see Server::RouteStreamingBody).
  void Add(const std::string& method, const std::string& pattern, Handler handler, bool blocking = false,
           bool streaming_body = false);

  // Looks up the handler for a request. Thread-safe once routes are added.
  Match Find(std::string_view method, std::string_view path) const;

 private:
  struct Target {
    Handler handler;
    bool blocking = false;
    bool streaming_body = false;
  };
  struct Entry {
    std::string pattern;                   // as registered
    std::map<std::string, Target> methods; // method -> handler
  };

  static void Resolve(const Entry& entry, std::string_view method, Match* match);

  std::map<std::string, Entry, std::less<>> exact_;  // keyed by path
  std::vector<std::pair<std::string, Entry>> prefixes_;  // longest prefix first
};

}  // namespace tsvault::http
