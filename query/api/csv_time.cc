#include "query/api/csv_time.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <cstdio>
#include <cstdlib>

namespace tsvault::query {

namespace {

// Go's layout parts (time/format.go's std* constants), as we number them.
enum Field {
  kLiteral = 0,
  kLongMonth, kMonth, kNumMonth, kZeroMonth,
  kLongWeekDay, kWeekDay,
  kDay, kUnderDay, kZeroDay, kZeroYearDay, kUnderYearDay,
  kHour, kHour12, kZeroHour12, kMinute, kZeroMinute, kSecond, kZeroSecond,
  kLongYear, kYear, kPM, kpm,
  kTZ, kISO8601TZ, kISO8601SecondsTZ, kISO8601ShortTZ, kISO8601ColonTZ, kISO8601ColonSecondsTZ,
  kNumTZ, kNumSecondsTZ, kNumShortTZ, kNumColonTZ, kNumColonSecondsTZ,
  kFracSecond0, kFracSecond9,
};

constexpr const char* kLongMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                       "July",    "August",   "September", "October", "November", "December"};
constexpr const char* kLongDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

bool StartsWith(std::string_view text, size_t at, std::string_view prefix) {
  return text.substr(at, prefix.size()) == prefix;
}

bool LowerAt(std::string_view text, size_t at) { return at < text.size() && text[at] >= 'a' && text[at] <= 'z'; }
bool DigitAt(std::string_view text, size_t at) { return at < text.size() && text[at] >= '0' && text[at] <= '9'; }

// The layout part starting at `i`, as Go's nextStdChunk finds it: its field
// and length, or kLiteral. `digits` gets a fraction's digit count.
Field FieldAt(std::string_view layout, size_t i, size_t* length, int* digits) {
  auto is = [&](std::string_view text, Field field) {
    if (!StartsWith(layout, i, text)) return false;
    *length = text.size();
    return field != kLiteral;
  };
  switch (layout[i]) {
    case 'J':
      if (is("January", kLongMonth)) return kLongMonth;
      if (StartsWith(layout, i, "Jan") && !LowerAt(layout, i + 3) && is("Jan", kMonth)) return kMonth;
      break;
    case 'M':
      if (is("Monday", kLongWeekDay)) return kLongWeekDay;
      if (StartsWith(layout, i, "Mon") && !LowerAt(layout, i + 3) && is("Mon", kWeekDay)) return kWeekDay;
      if (is("MST", kTZ)) return kTZ;
      break;
    case '0':
      if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
        static constexpr Field kZero[] = {kZeroMonth, kZeroDay, kZeroHour12, kZeroMinute, kZeroSecond, kYear};
        *length = 2;
        return kZero[layout[i + 1] - '1'];
      }
      if (is("002", kZeroYearDay)) return kZeroYearDay;
      break;
    case '1':
      if (is("15", kHour)) return kHour;
      *length = 1;
      return kNumMonth;
    case '2':
      if (is("2006", kLongYear)) return kLongYear;
      *length = 1;
      return kDay;
    case '_':
      if (StartsWith(layout, i, "_2") && !StartsWith(layout, i + 1, "2006") && is("_2", kUnderDay)) return kUnderDay;
      if (is("__2", kUnderYearDay)) return kUnderYearDay;
      break;
    case '3': *length = 1; return kHour12;
    case '4': *length = 1; return kMinute;
    case '5': *length = 1; return kSecond;
    case 'P':
      if (is("PM", kPM)) return kPM;
      break;
    case 'p':
      if (is("pm", kpm)) return kpm;
      break;
    case '-':
      if (is("-070000", kNumSecondsTZ)) return kNumSecondsTZ;
      if (is("-07:00:00", kNumColonSecondsTZ)) return kNumColonSecondsTZ;
      if (is("-0700", kNumTZ)) return kNumTZ;
      if (is("-07:00", kNumColonTZ)) return kNumColonTZ;
      if (is("-07", kNumShortTZ)) return kNumShortTZ;
      break;
    case 'Z':
      if (is("Z070000", kISO8601SecondsTZ)) return kISO8601SecondsTZ;
      if (is("Z07:00:00", kISO8601ColonSecondsTZ)) return kISO8601ColonSecondsTZ;
      if (is("Z0700", kISO8601TZ)) return kISO8601TZ;
      if (is("Z07:00", kISO8601ColonTZ)) return kISO8601ColonTZ;
      if (is("Z07", kISO8601ShortTZ)) return kISO8601ShortTZ;
      break;
    case '.':
    case ',':
      if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
        const char digit = layout[i + 1];
        size_t j = i + 1;
        while (j < layout.size() && layout[j] == digit) ++j;
        if (!DigitAt(layout, j)) {  // a fraction only if the run of digits ends here
          *length = j - i;
          *digits = static_cast<int>(j - i - 1);
          return digit == '0' ? kFracSecond0 : kFracSecond9;
        }
      }
      break;
  }
  return kLiteral;
}

