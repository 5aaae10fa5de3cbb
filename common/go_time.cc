#include "common/go_time.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace tsvault {

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

struct TimeZone::Impl {
  absl::TimeZone zone = absl::UTCTimeZone();
};

TimeZone::TimeZone() : impl_(std::make_unique<Impl>()) {}
TimeZone::~TimeZone() = default;
TimeZone::TimeZone(const TimeZone& other) : impl_(std::make_unique<Impl>(*other.impl_)), utc_(other.utc_) {}
TimeZone& TimeZone::operator=(const TimeZone& other) {
  *impl_ = *other.impl_;
  utc_ = other.utc_;
  return *this;
}

Status TimeZone::Load(std::string_view name, TimeZone* out) {
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

int64_t TimeZone::NextMidnight(int64_t ms) const {
  const absl::TimeZone::CivilInfo info = impl_->zone.At(absl::FromUnixMillis(ms));
  absl::CivilDay day(info.cs);
  int64_t midnight = StartOfDay(impl_->zone, day);
  if (midnight < ms) midnight = StartOfDay(impl_->zone, day + 1);
  return midnight;
}

int64_t TimeZone::AddDays(int64_t midnight, int64_t days) const {
  const absl::CivilDay day(impl_->zone.At(absl::FromUnixMillis(midnight)).cs);
  return StartOfDay(impl_->zone, day + days);
}

TimeZone::Local TimeZone::At(int64_t ms) const {
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

void GoTimeLayout::Format(int64_t ms, const TimeZone& zone, std::string* out) const {
  const TimeZone::Local t = zone.At(ms);
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

namespace {

// Reads 1..max_digits digits (exactly `max_digits` when `fixed`).
bool ReadNumber(std::string_view text, size_t* at, int min_digits, int max_digits, int64_t* out) {
  size_t end = *at;
  while (end < text.size() && end - *at < static_cast<size_t>(max_digits) && DigitAt(text, end)) ++end;
  if (end - *at < static_cast<size_t>(min_digits)) return false;
  int64_t value = 0;
  for (size_t i = *at; i < end; ++i) value = value * 10 + (text[i] - '0');
  *at = end;
  *out = value;
  return true;
}

// Reads one of `names` (case-insensitive, as Go does); its index.
bool ReadName(std::string_view text, size_t* at, const char* const* names, int count, size_t length, int* out) {
  for (int i = 0; i < count; ++i) {
    const std::string_view name = length == 0 ? std::string_view(names[i]) : std::string_view(names[i], length);
    if (text.size() - *at < name.size()) continue;
    bool same = true;
    for (size_t j = 0; j < name.size() && same; ++j) {
      same = std::tolower(static_cast<unsigned char>(text[*at + j])) == std::tolower(static_cast<unsigned char>(name[j]));
    }
    if (same) {
      *at += name.size();
      *out = i;
      return true;
    }
  }
  return false;
}

// Reads a zone offset: "Z" when `z_allowed`, else sign, hours, and minutes
// and seconds as the field wants.
bool ReadOffset(std::string_view text, size_t* at, int field, int* offset_seconds) {
  const bool iso = field == kISO8601TZ || field == kISO8601SecondsTZ || field == kISO8601ShortTZ ||
                   field == kISO8601ColonTZ || field == kISO8601ColonSecondsTZ;
  if (iso && *at < text.size() && text[*at] == 'Z') {
    ++*at;
    *offset_seconds = 0;
    return true;
  }
  if (*at >= text.size() || (text[*at] != '+' && text[*at] != '-')) return false;
  const int sign = text[(*at)++] == '-' ? -1 : 1;
  const bool colon = field == kISO8601ColonTZ || field == kISO8601ColonSecondsTZ || field == kNumColonTZ ||
                     field == kNumColonSecondsTZ;
  const bool seconds = field == kISO8601SecondsTZ || field == kISO8601ColonSecondsTZ || field == kNumSecondsTZ ||
                       field == kNumColonSecondsTZ;
  const bool short_form = field == kISO8601ShortTZ || field == kNumShortTZ;
  int64_t hours = 0, minutes = 0, secs = 0;
  if (!ReadNumber(text, at, 2, 2, &hours)) return false;
  if (!short_form) {
    if (colon && (*at >= text.size() || text[(*at)++] != ':')) return false;
    if (!ReadNumber(text, at, 2, 2, &minutes)) return false;
    if (seconds) {
      if (colon && (*at >= text.size() || text[(*at)++] != ':')) return false;
      if (!ReadNumber(text, at, 2, 2, &secs)) return false;
    }
  }
  if (hours > 24 || minutes > 59 || secs > 59) return false;
  *offset_seconds = sign * static_cast<int>(hours * 3600 + minutes * 60 + secs);
  return true;
}

// Reads '.' or ',' and fraction digits into milliseconds; `digits` 0 reads
// any number of them.
bool ReadFraction(std::string_view text, size_t* at, int digits, bool optional, int* millisecond) {
  if (*at >= text.size() || (text[*at] != '.' && text[*at] != ',')) return optional;
  size_t end = *at + 1;
  while (end < text.size() && DigitAt(text, end)) ++end;
  const size_t count = end - *at - 1;
  if (count == 0 || (digits > 0 && !optional && count != static_cast<size_t>(digits))) return false;
  int value = 0;
  for (size_t i = 0; i < 3; ++i) value = value * 10 + (i < count ? text[*at + 1 + i] - '0' : 0);
  *millisecond = value;
  *at = end;
  return true;
}

}  // namespace

bool GoTimeLayout::ParseTime(std::string_view text, int64_t* ms, std::string* error) const {
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int millisecond = 0, offset = 0;
  int pm = -1;  // -1: no AM/PM; 0 AM; 1 PM
  bool hour12 = false;
  size_t at = 0;
  auto fail = [&](const std::string& what) {
    *error = what + " at character " + std::to_string(at + 1);
    return false;
  };
  for (size_t c = 0; c < chunks_.size(); ++c) {
    const Chunk& chunk = chunks_[c];
    int64_t number = 0;
    int index = 0;
    switch (chunk.field) {
      case kLiteral:
        if (text.substr(at, chunk.text.size()) != chunk.text) return fail("expected \"" + chunk.text + "\"");
        at += chunk.text.size();
        break;
      case kLongYear:
        if (!ReadNumber(text, &at, 4, 4, &year)) return fail("expected a 4-digit year");
        break;
      case kYear:
        if (!ReadNumber(text, &at, 2, 2, &number)) return fail("expected a 2-digit year");
        year = number >= 69 ? 1900 + number : 2000 + number;
        break;
      case kLongMonth:
      case kMonth:
        if (!ReadName(text, &at, kLongMonths, 12, chunk.field == kMonth ? 3 : 0, &index)) return fail("expected a month name");
        month = index + 1;
        break;
      case kNumMonth:
      case kZeroMonth:
        if (!ReadNumber(text, &at, chunk.field == kZeroMonth ? 2 : 1, 2, &month)) return fail("expected a month");
        break;
      case kLongWeekDay:
      case kWeekDay:
        if (!ReadName(text, &at, kLongDays, 7, chunk.field == kWeekDay ? 3 : 0, &index)) return fail("expected a day name");
        break;  // checked by nothing, as in Go
      case kUnderDay:
        if (at < text.size() && text[at] == ' ') ++at;
        [[fallthrough]];
      case kDay:
      case kZeroDay:
        if (!ReadNumber(text, &at, chunk.field == kZeroDay ? 2 : 1, 2, &day)) return fail("expected a day");
        break;
      case kZeroYearDay:
      case kUnderYearDay:
        while (chunk.field == kUnderYearDay && at < text.size() && text[at] == ' ') ++at;
        if (!ReadNumber(text, &at, chunk.field == kZeroYearDay ? 3 : 1, 3, &number)) return fail("expected a day of the year");
        break;  // not used to place the date (Go checks it against month and day)
      case kHour:
        if (!ReadNumber(text, &at, 1, 2, &hour)) return fail("expected an hour");
        break;
      case kHour12:
      case kZeroHour12:
        if (!ReadNumber(text, &at, chunk.field == kZeroHour12 ? 2 : 1, 2, &hour)) return fail("expected an hour");
        hour12 = true;
        break;
      case kMinute:
      case kZeroMinute:
        if (!ReadNumber(text, &at, chunk.field == kZeroMinute ? 2 : 1, 2, &minute)) return fail("expected minutes");
        break;
      case kSecond:
      case kZeroSecond: {
        if (!ReadNumber(text, &at, chunk.field == kZeroSecond ? 2 : 1, 2, &second)) return fail("expected seconds");
        // Go reads a fraction after the seconds even when the layout has none.
        const bool layout_fraction = c + 1 < chunks_.size() && (chunks_[c + 1].field == kFracSecond0 ||
                                                                chunks_[c + 1].field == kFracSecond9);
        if (!layout_fraction && at + 1 < text.size() && text[at] == '.' && DigitAt(text, at + 1)) {
          ReadFraction(text, &at, 0, true, &millisecond);
        }
        break;
      }
      case kPM:
      case kpm:
        if (text.size() - at < 2) return fail("expected AM or PM");
        if ((text[at] == 'A' || text[at] == 'a') && (text[at + 1] == 'M' || text[at + 1] == 'm')) {
          pm = 0;
        } else if ((text[at] == 'P' || text[at] == 'p') && (text[at + 1] == 'M' || text[at + 1] == 'm')) {
          pm = 1;
        } else {
          return fail("expected AM or PM");
        }
        at += 2;
        break;
      case kTZ: {
        // An abbreviation names no offset Go could know for sure: UTC, as
        // Go does for one it does not know locally.
        const size_t start = at;
        while (at < text.size() && text[at] >= 'A' && text[at] <= 'Z') ++at;
        if (at - start < 3) return fail("expected a time zone abbreviation");
        break;
      }
      case kFracSecond0:
      case kFracSecond9:
        if (!ReadFraction(text, &at, chunk.digits, chunk.field == kFracSecond9, &millisecond)) {
          return fail("expected a fraction of " + std::to_string(chunk.digits) + " digits");
        }
        break;
      default:
        if (!ReadOffset(text, &at, chunk.field, &offset)) return fail("expected a zone offset");
        break;
    }
  }
  if (at != text.size()) return fail("extra text");
  if (hour12) {
    if (hour < 1 || hour > 12) return fail("hour out of range");
    if (pm == 1 && hour < 12) hour += 12;
    if (pm == 0 && hour == 12) hour = 0;
  }
  const absl::CivilSecond civil(year, static_cast<int>(month), static_cast<int>(day), static_cast<int>(hour),
                                static_cast<int>(minute), static_cast<int>(second));
  // CivilSecond normalizes (February 30 becomes March 2): out of range is refused.
  if (civil.year() != year || civil.month() != month || civil.day() != day || civil.hour() != hour ||
      civil.minute() != minute || civil.second() != second) {
    *error = "day or time out of range";
    return false;
  }
  *ms = absl::ToUnixMillis(absl::FromCivil(civil, absl::UTCTimeZone())) - int64_t{offset} * 1000 + millisecond;
  return true;
}

void AppendRfc3339InZone(int64_t ms, const TimeZone& zone, bool trim, std::string* out) {
  const TimeZone::Local t = zone.At(ms);
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

}  // namespace tsvault
