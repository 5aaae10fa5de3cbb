// Route table for the HTTP server; see router.h.
#include "http/router.h"

#include <algorithm>

namespace tsvault::http {

void Router::Add(const std::string& method, const std::string& pattern, Handler handler, bool blocking,
                 bool streaming_body) {
  blocking = blocking || streaming_body;
  const bool is_prefix = pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, "/*") == 0;
  if (!is_prefix) {
    Entry& entry = exact_[pattern];
    entry.pattern = pattern;
    entry.methods[method] = Target{std::move(handler), blocking, streaming_body};
    return;
  }
  const std::string prefix = pattern.substr(0, pattern.size() - 1);  // keeps the '/'
  auto it = std::find_if(prefixes_.begin(), prefixes_.end(),
                         [&](const auto& item) { return item.first == prefix; });
  if (it == prefixes_.end()) {
    prefixes_.emplace_back(prefix, Entry{pattern, {}});
    it = prefixes_.end() - 1;
  }
  it->second.methods[method] = Target{std::move(handler), blocking, streaming_body};
  // Keep the longest prefixes first so the most specific route wins.
  std::stable_sort(prefixes_.begin(), prefixes_.end(), [](const auto& a, const auto& b) {
    return a.first.size() > b.first.size();
  });
}

void Router::Resolve(const Entry& entry, std::string_view method, Match* match) {
  match->pattern = entry.pattern;
  auto it = entry.methods.find(std::string(method));
  if (it != entry.methods.end()) {
    match->handler = &it->second.handler;
    match->blocking = it->second.blocking;
    match->streaming_body = it->second.streaming_body;
    return;
  }
  if (method == "HEAD") {
    auto get = entry.methods.find("GET");
    if (get != entry.methods.end()) {
      match->handler = &get->second.handler;
      match->blocking = get->second.blocking;
      match->head_via_get = true;
      return;
    }
  }
  match->error_status = 405;
  for (const auto& [name, target] : entry.methods) {
    if (!match->allow.empty()) match->allow += ", ";
    match->allow += name;
    if (name == "GET" && entry.methods.count("HEAD") == 0) match->allow += ", HEAD";
  }
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  auto exact = exact_.find(path);
  if (exact != exact_.end()) {
    Resolve(exact->second, method, &match);
    return match;
  }
  for (const auto& [prefix, entry] : prefixes_) {
    if (path.size() >= prefix.size() && path.compare(0, prefix.size(), prefix) == 0) {
      Resolve(entry, method, &match);
      return match;
    }
  }
  match.error_status = 404;
  match.pattern = "other";
  return match;
}

}  // namespace tsvault::http
