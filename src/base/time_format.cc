#include "base/time_format.h"

#include <chrono>

namespace kc::util {

UtcTime ToUtc(int64_t unix_millis) {
  using std::chrono::floor;
  std::chrono::sys_time<std::chrono::milliseconds> t{std::chrono::milliseconds(unix_millis)};
  auto day = floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{t - day};
  return UtcTime{static_cast<int>(ymd.year()),
                 static_cast<int>(static_cast<unsigned>(ymd.month())),
                 static_cast<int>(static_cast<unsigned>(ymd.day())),
                 static_cast<int>(hms.hours().count()),
                 static_cast<int>(hms.minutes().count()),
                 static_cast<int>(hms.seconds().count()),
                 static_cast<int>(hms.subseconds().count())};
}

std::string Pad(int value, int width) {
  std::string digits = std::to_string(value < 0 ? -static_cast<int64_t>(value) : value);
  if (static_cast<int>(digits.size()) < width) {
    digits.insert(0, static_cast<size_t>(width) - digits.size(), '0');
  }
  return value < 0 ? "-" + digits : digits;
}

std::string FormatRfc3339Millis(int64_t unix_millis) {
  UtcTime t = ToUtc(unix_millis);
  return Pad(t.year, 4) + "-" + Pad(t.month, 2) + "-" + Pad(t.day, 2) + "T" + Pad(t.hour, 2) + ":" +
         Pad(t.minute, 2) + ":" + Pad(t.second, 2) + "." + Pad(t.millis, 3) + "Z";
}

std::string FormatAmzDate(int64_t unix_millis) {
  UtcTime t = ToUtc(unix_millis);
  return Pad(t.year, 4) + Pad(t.month, 2) + Pad(t.day, 2) + "T" + Pad(t.hour, 2) +
         Pad(t.minute, 2) + Pad(t.second, 2) + "Z";
}

}  // namespace kc::util
