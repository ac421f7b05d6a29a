// Calendar arithmetic shared by the RFC 3339 parser and the config reader,
// which also accepts TOML's native date-time values for `start_at`.
#pragma once

#include <cstdint>

#include "kc/status.h"

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
