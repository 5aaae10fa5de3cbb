// A blocking HTTP/1.1 client on one kept-alive connection. Each call runs
// Beast's asynchronous operations on a private io_context so that a single
// deadline covers connect, write and read. Every Boost.Beast include of the
// client lives in this file.
#include "http/client.h"

#include <functional>
#include <limits>
#include <vector>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include "http/internal_util.h"

namespace tsvault::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kResponseHeaderLimitBytes = 1u << 20;

std::string_view View(beast::string_view text) { return std::string_view(text.data(), text.size()); }

// True for the errors a server's close of an idle kept-alive connection
// produces when we next use it.
bool IsStaleConnectionError(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == net::error::not_connected ||
         ec == net::error::bad_descriptor;
}

}  // namespace

// Where a streamed response body goes, and what it said.
struct BodySink {
  std::function<Status(std::string_view)> sink;
  std::chrono::milliseconds piece_timeout;
  mutable Status status;  // the sink's error, if it stopped the transfer
};

struct Client::Impl {
  std::string host;
  uint16_t port = 0;
  std::string base_path;    // "" or "/prefix" without a trailing '/'
  std::string host_header;  // "host:port"

  net::io_context io{1};
  beast::tcp_stream stream{io};
  // With TLS: the context, and the stream over its own TCP stream.
  std::unique_ptr<net::ssl::context> tls_context;
  std::string tls_name;  // verified and sent as SNI
  bool tls_verify = true;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool connected = false;

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : stream; }

  // TLS 1.2 or later; the peer verified unless insecure_skip_verify.
  Status ConfigureTls(const TlsOptions& options, const std::string& host) {
    tls_context = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    beast::error_code ec;
    tls_context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                                 net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                                 net::ssl::context::no_tlsv1_1,
                             ec);
    if (options.ca_file.empty()) {
      tls_context->set_default_verify_paths(ec);
    } else {
      tls_context->load_verify_file(options.ca_file, ec);
    }
    if (ec) return Status::InvalidArgument("http client: tls ca_file " + options.ca_file + ": " + ec.message());
    if (!options.cert_file.empty()) {
      tls_context->use_certificate_chain_file(options.cert_file, ec);
      if (!ec) tls_context->use_private_key_file(options.key_file, net::ssl::context::pem, ec);
      if (ec) return Status::InvalidArgument("http client: tls client certificate: " + ec.message());
    }
    tls_context->set_verify_mode(options.insecure_skip_verify ? net::ssl::verify_none : net::ssl::verify_peer);
    tls_name = options.server_name.empty() ? host : options.server_name;
    tls_verify = !options.insecure_skip_verify;
    return Status::OK();
  }

  // Runs the io_context until the started operation completes.
  void RunPending() {
    io.restart();
    io.run();
  }

  void Disconnect() {
    beast::error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
    buffer.clear();
    connected = false;
  }

  beast::error_code Connect(Clock::time_point deadline) {
    Disconnect();
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
    if (ec) return ec;
    if (tls_context) tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, *tls_context);
    tcp().expires_at(deadline);
    tcp().async_connect(endpoints, [&ec](beast::error_code result, const tcp::endpoint&) { ec = result; });
    RunPending();
    if (ec) return ec;
    tcp().socket().set_option(tcp::no_delay(true), ec);
    if (tls) {
      if (!SSL_set_tlsext_host_name(tls->native_handle(), tls_name.c_str())) {
        return beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
      }
      if (tls_verify) tls->set_verify_callback(net::ssl::host_name_verification(tls_name));
      tls->async_handshake(net::ssl::stream_base::client, [&ec](beast::error_code result) { ec = result; });
      RunPending();
      if (ec) return ec;
    }
    connected = true;
    return {};
  }

  // One request/response exchange on the current connection. `*stage`
  // names the step that failed; `*nothing_received` is true when the
  // failure came before any byte of the response.
  // With `on_body`, the body goes there in pieces (StreamBody).
  beast::error_code Exchange(bhttp::request<bhttp::string_body>& request, Clock::time_point deadline,
                             Response* response, const char** stage, bool* nothing_received,
                             const BodySink* on_body) {
    if (tls) return ExchangeOn(*tls, request, deadline, response, stage, nothing_received, on_body);
    return ExchangeOn(stream, request, deadline, response, stage, nothing_received, on_body);
  }

  template <class Stream>
  beast::error_code StreamBody(Stream& stream, const BodySink& on_body, Response* response, const char** stage,
                               bool* nothing_received) {
    beast::error_code ec;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(kResponseHeaderLimitBytes);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    const size_t buffered_before = buffer.size();
    beast::get_lowest_layer(stream).expires_after(on_body.piece_timeout);
    bhttp::async_read_header(stream, buffer, parser, [&ec](beast::error_code result, size_t) { ec = result; });
    RunPending();
    if (ec) {
      *nothing_received = buffered_before == 0 && !parser.got_some();
      return ec;
    }
    *nothing_received = false;
    response->status = static_cast<int>(parser.get().result_int());
    response->headers.clear();
    for (const auto& field : parser.get()) {
      response->headers.emplace_back(ToLowerAscii(View(field.name_string())), std::string(View(field.value())));
    }
    response->body.clear();
    std::vector<char> piece(256 * 1024);
    while (!parser.is_done()) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      beast::get_lowest_layer(stream).expires_after(on_body.piece_timeout);
      bhttp::async_read(stream, buffer, parser, [&ec](beast::error_code result, size_t) { ec = result; });
      RunPending();
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) return ec;
      const size_t got = piece.size() - parser.get().body().size;
      if (got == 0) continue;
      *stage = "body";
      on_body.status = on_body.sink(std::string_view(piece.data(), got));
      if (!on_body.status.ok()) return net::error::operation_aborted;
      *stage = "read";
    }
    if (!parser.get().keep_alive()) Disconnect();
    return {};
  }

  template <class Stream>
  beast::error_code ExchangeOn(Stream& stream, bhttp::request<bhttp::string_body>& request,
                               Clock::time_point deadline, Response* response, const char** stage,
                               bool* nothing_received, const BodySink* on_body) {
    beast::error_code ec;
    *nothing_received = true;
    *stage = "write";
    beast::get_lowest_layer(stream).expires_at(deadline);
    bhttp::async_write(stream, request, [&ec](beast::error_code result, size_t) { ec = result; });
    RunPending();
    if (ec) return ec;

    *stage = "read";
    if (on_body != nullptr) return StreamBody(stream, *on_body, response, stage, nothing_received);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kResponseHeaderLimitBytes);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (request.method() == bhttp::verb::head) parser.skip(true);
    const size_t buffered_before = buffer.size();
    beast::get_lowest_layer(stream).expires_at(deadline);
    bhttp::async_read(stream, buffer, parser, [&ec](beast::error_code result, size_t) { ec = result; });
    RunPending();
    if (ec) {
      *nothing_received = buffered_before == 0 && !parser.got_some();
      return ec;
    }
    *nothing_received = false;
    auto& message = parser.get();
    response->status = static_cast<int>(message.result_int());
    response->headers.clear();
    for (const auto& field : message) {
      response->headers.emplace_back(ToLowerAscii(View(field.name_string())),
                                     std::string(View(field.value())));
    }
    response->body = std::move(message.body());
    if (!message.keep_alive()) Disconnect();
    return {};
  }
};

