// Time as a seam. Everything that waits or reads the time takes a Clock, so
// tests drive thresholds and backoff with a fake clock instead of sleeping.
//
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <stop_token>

namespace kc {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  // Monotonic time, for thresholds and deadlines.
  virtual TimePoint Now() = 0;
  // Wall-clock time in milliseconds since the Unix epoch, for signing and logs.
  virtual int64_t UnixMillis() = 0;
  // Waits `d`, returning early with false when `stop` is requested.
  virtual bool SleepFor(Duration d, std::stop_token stop) = 0;

  // The process-wide real clock.
  static Clock& Real();
};

}  // namespace kc