void AppendPadded(int64_t value, int width, std::string* out) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%0*lld", width, static_cast<long long>(value));
  out->append(buffer);
}

// "+03:00", "-0700", "+03", with `colon` and `seconds` as the layout wants.
void AppendOffset(int offset_seconds, bool colon, bool seconds, bool short_form, std::string* out) {
  out->push_back(offset_seconds < 0 ? '-' : '+');
  const int magnitude = std::abs(offset_seconds);
  AppendPadded(magnitude / 3600, 2, out);
  if (short_form) return;
  if (colon) out->push_back(':');
  AppendPadded(magnitude / 60 % 60, 2, out);
  if (!seconds) return;
  if (colon) out->push_back(':');
  AppendPadded(magnitude % 60, 2, out);
}

}  // namespace

struct CsvTimeZone::Impl {
  absl::TimeZone zone = absl::UTCTimeZone();
};

CsvTimeZone::CsvTimeZone() : impl_(std::make_unique<Impl>()) {}
CsvTimeZone::~CsvTimeZone() = default;
CsvTimeZone::CsvTimeZone(const CsvTimeZone& other) : impl_(std::make_unique<Impl>(*other.impl_)), utc_(other.utc_) {}
CsvTimeZone& CsvTimeZone::operator=(const CsvTimeZone& other) {
  *impl_ = *other.impl_;
  utc_ = other.utc_;
  return *this;
}

Status CsvTimeZone::Load(std::string_view name, CsvTimeZone* out) {
  absl::TimeZone zone;
  if (name.empty() || !absl::LoadTimeZone(std::string(name), &zone)) {
    return Status::InvalidArgument("unknown time zone \"" + std::string(name) +
                                   "\" (use an IANA name such as Europe/Moscow or UTC)");
  }
  out->impl_->zone = zone;
  out->utc_ = name == "UTC" || name == "Etc/UTC";
  return Status::OK();
}

namespace {
int64_t StartOfDay(const absl::TimeZone& zone, absl::CivilDay day) {
  const absl::TimeZone::TimeInfo info = zone.At(absl::CivilSecond(day));
  // A midnight that a DST change skips: the day starts at the transition.
  return absl::ToUnixMillis(info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre);
}
}  // namespace

int64_t CsvTimeZone::NextMidnight(int64_t ms) const {
  const absl::TimeZone::CivilInfo info = impl_->zone.At(absl::FromUnixMillis(ms));
  absl::CivilDay day(info.cs);
  int64_t midnight = StartOfDay(impl_->zone, day);
  if (midnight < ms) midnight = StartOfDay(impl_->zone, day + 1);
  return midnight;
}

int64_t CsvTimeZone::AddDays(int64_t midnight, int64_t days) const {
  const absl::CivilDay day(impl_->zone.At(absl::FromUnixMillis(midnight)).cs);
  return StartOfDay(impl_->zone, day + days);
}

CsvTimeZone::Local CsvTimeZone::At(int64_t ms) const {
  const absl::TimeZone::CivilInfo info = impl_->zone.At(absl::FromUnixMillis(ms));
  Local local;
  local.year = info.cs.year();
  local.month = info.cs.month();
  local.day = info.cs.day();
  local.hour = info.cs.hour();
  local.minute = info.cs.minute();
  local.second = info.cs.second();
  local.millisecond = static_cast<int>(absl::ToInt64Milliseconds(info.subsecond));
  local.weekday = static_cast<int>(absl::GetWeekday(info.cs));  // absl: monday = 0
  local.year_day = absl::GetYearDay(absl::CivilDay(info.cs));
  local.offset_seconds = info.offset;
  local.abbreviation = info.zone_abbr;
  return local;
}

GoTimeLayout GoTimeLayout::Parse(std::string_view layout) {
  GoTimeLayout out;
  size_t i = 0;
  while (i < layout.size()) {
    size_t length = 1;
    int digits = 0;
    const Field field = FieldAt(layout, i, &length, &digits);
    if (field == kLiteral) {
      if (out.chunks_.empty() || out.chunks_.back().field != kLiteral) out.chunks_.push_back({kLiteral, "", 0});
      out.chunks_.back().text.push_back(layout[i]);
      i += 1;
      continue;
    }
    // A fraction keeps its separator ('.' or ',').
    out.chunks_.push_back({field, field == kFracSecond0 || field == kFracSecond9 ? std::string(1, layout[i]) : "", digits});
    i += length;
  }
  return out;
}

