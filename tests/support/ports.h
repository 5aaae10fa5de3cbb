// Local-network helpers for integration tests: free ports, URL query
// escaping and waiting for a child's HTTP endpoint to come up.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/client.h"
#include "tests/support/process.h"

namespace tsvault::testing {

// Picks a TCP port on 127.0.0.1 that is free right now (binds port 0, reads
// the port the kernel chose, closes the socket). Another process may take
// it before the caller binds it; callers that start a server should report
// a bind failure clearly.
Status PickFreePort(int* port);

// Percent-encodes `text` for use as one URL query value (RFC 3986
// unreserved characters stay as they are).
std::string QueryEscape(std::string_view text);

// Polls GET `path` on `base_url` ("http://127.0.0.1:PORT") until it answers
// 200, `process` exits, or `timeout` passes. Failures return
// DeadlineExceeded or Internal with the last error and the tail of
// `log_path` (the child's log) in the message. https:// URLs are asked
// with `tls` (null: without verifying the server's certificate).
Status WaitForHttpOk(const std::string& base_url, const std::string& path, Process* process,
                     std::chrono::milliseconds timeout, const std::string& log_path,
                     const http::TlsOptions* tls = nullptr);

}  // namespace tsvault::testing