Status Client::Create(const std::string& base_url, const TlsOptions& tls, std::unique_ptr<Client>* out) {
  const std::string lower = ToLowerAscii(base_url.substr(0, 8));
  const bool secure = lower.rfind("https://", 0) == 0;
  if (!secure && lower.rfind("http://", 0) != 0) {
    return Status::InvalidArgument("http client: base URL \"" + base_url + "\" must start with http:// or https://");
  }
  const std::string rest = base_url.substr(secure ? 8 : 7);
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (authority.empty() || authority.find_first_of("@?# ") != std::string::npos ||
      path.find_first_of("?# \r\n") != std::string::npos) {
    return Status::InvalidArgument("http client: invalid base URL \"" + base_url + "\"");
  }
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) {
    authority += secure ? ":443" : ":80";
  }
  HostPort host_port;
  Status status = ParseHostPort(authority, &host_port);
  if (!status.ok() || host_port.host.empty() || host_port.port == 0) {
    return Status::InvalidArgument("http client: invalid host or port in \"" + base_url + "\"");
  }
  auto impl = std::make_unique<Impl>();
  impl->host = host_port.host;
  impl->port = host_port.port;
  impl->base_path = path;
  impl->host_header = FormatHostPort(host_port.host, host_port.port);
  if (secure) {
    Status s = impl->ConfigureTls(tls, host_port.host);
    if (!s.ok()) return s;
  }
  out->reset(new Client(std::move(impl)));
  return Status::OK();
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() { impl_->Disconnect(); }

