#include "http/tls_server_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>

namespace tsvault::http::internal {

namespace ssl = boost::asio::ssl;

namespace {

int ProtocolVersion(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls10: return TLS1_VERSION;
    case TlsVersion::kTls11: return TLS1_1_VERSION;
    case TlsVersion::kTls12: return TLS1_2_VERSION;
    case TlsVersion::kTls13: return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// OpenSSL's reason for the last failure, e.g. "no such file".
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

// Accepts any client certificate (RequestClientCert, RequireAnyClientCert):
// it is asked for, not verified.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

// OpenSSL's names of the suites with the given IANA names, ":"-joined.
Status CipherList(SSL_CTX* context, const std::vector<std::string>& iana_names, std::string* out) {
  SSL* probe = SSL_new(context);
  if (probe == nullptr) return Status::InvalidArgument("tls: " + OpenSslError());
  // Every suite OpenSSL knows, not only the default list.
  SSL_set_cipher_list(probe, "ALL:COMPLEMENTOFALL");
  STACK_OF(SSL_CIPHER)* known = SSL_get_ciphers(probe);
  Status status;
  for (const std::string& name : iana_names) {
    const char* found = nullptr;
    for (int i = 0; known != nullptr && i < sk_SSL_CIPHER_num(known); ++i) {
      const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(known, i);
      const char* standard = SSL_CIPHER_standard_name(cipher);
      if (standard != nullptr && name == standard) found = SSL_CIPHER_get_name(cipher);
    }
    if (found == nullptr) {
      status = Status::InvalidArgument("tls_server_config: cipher_suites: unknown or unsupported suite \"" + name +
                                       "\" (IANA names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
      break;
    }
    if (!out->empty()) out->push_back(':');
    out->append(found);
  }
  SSL_free(probe);
  return status;
}

}  // namespace

Status NewTlsServerContext(const TlsServerOptions& options, std::shared_ptr<ssl::context>* out) {
  if (options.cert_file.empty() || options.key_file.empty()) {
    return Status::InvalidArgument("tls_server_config: cert_file and key_file are both required");
  }
  if (options.min_version > options.max_version) {
    return Status::InvalidArgument("tls_server_config: min_version is above max_version");
  }
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(native, ProtocolVersion(options.min_version));
  SSL_CTX_set_max_proto_version(native, ProtocolVersion(options.max_version));
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(native, options.cert_file.c_str()) != 1) {
    return Status::InvalidArgument("tls_server_config: cannot load cert_file " + options.cert_file + ": " +
                                   OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(native, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::InvalidArgument("tls_server_config: cannot load key_file " + options.key_file +
                                   " as the key of cert_file " + options.cert_file + ": " + OpenSslError());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status::InvalidArgument("tls_server_config: key_file " + options.key_file +
                                   " does not match the certificate of cert_file " + options.cert_file);
  }
  if (!options.cipher_suites.empty()) {
    std::string list;
    Status s = CipherList(native, options.cipher_suites, &list);
    if (!s.ok()) return s;
    if (SSL_CTX_set_cipher_list(native, list.c_str()) != 1) {
      return Status::InvalidArgument("tls_server_config: cipher_suites: " + OpenSslError());
    }
  }
  const bool verifies = options.client_auth == ClientAuth::kVerifyIfGiven ||
                        options.client_auth == ClientAuth::kRequireAndVerify;
  if (verifies && options.client_ca_file.empty()) {
    return Status::InvalidArgument("tls_server_config: client_auth_type " +
                                   std::string(options.client_auth == ClientAuth::kVerifyIfGiven
                                                   ? "VerifyClientCertIfGiven"
                                                   : "RequireAndVerifyClientCert") +
                                   " needs client_ca_file");
  }
  if (!options.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, options.client_ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument("tls_server_config: cannot load client_ca_file " + options.client_ca_file +
                                     ": " + OpenSslError());
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(native, names);
  }
  switch (options.client_auth) {
    case ClientAuth::kNone:
      SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequest:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER, AcceptAnyCertificate);
      break;
    case ClientAuth::kRequireAny:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, AcceptAnyCertificate);
      break;
    case ClientAuth::kVerifyIfGiven:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerify:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  // Sessions resume within this context only (no cross-server tickets).
  static const unsigned char kSessionContext[] = "tsvault";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  *out = std::move(context);
  return Status::OK();
}

}  // namespace tsvault::http::internal

namespace tsvault::http {

Status CheckTlsServerOptions(const TlsServerOptions& options) {
  std::shared_ptr<boost::asio::ssl::context> context;
  return internal::NewTlsServerContext(options, &context);
}

}  // namespace tsvault::http
