// A Clock for tests: time moves only when a test (or a sleeper) moves it.
// SleepFor advances the clock by the requested time and returns at once, so
// thresholds and backoff are tested without real waiting.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

#include "kc/clock.h"

namespace kc::testing {

class FakeClock final : public Clock {
 public:
  TimePoint Now() override {
    std::lock_guard lock(mu_);
    return now_;
  }
  int64_t UnixMillis() override {
    std::lock_guard lock(mu_);
    return unix_ms_ +
           std::chrono::duration_cast<std::chrono::milliseconds>(now_ - TimePoint{}).count();
  }
  bool SleepFor(Duration d, std::stop_token stop) override {
    if (stop.stop_requested()) return false;
    std::function<void()> on_sleep;
    {
      std::lock_guard lock(mu_);
      sleeps_.push_back(d);
      now_ += d;
      on_sleep = on_sleep_;
    }
    if (on_sleep) on_sleep();
    return true;
  }
  // Runs `f` after every SleepFor has moved the time: the moment a pipeline
  // waits for its next due shard, for tests that look at the process then.
  void OnSleep(std::function<void()> f) {
    std::lock_guard lock(mu_);
    on_sleep_ = std::move(f);
  }
  void Advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  void SetUnixMillis(int64_t ms) {
    std::lock_guard lock(mu_);
    unix_ms_ = ms;
  }
  std::vector<Duration> sleeps() {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  std::mutex mu_;
  TimePoint now_{};
  int64_t unix_ms_ = 1'700'000'000'000;
  std::vector<Duration> sleeps_;
  std::function<void()> on_sleep_;
};

}  // namespace kc::testing
