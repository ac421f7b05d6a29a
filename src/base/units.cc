// Sizes, durations and timestamps as people write them in a config file.
//
// Decisions, so that every value has exactly one meaning:
// - Sizes: B, KB/MB/GB/TB (powers of 1000) and KiB/MiB/GiB/TiB (powers of
//   1024); units are matched without regard to case because nobody sizes a
//   buffer in bits, so "mb" and "MB" are the same. A bare number is bytes.
//   Fractions ("1.5GiB") are accepted when they come to a whole number of
//   bytes; at most 6 decimals, so the arithmetic stays exact in 64 bits.
// - Durations: ms, s, m, h (lowercase only: "M" would read as months), summed
//   over components ("1m30s"), fractions down to whole milliseconds. A bare
//   number other than "0" is refused: "30" could be seconds or milliseconds.
// - Timestamps: RFC 3339 with a mandatory offset ("Z" or "+01:00"); digits
//   beyond milliseconds are truncated; leap seconds are refused because
//   Kinesis timestamps never carry them.
// Messages describe the problem without repeating the whole input.
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "base/time_format.h"
#include "base/units.h"

namespace kc {
namespace {

using util::Pad;

constexpr std::string_view kSizeExamples = "e.g. \"5MiB\", \"512KB\" or \"1024\" (bytes)";
constexpr std::string_view kDurationExamples =
    "e.g. \"250ms\", \"30s\", \"5m\", \"1h\" or \"1m30s\"";
constexpr std::string_view kTimestampExamples =
    "e.g. \"2026-01-02T03:04:05Z\" or \"2026-01-02T04:04:05.250+01:00\"";

// Keeps the fraction times the largest unit (2^40 bytes) inside 64 bits.
constexpr int kMaxFractionDigits = 6;
// Unit names echoed in messages are cut to this length.
constexpr size_t kMaxEchoedUnit = 16;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
char ToLowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view SkipBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view TrimBlanks(std::string_view s) {
  s = SkipBlanks(s);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

std::string_view TakeLetters(std::string_view* s) {
  size_t n = 0;
  while (n < s->size() && IsAsciiLetter((*s)[n])) ++n;
  std::string_view letters = s->substr(0, n);
  s->remove_prefix(n);
  return letters;
}

std::string Echo(std::string_view unit) {
  if (unit.size() <= kMaxEchoedUnit) return std::string(unit);
  return std::string(unit.substr(0, kMaxEchoedUnit)) + "...";
}

// A non-negative decimal: whole + fraction / 10^fraction_digits.
struct Decimal {
  uint64_t whole = 0;
  uint64_t fraction = 0;
  int fraction_digits = 0;
};

// Reads "123" or "1.25" from the front of `*s`.
// REQUIRES: `*s` starts with a digit.
Result<Decimal> TakeDecimal(std::string_view* s) {
  Decimal d;
  size_t i = 0;
  while (i < s->size() && IsDigit((*s)[i])) {
    uint64_t digit = static_cast<uint64_t>((*s)[i] - '0');
    if (d.whole > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return Fail(ErrorCode::kInvalidArgument, "number is too large");
    }
    d.whole = d.whole * 10 + digit;
    ++i;
  }
  if (i < s->size() && (*s)[i] == '.') {
    ++i;
    if (i == s->size() || !IsDigit((*s)[i])) {
      return Fail(ErrorCode::kInvalidArgument, "a decimal point must be followed by digits");
    }
    while (i < s->size() && IsDigit((*s)[i])) {
      if (d.fraction_digits == kMaxFractionDigits) {
        return Fail(ErrorCode::kInvalidArgument, "at most 6 decimal places are allowed");
      }
      d.fraction = d.fraction * 10 + static_cast<uint64_t>((*s)[i] - '0');
      ++d.fraction_digits;
      ++i;
    }
  }
  s->remove_prefix(i);
  return d;
}

// `d` × `unit`, when that is a whole number that fits below `limit`.
enum class Scaled { kOk, kNotWhole, kTooLarge };
Scaled Scale(const Decimal& d, uint64_t unit, uint64_t limit, uint64_t* out) {
  uint64_t divisor = 1;
  for (int i = 0; i < d.fraction_digits; ++i) divisor *= 10;
  // fraction < 10^6 and unit ≤ 2^40, so the product stays below 2^60.
  uint64_t fraction_scaled = d.fraction * unit;
  if (fraction_scaled % divisor != 0) return Scaled::kNotWhole;
  uint64_t fraction_part = fraction_scaled / divisor;
  if (fraction_part > limit || d.whole > limit / unit) return Scaled::kTooLarge;
  uint64_t whole_part = d.whole * unit;
  if (whole_part > limit - fraction_part) return Scaled::kTooLarge;
  *out = whole_part + fraction_part;
  return Scaled::kOk;
}

struct Unit {
  std::string_view name;  // lowercase
  uint64_t factor;
};

constexpr std::array<Unit, 10> kSizeUnits = {{
    {"", 1},
    {"b", 1},
    {"kb", 1'000},
    {"mb", 1'000'000},
    {"gb", 1'000'000'000},
    {"tb", 1'000'000'000'000},
    {"kib", uint64_t{1} << 10},
    {"mib", uint64_t{1} << 20},
    {"gib", uint64_t{1} << 30},
    {"tib", uint64_t{1} << 40},
}};

constexpr std::array<Unit, 4> kDurationUnits = {{
    {"ms", 1},
    {"s", 1'000},
    {"m", 60'000},
    {"h", 3'600'000},
}};

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  std::string_view rest = TrimBlanks(text);
  if (rest.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a size cannot be empty; write a number and a unit, " + std::string(kSizeExamples));
  }
  if (rest.front() == '-') {
    return Fail(ErrorCode::kInvalidArgument,
                "a size cannot be negative; " + std::string(kSizeExamples));
  }
  if (!IsDigit(rest.front())) {
    return Fail(ErrorCode::kInvalidArgument,
                "a size is a number and a unit, " + std::string(kSizeExamples));
  }
  Result<Decimal> number = TakeDecimal(&rest);
  if (!number) return Fail(number.error());
  rest = SkipBlanks(rest);
  std::string_view unit = TakeLetters(&rest);
  if (!rest.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a size is a number and a unit, " + std::string(kSizeExamples));
  }
  const std::string lower = LowerAscii(unit);
  for (const Unit& u : kSizeUnits) {
    if (u.name != lower) continue;
    uint64_t bytes = 0;
    switch (Scale(*number, u.factor, std::numeric_limits<uint64_t>::max(), &bytes)) {
      case Scaled::kOk:
        return bytes;
      case Scaled::kNotWhole:
        return Fail(ErrorCode::kInvalidArgument, "a size must come to a whole number of bytes");
      case Scaled::kTooLarge:
        return Fail(ErrorCode::kInvalidArgument, "size is too large");
    }
  }
  return Fail(ErrorCode::kInvalidArgument,
              "unknown size unit '" + Echo(unit) +
                  "'; use B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of "
                  "1024), " +
                  std::string(kSizeExamples));
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::string_view rest = TrimBlanks(text);
  if (rest.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a duration cannot be empty; write a number and a "
                "unit, " +
                    std::string(kDurationExamples));
  }
  if (rest.front() == '-') {
    return Fail(ErrorCode::kInvalidArgument,
                "a duration cannot be negative; " + std::string(kDurationExamples));
  }
  // Zero needs no unit: it means the same in all of them.
  if (rest == "0") return std::chrono::milliseconds(0);

  constexpr uint64_t kLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t total = 0;
  bool first = true;
  while (!rest.empty()) {
    if (!IsDigit(rest.front())) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a duration is numbers with units, " + std::string(kDurationExamples));
    }
    const std::string_view number_start = rest;
    Result<Decimal> number = TakeDecimal(&rest);
    if (!number) return Fail(number.error());
    const std::string_view number_text = number_start.substr(0, number_start.size() - rest.size());
    rest = SkipBlanks(rest);
    const std::string_view unit = TakeLetters(&rest);
    if (unit.empty()) {
      if (first && rest.empty()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "a duration needs a unit (ms, s, m or h); for seconds write \"" +
                        std::string(number_text) + "s\"");
      }
      return Fail(ErrorCode::kInvalidArgument,
                  "every number in a duration needs a unit (ms, s, m or h), " +
                      std::string(kDurationExamples));
    }
    const Unit* found = nullptr;
    for (const Unit& u : kDurationUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) {
      return Fail(ErrorCode::kInvalidArgument, "unknown duration unit '" + Echo(unit) +
                                                   "'; use ms, s, m or h, " +
                                                   std::string(kDurationExamples));
    }
    uint64_t part = 0;
    switch (Scale(*number, found->factor, kLimit - total, &part)) {
      case Scaled::kOk:
        break;
      case Scaled::kNotWhole:
        return Fail(ErrorCode::kInvalidArgument,
                    "a duration must come to a whole number of milliseconds");
      case Scaled::kTooLarge:
        return Fail(ErrorCode::kInvalidArgument, "duration is too long");
    }
    total += part;
    first = false;
    rest = SkipBlanks(rest);
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

Result<int64_t> ParseRfc3339(std::string_view text) {
  const std::string_view s = TrimBlanks(text);
  size_t pos = 0;
  auto digits = [&](int count, int* out) {
    int value = 0;
    for (int i = 0; i < count; ++i, ++pos) {
      if (pos >= s.size() || !IsDigit(s[pos])) return false;
      value = value * 10 + (s[pos] - '0');
    }
    *out = value;
    return true;
  };
  auto literal = [&](char c) {
    if (pos >= s.size() || s[pos] != c) return false;
    ++pos;
    return true;
  };
  auto malformed = [] {
    return Fail(ErrorCode::kInvalidArgument,
                "expected an RFC 3339 timestamp, " + std::string(kTimestampExamples));
  };

  config_internal::CivilTime t;
  if (!(digits(4, &t.year) && literal('-') && digits(2, &t.month) && literal('-') &&
        digits(2, &t.day))) {
    return malformed();
  }
  if (pos == s.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a timestamp needs a time and a time zone, " + std::string(kTimestampExamples));
  }
  // RFC 3339 allows a lowercase "t" and, by agreement, a space.
  if (!(literal('T') || literal('t') || literal(' '))) return malformed();
  if (!(digits(2, &t.hour) && literal(':') && digits(2, &t.minute) && literal(':') &&
        digits(2, &t.second))) {
    return malformed();
  }
  if (literal('.')) {
    int count = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (count < 3) t.millis = t.millis * 10 + (s[pos] - '0');
      ++count;
      ++pos;
    }
    if (count == 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a decimal point in the seconds must be followed by digits");
    }
    for (; count < 3; ++count) t.millis *= 10;
  }
  if (pos == s.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a timestamp needs a time zone: add \"Z\" for UTC or an offset such as "
                "\"+01:00\"");
  }
  if (literal('Z') || literal('z')) {
    t.offset_minutes = 0;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int hours = 0;
    int minutes = 0;
    if (!(digits(2, &hours) && literal(':') && digits(2, &minutes))) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a time zone offset is written \"+HH:MM\" or \"-HH:MM\", e.g. \"+01:00\"");
    }
    if (hours > 23 || minutes > 59) {
      return Fail(ErrorCode::kInvalidArgument,
                  "time zone offset " + std::string(1, sign < 0 ? '-' : '+') + Pad(hours, 2) + ":" +
                      Pad(minutes, 2) + " is out of range");
    }
    t.offset_minutes = sign * (hours * 60 + minutes);
  } else {
    return malformed();
  }
  if (pos != s.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "unexpected text after the time zone; " + std::string(kTimestampExamples));
  }
  return config_internal::CivilToUnixMillis(t);
}

