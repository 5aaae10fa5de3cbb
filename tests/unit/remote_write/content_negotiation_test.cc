// Content-Type / Content-Encoding negotiation, alone and through the receiver
// (where it must be decided before the body is looked at).
#include "remote_write/content_negotiation.h"

#include <gtest/gtest.h>

#include "remote_write/receiver.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

using testing::FakeDB;
using testing::FindResponseHeader;
using testing::MakeRequest;

Protocol ParseOk(std::string_view content_type) {
  Protocol protocol = Protocol::kV2;
  Status status = ParseContentType(content_type, &protocol);
  EXPECT_TRUE(status.ok()) << content_type << ": " << status.ToString();
  return protocol;
}

TEST(ContentTypeTest, Version1Forms) {
  EXPECT_EQ(ParseOk(""), Protocol::kV1);
  EXPECT_EQ(ParseOk("   "), Protocol::kV1);
  EXPECT_EQ(ParseOk("application/x-protobuf"), Protocol::kV1);
  EXPECT_EQ(ParseOk("application/x-protobuf;proto=prometheus.WriteRequest"), Protocol::kV1);
  EXPECT_EQ(ParseOk("Application/X-Protobuf ; proto = prometheus.WriteRequest "), Protocol::kV1);
  EXPECT_EQ(ParseOk("application/x-protobuf; charset=utf-8"), Protocol::kV1);
  EXPECT_EQ(ParseOk("application/x-protobuf;"), Protocol::kV1);
}

TEST(ContentTypeTest, Version2Forms) {
  EXPECT_EQ(ParseOk("application/x-protobuf;proto=io.prometheus.write.v2.Request"), Protocol::kV2);
  EXPECT_EQ(ParseOk("application/x-protobuf; proto=io.prometheus.write.v2.Request"), Protocol::kV2);
  EXPECT_EQ(ParseOk("APPLICATION/x-protobuf;PROTO=\"io.prometheus.write.v2.Request\""), Protocol::kV2);
  EXPECT_EQ(ParseOk("application/x-protobuf;foo=bar;proto=io.prometheus.write.v2.Request"), Protocol::kV2);
  EXPECT_EQ(ParseOk("\tapplication/x-protobuf\t;\tproto=io.prometheus.write.v2.Request\t"), Protocol::kV2);
}

TEST(ContentTypeTest, RejectsOtherMediaTypesAndMessages) {
  for (std::string_view bad : {
           "application/json",
           "text/plain",
           "application/x-protobuf-foo",
           "application/protobuf",
           "application/x-protobuf;proto=io.prometheus.write.v3.Request",
           "application/x-protobuf;proto=prometheus.writerequest",  // message names are case-sensitive
           "application/x-protobuf;proto=",
           "application/x-protobuf;proto",
           "application/x-protobuf;=x",
           "application/x-protobuf;proto=\"unterminated",
           "x-protobuf",
       }) {
    Protocol protocol;
    Status status = ParseContentType(bad, &protocol);
    EXPECT_TRUE(status.IsUnsupported()) << bad << " -> " << status.ToString();
    EXPECT_FALSE(status.message().empty());
  }
}

TEST(ContentEncodingTest, SnappyOrMissing) {
  EXPECT_TRUE(CheckContentEncoding("").ok());
  EXPECT_TRUE(CheckContentEncoding("snappy").ok());
  EXPECT_TRUE(CheckContentEncoding(" SNAPPY ").ok());
  for (std::string_view bad : {"gzip", "zstd", "identity", "snappy, gzip", "snappy-framed", "x"}) {
    Status status = CheckContentEncoding(bad);
    EXPECT_TRUE(status.IsUnsupported()) << bad;
  }
}

class NegotiationReceiverTest : public ::testing::Test {
 protected:
  http::Response Send(http::Request request) {
    http::Response response;
    receiver_.Handle(request, &response);
    return response;
  }
  FakeDB db_;
  Receiver receiver_{&db_, ReceiverOptions{}, nullptr};
};

// Headers are judged before the body: a garbage body with a bad content type
// or encoding must get 415, not 400.
TEST_F(NegotiationReceiverTest, BadContentTypeIs415BeforeDecoding) {
  const std::string garbage = "\xff\xff\xff\xff this is not snappy";
  for (std::string_view bad : {"application/json", "application/x-protobuf;proto=foo.Bar",
                               "text/plain; charset=utf-8"}) {
    http::Response response = Send(MakeRequest(garbage, bad));
    EXPECT_EQ(response.status, 415) << bad;
    EXPECT_NE(response.body.find("Content-Type"), std::string::npos) << response.body;
    // The protocol is unknown, so no 2.0 written headers.
    EXPECT_EQ(FindResponseHeader(response, "X-Prometheus-Remote-Write-Samples-Written"), nullptr);
  }
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(NegotiationReceiverTest, BadEncodingIs415BeforeDecoding) {
  const std::string garbage = "\x01\x02\x03 not snappy";
  http::Response v1 = Send(MakeRequest(garbage, "application/x-protobuf", "gzip"));
  EXPECT_EQ(v1.status, 415);
  EXPECT_NE(v1.body.find("Content-Encoding"), std::string::npos) << v1.body;
  EXPECT_EQ(FindResponseHeader(v1, "X-Prometheus-Remote-Write-Samples-Written"), nullptr);

  http::Response v2 = Send(MakeRequest(garbage, ContentType(Protocol::kV2), "zstd"));
  EXPECT_EQ(v2.status, 415);
  // A 2.0 request always carries the written headers, here all zero.
  ASSERT_NE(FindResponseHeader(v2, "X-Prometheus-Remote-Write-Samples-Written"), nullptr);
  EXPECT_EQ(*FindResponseHeader(v2, "X-Prometheus-Remote-Write-Samples-Written"), "0");
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(NegotiationReceiverTest, MissingHeadersMeanVersion1Snappy) {
  storage::WriteInput input;
  input.series.push_back(testing::MakeSeries({{"__name__", "up"}, {"job", "a"}}, {{1000, 1}}));
  std::string body;
  ASSERT_TRUE(EncodeWriteRequest(input, Protocol::kV1, &body).ok());
  http::Response response = Send(MakeRequest(body, "", ""));
  EXPECT_EQ(response.status, 204) << response.body;
  ASSERT_EQ(db_.series().size(), 1u);
}

TEST_F(NegotiationReceiverTest, UpperCaseHeaderNamesAreFound) {
  storage::WriteInput input;
  input.series.push_back(testing::MakeSeries({{"__name__", "up"}}, {{1000, 1}}));
  std::string body;
  ASSERT_TRUE(EncodeWriteRequest(input, Protocol::kV2, &body).ok());
  http::Request request;
  request.method = "POST";
  request.path = "/api/v1/write";
  request.headers = {{"Content-Type", ContentType(Protocol::kV2)}, {"Content-Encoding", "Snappy"}};
  request.body = body;
  http::Response response = Send(request);
  EXPECT_EQ(response.status, 204) << response.body;
  ASSERT_NE(FindResponseHeader(response, "x-prometheus-remote-write-samples-written"), nullptr);
  EXPECT_EQ(*FindResponseHeader(response, "x-prometheus-remote-write-samples-written"), "1");
}

}  // namespace
}  // namespace tsvault::remote_write
