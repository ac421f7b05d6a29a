// Sizes, durations and timestamps as the config writes them, and the
// calendar arithmetic shared by the RFC 3339 parser and the config reader,
// which also accepts TOML's native date-time values for `start_at`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "kc/status.h"

namespace kc {

// "5MiB", "5 MiB", "512KB", "1024" → bytes. Binary (KiB, MiB, GiB, TiB) and
// decimal (KB, MB, GB, TB) units and B, matched ignoring case ("mib" = "MiB");
// no unit means bytes. Fractions are accepted when they come to whole bytes
// ("1.5GiB", "0.5KB"; not "1.5"), with at most 6 decimals. Negative numbers,
// other units and trailing text are errors whose message shows an example.
Result<uint64_t> ParseByteSize(std::string_view text);
// "30s", "250ms", "5m", "1h", "1m30s", "1.5s" → milliseconds. Units ms, s, m,
// h in lowercase; components add up. A bare number other than "0" is an error
// (is "30" seconds or milliseconds?) suggesting "30s"; so are negative values
// and anything finer than a millisecond.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
// RFC 3339, e.g. "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123+01:00" → ms
// since the epoch. The offset is required; digits after milliseconds are
// truncated; impossible dates (February 30) and leap seconds are errors.
Result<int64_t> ParseRfc3339(std::string_view text);

}  // namespace kc

namespace kc::config_internal {

struct CivilTime {
  int year = 1970;         // 0..9999, as RFC 3339 allows
  int month = 1;           // 1..12
  int day = 1;             // 1..days in that month
  int hour = 0;            // 0..23
  int minute = 0;          // 0..59
  int second = 0;          // 0..59; leap seconds are rejected
  int millis = 0;          // 0..999
  int offset_minutes = 0;  // local time minus UTC, -1439..1439
};

// Milliseconds since the Unix epoch, or an error naming the field that is out
// of range (e.g. "day 30 does not exist in 2026-02").
Result<int64_t> CivilToUnixMillis(const CivilTime& t);

}  // namespace kc::config_internal