namespace config_internal {

Result<int64_t> CivilToUnixMillis(const CivilTime& t) {
  if (t.year < 0 || t.year > 9999) {
    return Fail(ErrorCode::kInvalidArgument, "year must be between 0000 and 9999");
  }
  if (t.month < 1 || t.month > 12) {
    return Fail(ErrorCode::kInvalidArgument,
                "month " + Pad(t.month, 2) + " does not exist; months are 01 to 12");
  }
  const std::chrono::year_month_day date{std::chrono::year(t.year),
                                         std::chrono::month(static_cast<unsigned>(t.month)),
                                         std::chrono::day(static_cast<unsigned>(t.day))};
  if (t.day < 1 || !date.ok()) {
    return Fail(ErrorCode::kInvalidArgument, "day " + Pad(t.day, 2) + " does not exist in " +
                                                 Pad(t.year, 4) + "-" + Pad(t.month, 2));
  }
  if (t.hour < 0 || t.hour > 23) {
    return Fail(ErrorCode::kInvalidArgument, "hour must be between 00 and 23");
  }
  if (t.minute < 0 || t.minute > 59) {
    return Fail(ErrorCode::kInvalidArgument, "minute must be between 00 and 59");
  }
  if (t.second == 60) {
    return Fail(ErrorCode::kInvalidArgument, "leap seconds (second 60) are not supported");
  }
  if (t.second < 0 || t.second > 59) {
    return Fail(ErrorCode::kInvalidArgument, "second must be between 00 and 59");
  }
  if (t.millis < 0 || t.millis > 999) {
    return Fail(ErrorCode::kInvalidArgument, "milliseconds must be between 0 and 999");
  }
  if (t.offset_minutes <= -24 * 60 || t.offset_minutes >= 24 * 60) {
    return Fail(ErrorCode::kInvalidArgument, "time zone offset must be less than 24 hours");
  }
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t local_ms = days * 86'400'000 + int64_t{t.hour} * 3'600'000 +
                           int64_t{t.minute} * 60'000 + int64_t{t.second} * 1'000 + t.millis;
  // Local time = UTC + offset, so UTC = local - offset.
  return local_ms - int64_t{t.offset_minutes} * 60'000;
}

}  // namespace config_internal
}  // namespace kc
