// UTC calendar arithmetic without the C library's time zone state.
#pragma once

#include <cstdint>
#include <string>

namespace kc::util {

struct UtcTime {
  int year, month, day, hour, minute, second, millis;
};

UtcTime ToUtc(int64_t unix_millis);
// Days since 1970-01-01 for a proleptic Gregorian date.
int64_t DaysFromCivil(int year, int month, int day);
// "2026-11-25T19:56:56.123Z"
std::string FormatRfc3339Millis(int64_t unix_millis);
// Zero-padded decimal of `width` digits.
std::string Pad(int value, int width);

}  // namespace kc::util
