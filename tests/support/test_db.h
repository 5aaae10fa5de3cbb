// Opening a real storage::DB for tests, and writing to a running server.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "http/client.h"
#include "storage/db.h"

namespace tsvault::testing {

// Opens (creating) a DB in `directory` tuned for tests: no fsync and no
// background checkpoints, so a test controls every checkpoint.
Status OpenTestDB(const std::string& directory, std::unique_ptr<storage::DB>* db);

// POSTs `input` to /api/v1/write as Remote Write 1.0; IOError unless the
// answer is 204.
Status PostRemoteWrite(http::Client* client, const storage::WriteInput& input);

}  // namespace tsvault::testing
