// Internal to the http module: builds the OpenSSL server context of an HTTPS
// server from TlsServerOptions (server.h).
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "common/status.h"
#include "http/server.h"

namespace tsvault::http::internal {

// Loads the certificate, key and client CAs of `options` into a new TLS
// server context with its protocol range, suites and client-certificate
// policy. InvalidArgument naming the file or setting that failed.
Status NewTlsServerContext(const TlsServerOptions& options, std::shared_ptr<boost::asio::ssl::context>* out);

}  // namespace tsvault::http::internal
