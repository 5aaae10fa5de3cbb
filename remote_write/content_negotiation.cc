#include "remote_write/content_negotiation.h"

#include <algorithm>
#include <string>

#include "common/ascii.h"

namespace tsvault::remote_write {

namespace {

constexpr std::string_view kProtobufMediaType = "application/x-protobuf";
constexpr std::string_view kV1Message = "prometheus.WriteRequest";
constexpr std::string_view kV2Message = "io.prometheus.write.v2.Request";

bool IsOptionalWhitespace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsOptionalWhitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsOptionalWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

// Printable form of a header value for an error message (bounded, no
// control characters).
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    out.push_back(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f ? c : '?');
  }
  if (text.size() > 200) out.append("...");
  return out;
}

// Removes RFC 9110 quoted-string quoting ("a\"b" -> a"b). Returns false when
// the quotes are unbalanced.
bool Unquote(std::string_view value, std::string* out) {
  out->clear();
  if (value.empty() || value.front() != '"') {
    out->assign(value);
    return true;
  }
  if (value.size() < 2 || value.back() != '"') return false;
  for (size_t i = 1; i + 1 < value.size(); ++i) {
    if (value[i] == '\\') {
      if (i + 2 >= value.size()) return false;  // escape of the closing quote
      ++i;
    }
    out->push_back(value[i]);
  }
  return true;
}

}  // namespace

Status ParseContentType(std::string_view content_type, Protocol* protocol) {
  content_type = Trim(content_type);
  if (content_type.empty()) {
    *protocol = Protocol::kV1;  // unlabelled 1.0 senders, as Prometheus assumes
    return Status::OK();
  }
  const size_t first_semicolon = content_type.find(';');
  const std::string_view media_type = Trim(content_type.substr(0, first_semicolon));
  if (!EqualsIgnoreAsciiCase(media_type, kProtobufMediaType)) {
    return Status::Unsupported("unsupported Content-Type \"" + Printable(content_type) +
                               "\": expected application/x-protobuf");
  }

  std::string_view rest =
      first_semicolon == std::string_view::npos ? std::string_view() : content_type.substr(first_semicolon + 1);
  std::string message;
  bool found_proto = false;
  while (!found_proto && !rest.empty()) {
    // Parameters never contain ';' outside quotes in practice; a quoted value
    // with ';' is handled by scanning for the closing quote.
    size_t end = 0;
    bool in_quotes = false;
    while (end < rest.size() && (in_quotes || rest[end] != ';')) {
      if (rest[end] == '"') in_quotes = !in_quotes;
      if (rest[end] == '\\' && in_quotes) ++end;
      ++end;
    }
    const std::string_view parameter = Trim(rest.substr(0, std::min(end, rest.size())));
    rest = end >= rest.size() ? std::string_view() : rest.substr(end + 1);
    if (parameter.empty()) continue;  // "a;;b" or a trailing ";" is allowed
    const size_t equals = parameter.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return Status::Unsupported("malformed Content-Type parameter \"" + Printable(parameter) +
                                 "\" in \"" + Printable(content_type) + "\"");
    }
    const std::string_view name = Trim(parameter.substr(0, equals));
    if (!EqualsIgnoreAsciiCase(name, "proto")) continue;
    if (!Unquote(Trim(parameter.substr(equals + 1)), &message)) {
      return Status::Unsupported("malformed Content-Type parameter \"" + Printable(parameter) + "\"");
    }
    found_proto = true;
  }

  if (!found_proto || message == kV1Message) {
    *protocol = Protocol::kV1;
    return Status::OK();
  }
  if (message == kV2Message) {
    *protocol = Protocol::kV2;
    return Status::OK();
  }
  return Status::Unsupported("unsupported Content-Type \"" + Printable(content_type) + "\": message proto=" +
                             Printable(message) +
                             " is not accepted; accepted: prometheus.WriteRequest, io.prometheus.write.v2.Request");
}

Status CheckContentEncoding(std::string_view content_encoding) {
  const std::string_view coding = Trim(content_encoding);
  if (coding.empty() || EqualsIgnoreAsciiCase(coding, "snappy")) return Status::OK();
  return Status::Unsupported("unsupported Content-Encoding \"" + Printable(coding) +
                             "\": only snappy is accepted");
}

}  // namespace tsvault::remote_write
