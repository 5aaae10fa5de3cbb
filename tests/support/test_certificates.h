// Certificates for TLS tests, made with the openssl command line: a CA, a
// server certificate for 127.0.0.1 and localhost, and a client certificate,
// both signed by the CA (EC P-256 keys, valid two days).
#pragma once

#include <string>

#include "common/status.h"

namespace tsvault::testing {

struct TestCertificates {
  std::string ca_cert;  // PEM files in the directory given to Make
  std::string ca_key;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;  // CN=test-client, extendedKeyUsage clientAuth
  std::string client_key;
  // A second CA, trusted by nobody, and a client certificate it signed.
  std::string other_ca_cert;
  std::string other_client_cert;
  std::string other_client_key;
};

// Writes the files into `dir`; Internal with openssl's output on failure.
Status MakeTestCertificates(const std::string& dir, TestCertificates* out);

}  // namespace tsvault::testing
