#include "common/time_parse.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <string>

namespace tsvault {

namespace {

bool ParseFloat(std::string_view text, double* out) {
  if (text.empty()) return false;
  std::string copy(text);
  char* end = nullptr;
  *out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

bool ParseDigits(std::string_view text, size_t pos, size_t count, int* out) {
  if (pos + count > text.size()) return false;
  int v = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}


}  // namespace

bool ParseRfc3339(std::string_view text, int64_t* ms) {
  int year, month, day, hour, minute, second;
  if (!ParseDigits(text, 0, 4, &year) || text.size() < 20 || text[4] != '-' ||
      !ParseDigits(text, 5, 2, &month) || text[7] != '-' || !ParseDigits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't') || !ParseDigits(text, 11, 2, &hour) ||
      text[13] != ':' || !ParseDigits(text, 14, 2, &minute) || text[16] != ':' ||
      !ParseDigits(text, 17, 2, &second)) {
    return false;
  }
  size_t pos = 19;
  int64_t fraction_ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    int64_t scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) fraction_ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++digits;
      ++pos;
    }
    if (digits == 0) return false;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    int oh, om;
    if (!ParseDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ParseDigits(text, pos + 4, 2, &om)) {
      return false;
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return false;
  }
  if (pos != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return false;
  }
  // Days from civil (Howard Hinnant's algorithm).
  int y = year - (month <= 2 ? 1 : 0);
  int era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  *ms = seconds * 1000 + fraction_ms;
  return true;
}


Status ParseTimeParam(std::string_view text, int64_t* ms) {
  double seconds;
  if (ParseFloat(text, &seconds)) {
    if (!std::isfinite(seconds) || std::fabs(seconds) > 9.2e15) {
      return Status::InvalidArgument("cannot parse \"" + std::string(text) + "\" to a valid timestamp");
    }
    // Round to milliseconds as Prometheus does (seconds and nanoseconds split).
    double whole = std::floor(seconds);
    *ms = static_cast<int64_t>(whole) * 1000 +
          static_cast<int64_t>(std::llround((seconds - whole) * 1000.0));
    return Status::OK();
  }
  if (ParseRfc3339(text, ms)) return Status::OK();
  return Status::InvalidArgument("cannot parse \"" + std::string(text) + "\" to a valid timestamp");
}

Status ParsePromDuration(std::string_view text, int64_t* ms) {
  static constexpr struct {
    std::string_view unit;
    int64_t ms;
  } kUnits[] = {{"ms", 1}, {"y", 365LL * 86400000}, {"w", 7LL * 86400000}, {"d", 86400000},
                {"h", 3600000}, {"m", 60000}, {"s", 1000}};
  if (text.empty()) return Status::InvalidArgument("empty duration string");
  if (text == "0") {
    *ms = 0;
    return Status::OK();
  }
  int64_t total = 0;
  size_t pos = 0;
  // Units must appear largest first (y w d h m s ms); rank of each kUnits entry.
  static constexpr int kRank[] = {6, 0, 1, 2, 3, 4, 5};
  int previous_rank = -1;
  while (pos < text.size()) {
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return Status::InvalidArgument("not a valid duration string: \"" + std::string(text) + "\"");
    int64_t number = 0;
    auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + pos, number);
    if (ec != std::errc()) return Status::InvalidArgument("duration out of range: \"" + std::string(text) + "\"");
    bool matched = false;
    for (size_t u = 0; u < std::size(kUnits); ++u) {
      if (text.substr(pos, kUnits[u].unit.size()) == kUnits[u].unit &&
          !(kUnits[u].unit == "m" && text.substr(pos, 2) == "ms")) {
        if (kRank[u] <= previous_rank) {
          return Status::InvalidArgument("not a valid duration string: \"" + std::string(text) + "\"");
        }
        previous_rank = kRank[u];
        if (number > INT64_MAX / kUnits[u].ms) {
          return Status::InvalidArgument("duration out of range: \"" + std::string(text) + "\"");
        }
        total += number * kUnits[u].ms;
        pos += kUnits[u].unit.size();
        matched = true;
        break;
      }
    }
    if (!matched) return Status::InvalidArgument("not a valid duration string: \"" + std::string(text) + "\"");
  }
  *ms = total;
  return Status::OK();
}

Status ParseDurationParam(std::string_view text, int64_t* ms) {
  double seconds;
  if (ParseFloat(text, &seconds)) {
    double v = seconds * 1000.0;
    if (!std::isfinite(v) || std::fabs(v) > 9.2e18) {
      return Status::InvalidArgument("cannot parse \"" + std::string(text) + "\" to a valid duration. It overflows int64");
    }
    *ms = static_cast<int64_t>(std::llround(v));
    return Status::OK();
  }
  Status s = ParsePromDuration(text, ms);
  if (!s.ok()) return Status::InvalidArgument("cannot parse \"" + std::string(text) + "\" to a valid duration");
  return Status::OK();
}

std::string FormatRfc3339(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  std::tm utc{};
  if (gmtime_r(&seconds, &utc) == nullptr) return std::to_string(ms) + "ms";
  char buffer[64];
  if (std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) return std::to_string(ms) + "ms";
  return buffer;
}

std::string FormatPromDuration(int64_t milliseconds) {
  uint64_t remaining = milliseconds < 0 ? 0 - static_cast<uint64_t>(milliseconds)
                                        : static_cast<uint64_t>(milliseconds);
  if (remaining == 0) return "0s";
  struct Unit {
    const char* suffix;
    uint64_t ms;
    bool only_if_exact;
  };
  static constexpr Unit kUnits[] = {
      {"y", 365ULL * 24 * 3600 * 1000, true}, {"w", 7ULL * 24 * 3600 * 1000, true},
      {"d", 24ULL * 3600 * 1000, false},      {"h", 3600ULL * 1000, false},
      {"m", 60ULL * 1000, false},             {"s", 1000, false},
      {"ms", 1, false},
  };
  std::string out;
  for (const Unit& unit : kUnits) {
    if (unit.only_if_exact && remaining % unit.ms != 0) continue;
    const uint64_t count = remaining / unit.ms;
    if (count > 0) {
      out += std::to_string(count);
      out += unit.suffix;
      remaining -= count * unit.ms;
    }
  }
  return out;
}

}  // namespace tsvault
