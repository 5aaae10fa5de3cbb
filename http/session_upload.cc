// Session: requests whose handler reads the body in pieces
// (Server::RouteStreamingBody). See session.h.
#include <boost/asio/post.hpp>

#include <condition_variable>
#include <limits>
#include <mutex>

#include "http/internal_util.h"
#include "http/session.h"

namespace tsvault::http::internal {

namespace {

constexpr size_t kUploadPieceBytes = 256 * 1024;
// How often a handler waiting for a piece checks whether the server stops.
constexpr auto kStopPoll = std::chrono::milliseconds(100);

}  // namespace

// One read of a piece, handed between the strand and the handler's thread.
struct Session::UploadPiece {
  std::mutex mutex;
  std::condition_variable ready_signal;
  bool ready = false;  // Guarded by mutex; the fields below too once set.
  bool ok = false;     // false: the end (error empty) or a failure
  std::string data;
  std::string error;
};

void Session::StartStreamingBodyRequest() {
  upload_parser_.emplace(std::move(*parser_));
  upload_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  auto& message = upload_parser_->get();
  Request request;
  request.method = std::string(View(message.method_string()));
  request.target = std::string(View(message.target()));
  request.path = std::move(request_path_);
  for (const auto& field : message) {
    request.headers.emplace_back(ToLowerAscii(View(field.name_string())), std::string(View(field.value())));
  }
  request.remote_address = remote_address_;
  Router::Match match = std::move(match_);
  const bool keep_alive = message.keep_alive();
  const unsigned version = message.version();
  auto self = shared_from_this();
  request.read_body = [self](std::string* piece, std::string* error) {
    error->clear();
    while (true) {
      if (self->core_->stopping.load(std::memory_order_relaxed)) {
        *error = "the server is stopping";
        return false;
      }
      auto read = std::make_shared<UploadPiece>();
      net::post(self->Tcp().get_executor(), [self, read] { self->ReadUploadPiece(read); });
      std::unique_lock<std::mutex> lock(read->mutex);
      // A read posted once Stop() began may never run: look up now and then.
      while (!read->ready_signal.wait_for(lock, kStopPoll, [&] { return read->ready; })) {
        if (self->core_->stopping.load(std::memory_order_relaxed)) {
          *error = "the server is stopping";
          return false;
        }
      }
      if (!read->ok) {
        *error = read->error;
        return false;
      }
      if (read->data.empty()) continue;  // framing only (a chunk header)
      *piece = std::move(read->data);
      return true;
    }
  };
  net::post(*core_->blocking_pool, [self, handler = match.handler, request = std::move(request),
                                    pattern = std::move(match.pattern), version, keep_alive]() mutable {
    if (self->core_->stopping.load(std::memory_order_relaxed)) return;
    auto response = std::make_shared<Response>();
    RunHandlerSafely(*handler, request, response.get());
    request.read_body = nullptr;  // drops its hold on the session
    if (response->body_source && version < 11) CollectStreamedBody(response.get());
    net::post(self->Tcp().get_executor(), [self, response, pattern = std::move(pattern), version, keep_alive]() mutable {
      // A body not read to its end leaves the connection unusable.
      const bool whole_body_read = self->upload_parser_ && self->upload_parser_->is_done();
      self->upload_parser_.reset();
      self->upload_buffer_.clear();
      self->upload_buffer_.shrink_to_fit();
      self->Write(std::move(*response), std::move(pattern), version, keep_alive && whole_body_read, /*head=*/false);
    });
  });
}

void Session::ReadUploadPiece(std::shared_ptr<UploadPiece> read) {
  auto finish = [read](bool ok, std::string data, std::string error) {
    std::lock_guard<std::mutex> lock(read->mutex);
    read->ok = ok;
    read->data = std::move(data);
    read->error = std::move(error);
    read->ready = true;
    read->ready_signal.notify_one();
  };
  if (!upload_parser_) return finish(false, "", "the request is over");
  if (upload_parser_->is_done()) return finish(false, "", "");
  upload_buffer_.resize(kUploadPieceBytes);
  auto& body = upload_parser_->get().body();
  body.data = upload_buffer_.data();
  body.size = upload_buffer_.size();
  // Beast sizes each socket read by the free space of buffer_, which after
  // the header can be under a kilobyte: room for 64 KiB per read.
  buffer_.reserve(64 * 1024);
  ReadUploadBytes(std::move(finish));
}

void Session::ReadUploadBytes(std::function<void(bool, std::string, std::string)> finish) {
  Tcp().expires_after(core_->options.idle_timeout);
  WithStream([&](auto& stream) {
    bhttp::async_read_some(
      stream, buffer_, *upload_parser_,
      [self = shared_from_this(), finish = std::move(finish)](beast::error_code ec, size_t) mutable {
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) return finish(false, "", "reading the body: " + ec.message());
        auto& body = self->upload_parser_->get().body();
        const size_t got = self->upload_buffer_.size() - body.size;
        // Fill the piece while more of the body is already here: one hand-off
        // to the handler per piece, not per socket read.
        beast::error_code ignored;
        if (!self->upload_parser_->is_done() && body.size > 0 &&
            (self->buffer_.size() > 0 || self->Tcp().socket().available(ignored) > 0)) {
          return self->ReadUploadBytes(std::move(finish));
        }
        finish(true, self->upload_buffer_.substr(0, got), "");
      });
  });
}

}  // namespace tsvault::http::internal
