// The one retry policy: exponential backoff with full jitter and a cap.
//
// Attempt n (0-based) waits a uniformly random time in [0, min(cap, base·2^n)]
// ("full jitter"): many readers throttled at once spread out instead of
// retrying in lockstep. Whether an error is worth retrying is the Error's own
// classification (Error::retriable), decided where the error was understood.
//
// Thread-safety: a RetryPolicy is immutable and may be shared.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <type_traits>

#include "kc/clock.h"
#include "kc/status.h"

namespace kc {

struct RetryOptions {
  int max_attempts = 10;  // total tries, including the first; 0 means no limit
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds cap{10'000};
};

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryOptions options = {}, Clock* clock = &Clock::Real())
      : options_(options), clock_(clock) {}

  // The upper bound of the wait after failed attempt `attempt` (0-based).
  std::chrono::milliseconds Ceiling(int attempt) const;
  // A random wait in [0, Ceiling(attempt)].
  std::chrono::milliseconds Backoff(int attempt) const;

  // Calls `op` until it succeeds, fails with a non-retriable error, the
  // attempts are spent, or `stop` is requested (kCancelled). `what` names the
  // operation in logs and in the final error.
  template <typename Op>
  auto Run(std::string_view what, std::stop_token stop, Op&& op) const -> std::invoke_result_t<Op> {
    for (int attempt = 0;; ++attempt) {
      auto result = op();
      if (result) return result;
      auto wait = NextWait(what, result.error(), attempt);
      if (!wait) return Fail(std::move(wait.error()));
      if (!clock_->SleepFor(*wait, stop)) {
        return Fail(ErrorCode::kCancelled, std::string(what) + " cancelled by shutdown");
      }
    }
  }

  // The decision Run takes after failed attempt `attempt` (0-based) ended
  // with `e`, for callers that wait elsewhere (shard reads, which wait on the
  // pipeline's scheduler instead of holding a thread): the wait before the
  // next attempt, or the error to give up with (`e` itself when it is not
  // worth retrying).
  Result<std::chrono::milliseconds> NextWait(std::string_view what, const Error& e,
                                             int attempt) const;

  const RetryOptions& options() const { return options_; }

 private:
  static void LogRetry(std::string_view what, const Error& e, int attempt,
                       std::chrono::milliseconds wait);
  RetryOptions options_;
  Clock* clock_;
};

}  // namespace kc
