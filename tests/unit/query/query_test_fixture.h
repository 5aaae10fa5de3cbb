// Fixtures shared by the query unit tests: a real storage engine in a
// temporary directory holding a test's data, and the read API served over
// real HTTP on top of it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "http/client.h"
#include "http/server.h"
#include "query/api/api.h"
#include "storage/db.h"
#include "tests/support/temp_dir.h"

namespace tsvault::query {

// A test with db_, a storage engine in its own temporary directory.
class QueryDBTest : public ::testing::Test {
 protected:
  // Opens db_ (no background checkpoints) and appends `input` to it. A
  // failure is fatal to the test; call it last in SetUp or wrap it in
  // ASSERT_NO_FATAL_FAILURE.
  void OpenDBWith(const storage::WriteInput& input) {
    storage::Options options;
    options.data_dir = dir_.path();
    options.background_checkpoints = false;
    ASSERT_TRUE(storage::DB::Open(options, &db_).ok());
    storage::WriteResult result;
    ASSERT_TRUE(db_->Append(input, &result).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::DB> db_;
};

// A test with the read API (query::Api over db_) served by a real HTTP
// server on a free local port, and client_ connected to it.
class QueryApiTest : public QueryDBTest {
 protected:
  // Opens db_ holding `input` (see OpenDBWith), then registers an Api with
  // `options` on a new server, starts it and connects client_. A failure is
  // fatal to the test.
  void StartApiWith(const storage::WriteInput& input, ApiOptions options) {
    ASSERT_NO_FATAL_FAILURE(OpenDBWith(input));
    api_ = std::make_unique<Api>(db_.get(), std::move(options));
    http::ServerOptions server_options;
    server_options.listen_address = "127.0.0.1:0";
    server_ = std::make_unique<http::Server>(server_options);
    api_->Register(server_.get());
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_TRUE(http::Client::Create("http://127.0.0.1:" + std::to_string(server_->port()), &client_).ok());
  }
  // Stops the server, then closes the Api and the DB, in that order.
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    api_.reset();
    db_.reset();
  }
  // The raw body of a GET of `target`, checking the status code and the
  // JSON content type.
  std::string GetBody(const std::string& target, int expected_status = 200) {
    http::Response response;
    EXPECT_TRUE(client_->Get(target, &response).ok());
    EXPECT_EQ(response.status, expected_status) << target << ": " << response.body;
    EXPECT_EQ(response.Header("Content-Type"), "application/json");
    return response.body;
  }
  // GetBody, parsed as JSON.
  nlohmann::json Get(const std::string& target, int expected_status = 200) {
    return nlohmann::json::parse(GetBody(target, expected_status));
  }

  std::unique_ptr<Api> api_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
};

}  // namespace tsvault::query
