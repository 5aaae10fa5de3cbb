#include <cstdint>
#include <cstdio>
#include <string>

#include "query/ui/assets.h"
#include "query/ui/ui.h"

namespace tsvault::ui {

namespace {

// FNV-1a over the file: changes with every build that changes the file.
std::string EntityTag(std::string_view data) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[24];
  snprintf(text, sizeof(text), "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text;
}

http::Handler Serve(const Asset& asset) {
  return [&asset, tag = EntityTag(asset.data)](const http::Request& request, http::Response* response) {
    response->SetHeader("ETag", tag);
    // Always asked again, answered 304 while unchanged: a new build's page
    // is never mixed with the old one's script.
    response->SetHeader("Cache-Control", "no-cache");
    if (request.Header("If-None-Match") == tag) {
      response->status = 304;
      return;
    }
    response->status = 200;
    response->SetHeader("Content-Type", std::string(asset.content_type));
    response->SetHeader("X-Content-Type-Options", "nosniff");
    response->body.assign(asset.data);
  };
}

}  // namespace

void RegisterUiRoutes(http::Server* server) {
  for (const Asset& asset : EmbeddedAssets()) {
    for (const char* method : {"GET", "HEAD"}) {
      if (asset.path == "index.html") {
        server->Route(method, "/", Serve(asset));
      }
      server->Route(method, "/ui/" + std::string(asset.path), Serve(asset));
    }
  }
  for (const char* method : {"GET", "HEAD"}) {
    server->Route(method, "/graph", [](const http::Request& request, http::Response* response) {
      response->status = 302;
      std::string location = "/";
      if (const size_t query = request.target.find('?'); query != std::string::npos) {
        location.append(request.target, query);
      }
      response->SetHeader("Location", location);
    });
  }
}

}  // namespace tsvault::ui
