#include "tests/support/test_certificates.h"

#include <cstdlib>
#include <fstream>

#include "tests/support/process.h"

namespace tsvault::testing {

namespace {

Status Run(const std::string& command, const std::string& log) {
  const std::string full = command + " >> " + log + " 2>&1";
  if (std::system(full.c_str()) != 0) {
    return Status::Internal("`" + command + "` failed:\n" + ReadLogTail(log));
  }
  return Status::OK();
}

// A self-signed CA certificate and its key.
Status MakeCa(const std::string& dir, const std::string& name, const std::string& log) {
  return Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=" + name +
                 " -keyout " + dir + "/" + name + ".key -out " + dir + "/" + name + ".pem",
             log);
}

// A leaf certificate `name` signed by CA `ca`, with the extensions in `extensions`.
Status MakeLeaf(const std::string& dir, const std::string& ca, const std::string& name, const std::string& subject,
                const std::string& extensions, const std::string& log) {
  const std::string base = dir + "/" + name;
  std::ofstream(base + ".ext") << extensions << "\n";
  Status s = Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj " + subject + " -keyout " +
                     base + ".key -out " + base + ".csr",
                 log);
  if (!s.ok()) return s;
  return Run("openssl x509 -req -days 2 -in " + base + ".csr -CA " + dir + "/" + ca + ".pem -CAkey " + dir + "/" +
                 ca + ".key -CAcreateserial -out " + base + ".pem -extfile " + base + ".ext",
             log);
}

}  // namespace

Status MakeTestCertificates(const std::string& dir, TestCertificates* out) {
  const std::string log = dir + "/openssl.log";
  Status s = MakeCa(dir, "ca", log);
  if (s.ok()) s = MakeCa(dir, "other-ca", log);
  if (s.ok()) {
    s = MakeLeaf(dir, "ca", "server", "/CN=localhost",
                 "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth", log);
  }
  if (s.ok()) s = MakeLeaf(dir, "ca", "client", "/CN=test-client", "extendedKeyUsage=clientAuth", log);
  if (s.ok()) s = MakeLeaf(dir, "other-ca", "other-client", "/CN=stranger", "extendedKeyUsage=clientAuth", log);
  if (!s.ok()) return s;
  out->ca_cert = dir + "/ca.pem";
  out->ca_key = dir + "/ca.key";
  out->server_cert = dir + "/server.pem";
  out->server_key = dir + "/server.key";
  out->client_cert = dir + "/client.pem";
  out->client_key = dir + "/client.key";
  out->other_ca_cert = dir + "/other-ca.pem";
  out->other_client_cert = dir + "/other-client.pem";
  out->other_client_key = dir + "/other-client.key";
  return Status::OK();
}

}  // namespace tsvault::testing
