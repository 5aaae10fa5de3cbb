// Turning an HttpClientConfig (config.h) into what http::Client sends: the
// Authorization header and the TLS settings.
#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include "remote_write/forward/config.h"

namespace tsvault::forward {

namespace {

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

Status ReadSecret(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  // Trailing newlines are not part of a secret (Prometheus trims them too).
  while (!out->empty() && (out->back() == '\n' || out->back() == '\r')) out->pop_back();
  return Status::OK();
}

}  // namespace

Status AuthorizationHeader(const HttpClientConfig& config, std::string* value) {
  value->clear();
  if (config.basic_auth) {
    std::string password = config.basic_auth->password;
    if (!config.basic_auth->password_file.empty()) {
      Status s = ReadSecret(config.basic_auth->password_file, &password);
      if (!s.ok()) return Status::IOError("basic_auth password_file: " + s.message());
    }
    *value = "Basic " + Base64(config.basic_auth->username + ":" + password);
  } else if (config.authorization) {
    std::string credentials = config.authorization->credentials;
    if (!config.authorization->credentials_file.empty()) {
      Status s = ReadSecret(config.authorization->credentials_file, &credentials);
      if (!s.ok()) return Status::IOError("authorization credentials_file: " + s.message());
    }
    *value = config.authorization->type + " " + credentials;
  }
  return Status::OK();
}

http::TlsOptions ClientTlsOptions(const TlsConfig& config) {
  http::TlsOptions tls;
  tls.ca_file = config.ca_file;
  tls.cert_file = config.cert_file;
  tls.key_file = config.key_file;
  tls.server_name = config.server_name;
  tls.insecure_skip_verify = config.insecure_skip_verify;
  return tls;
}

}  // namespace tsvault::forward