void GoTimeLayout::Format(int64_t ms, const CsvTimeZone& zone, std::string* out) const {
  const CsvTimeZone::Local t = zone.At(ms);
  const int hour12 = t.hour % 12 == 0 ? 12 : t.hour % 12;
  for (const Chunk& chunk : chunks_) {
    switch (chunk.field) {
      case kLiteral: out->append(chunk.text); break;
      case kLongMonth: out->append(kLongMonths[t.month - 1]); break;
      case kMonth: out->append(std::string(kLongMonths[t.month - 1], 3)); break;
      case kNumMonth: out->append(std::to_string(t.month)); break;
      case kZeroMonth: AppendPadded(t.month, 2, out); break;
      case kLongWeekDay: out->append(kLongDays[t.weekday]); break;
      case kWeekDay: out->append(std::string(kLongDays[t.weekday], 3)); break;
      case kDay: out->append(std::to_string(t.day)); break;
      case kUnderDay: out->append(t.day < 10 ? " " + std::to_string(t.day) : std::to_string(t.day)); break;
      case kZeroDay: AppendPadded(t.day, 2, out); break;
      case kZeroYearDay: AppendPadded(t.year_day, 3, out); break;
      case kUnderYearDay: {
        std::string text = std::to_string(t.year_day);
        out->append(std::string(3 - text.size(), ' ') + text);
        break;
      }
      case kHour: AppendPadded(t.hour, 2, out); break;
      case kHour12: out->append(std::to_string(hour12)); break;
      case kZeroHour12: AppendPadded(hour12, 2, out); break;
      case kMinute: out->append(std::to_string(t.minute)); break;
      case kZeroMinute: AppendPadded(t.minute, 2, out); break;
      case kSecond: out->append(std::to_string(t.second)); break;
      case kZeroSecond: AppendPadded(t.second, 2, out); break;
      case kLongYear: AppendPadded(t.year, 4, out); break;
      case kYear: AppendPadded(((t.year % 100) + 100) % 100, 2, out); break;
      case kPM: out->append(t.hour >= 12 ? "PM" : "AM"); break;
      case kpm: out->append(t.hour >= 12 ? "pm" : "am"); break;
      case kTZ: out->append(t.abbreviation); break;
      case kISO8601TZ:
      case kISO8601SecondsTZ:
      case kISO8601ShortTZ:
      case kISO8601ColonTZ:
      case kISO8601ColonSecondsTZ:
        if (t.offset_seconds == 0) {
          out->push_back('Z');
          break;
        }
        [[fallthrough]];
      case kNumTZ:
      case kNumSecondsTZ:
      case kNumShortTZ:
      case kNumColonTZ:
      case kNumColonSecondsTZ: {
        const int f = chunk.field;
        const bool colon = f == kISO8601ColonTZ || f == kISO8601ColonSecondsTZ || f == kNumColonTZ ||
                           f == kNumColonSecondsTZ;
        const bool seconds = f == kISO8601SecondsTZ || f == kISO8601ColonSecondsTZ || f == kNumSecondsTZ ||
                             f == kNumColonSecondsTZ;
        const bool short_form = f == kISO8601ShortTZ || f == kNumShortTZ;
        AppendOffset(t.offset_seconds, colon, seconds, short_form, out);
        break;
      }
      case kFracSecond0:
      case kFracSecond9: {
        std::string digits;
        AppendPadded(t.millisecond, 3, &digits);
        digits.resize(static_cast<size_t>(chunk.digits), '0');  // ms precision: further digits are 0
        if (chunk.field == kFracSecond9) {
          while (!digits.empty() && digits.back() == '0') digits.pop_back();
          if (digits.empty()) break;
        }
        out->append(chunk.text + digits);
        break;
      }
      default: break;
    }
  }
}

void AppendRfc3339InZone(int64_t ms, const CsvTimeZone& zone, bool trim, std::string* out) {
  const CsvTimeZone::Local t = zone.At(ms);
  AppendPadded(t.year, 4, out);
  out->push_back('-');
  AppendPadded(t.month, 2, out);
  out->push_back('-');
  AppendPadded(t.day, 2, out);
  out->push_back('T');
  AppendPadded(t.hour, 2, out);
  out->push_back(':');
  AppendPadded(t.minute, 2, out);
  out->push_back(':');
  AppendPadded(t.second, 2, out);
  std::string fraction = ".";
  AppendPadded(t.millisecond, 3, &fraction);
  if (trim) {
    while (fraction.back() == '0') fraction.pop_back();
    if (fraction == ".") fraction.clear();
  }
  out->append(fraction);
  if (t.offset_seconds == 0) {
    out->push_back('Z');
  } else {
    AppendOffset(t.offset_seconds, /*colon=*/true, /*seconds=*/false, /*short_form=*/false, out);
  }
}

}  // namespace tsvault::query
