// Session: streamed response bodies (Response::body_source), sent with
// chunked transfer encoding one produced piece at a time, so a long answer
// (a remote read) never sits whole in memory.
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "http/internal_util.h"
#include "http/session.h"

namespace tsvault::http::internal {

namespace {

// The most a streamed body collected into one (HTTP/1.0, HEAD, inline
// routes) may hold.
constexpr size_t kMaxCollectedBodyBytes = size_t{256} << 20;

// Calls the source, turning an exception into kAbort.
BodyStep NextPiece(const BodySource& source, std::string* piece) {
  try {
    return source(piece);
  } catch (...) {
    return BodyStep::kAbort;
  }
}

}  // namespace

void CollectStreamedBody(Response* response) {
  BodySource source = std::move(response->body_source);
  response->body_source = nullptr;
  response->body.clear();
  for (;;) {
    std::string piece;
    const BodyStep step = NextPiece(source, &piece);
    if (step == BodyStep::kAbort) {
      *response = Response();
      response->status = 500;
      response->body = "500 internal server error: the response could not be completed\n";
      return;
    }
    if (response->body.size() + piece.size() > kMaxCollectedBodyBytes) {
      *response = Response();
      response->status = 500;
      response->body = "500 internal server error: the response is larger than " +
                       std::to_string(kMaxCollectedBodyBytes >> 20) +
                       " MiB, the most sent without chunked encoding; ask with HTTP/1.1\n";
      return;
    }
    response->body += piece;
    if (step == BodyStep::kEnd) return;
  }
}

void Session::WriteStreamed(Response response, std::string route, unsigned version, bool keep_alive) {
  body_source_ = std::move(response.body_source);
  response.body_source = nullptr;
  response.body.clear();
  SanitizeResponse(&response);
  stream_header_.emplace();
  stream_header_->version(version);
  stream_header_->result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers) stream_header_->insert(name, value);
  stream_header_->chunked(true);
  stream_header_->keep_alive(keep_alive);
  stream_status_ = response.status;
  stream_keep_alive_ = keep_alive;
  route_ = std::move(route);
  stream_serializer_.emplace(*stream_header_);
  Tcp().expires_after(core_->options.idle_timeout);
  WithStream([&](auto& stream) {
    bhttp::async_write_header(stream, *stream_serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->FinishStreamed(ec, false);
      self->ProduceNextPiece();
    });
  });
}

void Session::ProduceNextPiece() {
  auto produce = [self = shared_from_this()] {
    // Stop() began, or the connection is gone: produce nothing more. The
    // source is released with the session.
    if (self->core_->stopping.load(std::memory_order_relaxed)) return;
    auto piece = std::make_shared<std::string>();
    const BodyStep step = NextPiece(self->body_source_, piece.get());
    net::post(self->Tcp().get_executor(), [self, piece, step] {
      self->piece_ = std::move(*piece);
      self->WritePiece(step);
    });
  };
  if (core_->stopping.load(std::memory_order_relaxed)) {
    return FinishStreamed(net::error::operation_aborted, false);
  }
  if (!core_->blocking_pool) return produce();
  // No work guard on io (see HandleRequest).
  net::post(*core_->blocking_pool, std::move(produce));
}

void Session::WritePiece(BodyStep step) {
  if (step == BodyStep::kAbort) {
    // Headers are out: the only way to tell the client is a broken body.
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp().close();
    stream_status_ = 500;  // for the request metrics
    return FinishStreamed(net::error::connection_aborted, false);
  }
  if (!Tcp().socket().is_open()) return FinishStreamed(net::error::connection_aborted, false);
  if (piece_.empty()) return step == BodyStep::kEnd ? WriteLastChunk() : ProduceNextPiece();
  Tcp().expires_after(core_->options.idle_timeout);
  WithStream([&](auto& stream) {
    net::async_write(stream, bhttp::make_chunk(net::buffer(piece_)),
                     [self = shared_from_this(), step](beast::error_code ec, size_t) {
                       if (ec) return self->FinishStreamed(ec, false);
                       if (step == BodyStep::kEnd) return self->WriteLastChunk();
                       self->ProduceNextPiece();
                     });
  });
}

void Session::WriteLastChunk() {
  Tcp().expires_after(core_->options.idle_timeout);
  WithStream([&](auto& stream) {
    net::async_write(stream, bhttp::make_chunk_last(), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->FinishStreamed(ec, self->stream_keep_alive_);
    });
  });
}

void Session::FinishStreamed(beast::error_code ec, bool keep_alive) {
  core_->Observe(route_, stream_status_, request_start_);
  body_source_ = nullptr;  // releases what the producer holds (e.g. a read slot)
  piece_ = std::string();
  stream_serializer_.reset();
  stream_header_.reset();
  if (ec) return;
  if (!keep_alive) return CloseGracefully();
  ++requests_served_;
  ReadRequest();
}

}  // namespace tsvault::http::internal
