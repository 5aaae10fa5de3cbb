// Transport-neutral helpers for http::Request and http::Response: header
// lookup and URL/form decoding. No Boost.Beast here.
#include "http/http.h"

#include <cstddef>

#include "common/ascii.h"

namespace tsvault::http {

namespace {

// Strips spaces and tabs at both ends.
std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Finds the first header called `name` (any case); stores its value in *value.
bool FindHeader(const std::vector<std::pair<std::string, std::string>>& headers,
                std::string_view name, std::string_view* value) {
  for (const auto& [header_name, header_value] : headers) {
    if (EqualsIgnoreAsciiCase(header_name, name)) {
      *value = header_value;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view Request::Header(std::string_view name) const {
  std::string_view value;
  FindHeader(headers, name, &value);
  return value;
}

bool Request::HasHeader(std::string_view name) const {
  std::string_view value;
  return FindHeader(headers, name, &value);
}

void Response::SetHeader(std::string name, std::string value) {
  // Keep the position of the first header of that name; drop any repeats.
  size_t first = headers.size();
  for (size_t i = 0; i < headers.size();) {
    if (!EqualsIgnoreAsciiCase(headers[i].first, name)) {
      ++i;
    } else if (first == headers.size()) {
      first = i++;
    } else {
      headers.erase(headers.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  if (first == headers.size()) {
    headers.emplace_back(std::move(name), std::move(value));
  } else {
    headers[first] = {std::move(name), std::move(value)};
  }
}

std::string_view Response::Header(std::string_view name) const {
  std::string_view value;
  FindHeader(headers, name, &value);
  return value;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int high = HexDigitValue(text[i + 1]);
      const int low = HexDigitValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    // A malformed escape is kept literally rather than rejected.
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseFormEncoded(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2"
    const size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    out.emplace_back(PercentDecode(key, /*plus_is_space=*/true),
                     PercentDecode(value, /*plus_is_space=*/true));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> RequestParams(const Request& request) {
  std::vector<std::pair<std::string, std::string>> params;
  const size_t question = request.target.find('?');
  if (question != std::string::npos) {
    params = ParseFormEncoded(std::string_view(request.target).substr(question + 1));
  }
  if (request.method == "POST") {
    // The media type is the part before any ";charset=..." parameter.
    std::string_view content_type = request.Header("content-type");
    content_type = TrimSpace(content_type.substr(0, content_type.find(';')));
    if (EqualsIgnoreAsciiCase(content_type, "application/x-www-form-urlencoded")) {
      auto form = ParseFormEncoded(request.body);
      params.insert(params.end(), std::make_move_iterator(form.begin()),
                    std::make_move_iterator(form.end()));
    }
  }
  return params;
}

}  // namespace tsvault::http
