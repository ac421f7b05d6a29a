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
#include <optional>
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
  // Time from the first failure after which no attempt starts (the last wait
  // is cut short to end there); 0 means no limit. For outages that are waited
  // out for a set time rather than a number of attempts.
  std::chrono::milliseconds give_up_after{0};
};

// Retries decided so far in this process, by the error retried (all
// policies together), for metrics: a count of waits NextWait handed out.
uint64_t RetriesSoFar(ErrorCode code);

// What ends a Run early.
struct RetryStops {
  // Abandons the operation: a wait ends at once with kCancelled.
  std::stop_token cancel;
  // Ends the retrying, not the operation: a wait is cut short, one last
  // attempt is made, and if it fails for a passing reason the error it
  // failed with is returned (a graceful shutdown during an outage, which the
  // caller should report as that error rather than as a cancellation).
  std::stop_token give_up;
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
  // attempts or the time (give_up_after) are spent, or `stop` is requested
  // (kCancelled). `what` names the operation in logs and in the final error.
  template <typename Op>
  auto Run(std::string_view what, std::stop_token stop, Op&& op) const -> std::invoke_result_t<Op> {
    return Run(what, RetryStops{.cancel = std::move(stop), .give_up = {}}, std::forward<Op>(op));
  }

  template <typename Op>
  auto Run(std::string_view what, const RetryStops& stops, Op&& op) const
      -> std::invoke_result_t<Op> {
    std::optional<Clock::TimePoint> first_failure;
    for (int attempt = 0;; ++attempt) {
      auto result = op();
      if (result) return result;
      if (!first_failure) first_failure = clock_->Now();
      if (stops.cancel.stop_requested()) {
        return Fail(ErrorCode::kCancelled, std::string(what) + " cancelled by shutdown");
      }
      if (result.error().retriable() && stops.give_up.stop_requested()) {
        return Fail(result.error().With(std::string(what) + ": not tried again, shutting down"));
      }
      auto wait = NextWait(what, result.error(), attempt, first_failure);
      if (!wait) return Fail(std::move(wait.error()));
      if (!Sleep(*wait, stops)) {
        return Fail(ErrorCode::kCancelled, std::string(what) + " cancelled by shutdown");
      }
    }
  }

  // The decision Run takes after failed attempt `attempt` (0-based) ended
  // with `e`, for callers that wait elsewhere (shard reads, which wait on the
  // pipeline's scheduler instead of holding a thread): the wait before the
  // next attempt, or the error to give up with (`e` itself when it is not
  // worth retrying). give_up_after counts from `first_failure`, and is not
  // applied without it.
  Result<std::chrono::milliseconds> NextWait(
      std::string_view what, const Error& e, int attempt,
      std::optional<Clock::TimePoint> first_failure = std::nullopt) const;

  const RetryOptions& options() const { return options_; }

 private:
  // Sleeps `d`; false when stops.cancel was requested. stops.give_up cuts
  // the sleep short and returns true.
  bool Sleep(std::chrono::milliseconds d, const RetryStops& stops) const;
  static void LogRetry(std::string_view what, const Error& e, int attempt,
                       std::chrono::milliseconds wait);
  RetryOptions options_;
  Clock* clock_;
};

}  // namespace kc