Status Client::Do(const std::string& method, const std::string& target,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& body, Response* response, std::chrono::milliseconds timeout) {
  return Exchange(method, target, headers, body, nullptr, response, timeout);
}

Status Client::DoStreamed(const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                          const std::function<Status(std::string_view piece)>& on_body, Response* response,
                          std::chrono::milliseconds timeout) {
  const BodySink sink{on_body, timeout, Status::OK()};
  Status s = Exchange(method, target, headers, body, &sink, response, timeout);
  return sink.status.ok() ? s : sink.status;
}

Status Client::Exchange(const std::string& method, const std::string& target,
                        const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                        const BodySink* on_body, Response* response, std::chrono::milliseconds timeout) {
  if (!IsValidHeaderName(method)) {
    return Status::InvalidArgument("http client: invalid method \"" + method + "\"");
  }
  if (target.find_first_of(" \r\n\t") != std::string::npos || target.find('\0') != std::string::npos) {
    return Status::InvalidArgument("http client: invalid target \"" + target + "\"");
  }
  std::string full_target = impl_->base_path;
  if (target.empty() || target.front() != '/') full_target += '/';
  full_target += target;

  bhttp::request<bhttp::string_body> request;
  request.method_string(method);
  request.target(full_target);
  request.version(11);
  request.set(bhttp::field::host, impl_->host_header);
  request.set(bhttp::field::user_agent, "tsvault");
  for (const auto& [name, value] : headers) {
    if (!IsValidHeaderName(name) || !IsValidHeaderValue(value)) {
      return Status::InvalidArgument("http client: invalid header \"" + name + "\"");
    }
    if (beast::iequals(name, "host") || beast::iequals(name, "user-agent")) {
      request.set(name, value);
    } else if (!beast::iequals(name, "content-length") && !beast::iequals(name, "transfer-encoding")) {
      request.insert(name, value);
    }
  }
  request.body() = body;
  request.prepare_payload();

  const Clock::time_point deadline = Clock::now() + timeout;
  const std::string what = "http client: " + method + (impl_->tls_context ? " https://" : " http://") +
                           impl_->host_header + full_target;
  // A reused connection may have been closed by the server while idle; in
  // that case, and only if no response byte arrived, try once more afresh.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = impl_->connected;
    if (!reused) {
      beast::error_code ec = impl_->Connect(deadline);
      if (ec) {
        impl_->Disconnect();
        if (ec == beast::error::timeout) {
          return Status::IOError(what + ": connect timed out after " + std::to_string(timeout.count()) + "ms");
        }
        return Status::IOError(what + ": connect: " + ec.message());
      }
    }
    const char* stage = "";
    bool nothing_received = true;
    beast::error_code ec = impl_->Exchange(request, deadline, response, &stage, &nothing_received, on_body);
    if (!ec) return Status::OK();
    impl_->Disconnect();
    if (ec == beast::error::timeout) {
      return Status::IOError(what + ": timed out after " + std::to_string(timeout.count()) + "ms");
    }
    if (!(reused && nothing_received && IsStaleConnectionError(ec))) {
      return Status::IOError(what + ": " + stage + ": " + ec.message());
    }
  }
  return Status::IOError(what + ": the connection was closed before a response");
}

}  // namespace tsvault::http
