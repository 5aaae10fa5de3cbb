// Where an import's batches go (ImportSink implementations).
#pragma once

#include <memory>
#include <utility>
#include <vector>
#include <string>

#include "import/importer.h"

namespace tsvault::http {
class Client;
}
namespace tsvault::remote_write {
class Ingester;
}

namespace tsvault::import {

// Stores through `ingester`, the one ingest path: label validation, the
// in-flight byte budget (waits up to a few seconds for room), the append
// and the ingestion metrics. For the server's import endpoints and for
// imports into a stopped data directory. `ingester` must outlive the sink.
std::unique_ptr<ImportSink> NewIngesterSink(remote_write::Ingester* ingester);

// Sends each batch as one Remote Write 2.0 request to `path` on `client`'s
// server (a running tsvault: `/api/v1/write`), which takes it through its
// ingest path; retries 429 and 5xx answers for up to a minute.
// `headers` go with every request (e.g. Authorization). `client` must
// outlive the sink.
std::unique_ptr<ImportSink> NewRemoteWriteSink(http::Client* client, std::string path,
                                               std::vector<std::pair<std::string, std::string>> headers = {});

}  // namespace tsvault::import
