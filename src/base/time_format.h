// UTC calendar arithmetic without the C library's time zone state.
#pragma once

#include <cstdint>
#include <string>

namespace kc::util {

struct UtcTime {
  int year, month, day, hour, minute, second, millis;
};

UtcTime ToUtc(int64_t unix_millis);
// "2026-11-25T19:56:56.123Z"
std::string FormatRfc3339Millis(int64_t unix_millis);
// "20261125T195656Z", the form SigV4 signs.
std::string FormatAmzDate(int64_t unix_millis);
// Zero-padded decimal of at least `width` digits; a minus sign goes before the zeros.
std::string Pad(int value, int width);

}  // namespace kc::util
