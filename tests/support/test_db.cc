#include "tests/support/test_db.h"

#include "remote_write/encoder.h"

namespace tsvault::testing {

Status OpenTestDB(const std::string& directory, std::unique_ptr<storage::DB>* db) {
  storage::Options options;
  options.data_dir = directory;
  options.wal_sync = storage::WalSyncMode::kNone;
  options.background_checkpoints = false;
  return storage::DB::Open(options, db);
}

Status PostRemoteWrite(http::Client* client, const storage::WriteInput& input) {
  std::string body;
  Status s = remote_write::EncodeWriteRequest(input, remote_write::Protocol::kV1, &body);
  if (!s.ok()) return s;
  http::Response response;
  s = client->Do("POST", "/api/v1/write", remote_write::WriteRequestHeaders(remote_write::Protocol::kV1), body,
                 &response);
  if (!s.ok()) return s;
  if (response.status != 204) {
    return Status::IOError("write answered " + std::to_string(response.status) + ": " + response.body);
  }
  return Status::OK();
}

}  // namespace tsvault::testing
