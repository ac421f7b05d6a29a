#include "base/retry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <random>

#include "base/log.h"

namespace kc {
namespace {

// "600 s", or "1500 ms" below a whole second.
std::string FormatSeconds(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// By ErrorCode; kInternal is the last code.
constexpr size_t kErrorCodes = static_cast<size_t>(ErrorCode::kInternal) + 1;
std::array<std::atomic<uint64_t>, kErrorCodes> retries{};

void CountRetry(ErrorCode code) {
  retries[static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

uint64_t RetriesSoFar(ErrorCode code) {
  return retries[static_cast<size_t>(code)].load(std::memory_order_relaxed);
}

std::chrono::milliseconds RetryPolicy::Ceiling(int attempt) const {
  // Doubling past 2^30 overflows long before any cap matters.
  int shift = std::clamp(attempt, 0, 30);
  auto grown = options_.base.count() * (int64_t{1} << shift);
  if (options_.base.count() > 0 && grown / options_.base.count() != (int64_t{1} << shift)) {
    grown = options_.cap.count();
  }
  return std::chrono::milliseconds(std::min<int64_t>(grown, options_.cap.count()));
}

std::chrono::milliseconds RetryPolicy::Backoff(int attempt) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> dist(0, Ceiling(attempt).count());
  return std::chrono::milliseconds(dist(rng));
}

Result<std::chrono::milliseconds> RetryPolicy::NextWait(
    std::string_view what, const Error& e, int attempt,
    std::optional<Clock::TimePoint> first_failure) const {
  if (!e.retriable()) return Fail(e);
  // One attempt allowed means no retrying was asked for: the error as it is.
  if (options_.max_attempts == 1) return Fail(e);
  if (options_.max_attempts > 0 && attempt + 1 >= options_.max_attempts) {
    return Fail(
        e.With(std::string(what) + " failed after " + std::to_string(attempt + 1) + " attempts"));
  }
  auto wait = Backoff(attempt);
  if (options_.give_up_after.count() > 0 && first_failure) {
    // In milliseconds since the first failure: a budget of centuries cannot
    // overflow the clock's nanoseconds.
    const auto left =
        options_.give_up_after -
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_->Now() - *first_failure);
    if (left.count() <= 0) {
      return Fail(e.With(std::string(what) + ": still failing after " +
                         FormatSeconds(options_.give_up_after)));
    }
    wait = std::min(wait, left);
  }
  LogRetry(what, e, attempt, wait);
  CountRetry(e.code());
  return wait;
}

bool RetryPolicy::Sleep(std::chrono::milliseconds d, const RetryStops& stops) const {
  if (!stops.give_up.stop_possible()) return clock_->SleepFor(d, stops.cancel);
  // Either stop wakes the sleep; only a cancel reports it.
  std::stop_source either;
  std::stop_callback on_cancel(stops.cancel, [&] { either.request_stop(); });
  std::stop_callback on_give_up(stops.give_up, [&] { either.request_stop(); });
  clock_->SleepFor(d, either.get_token());
  return !stops.cancel.stop_requested();
}

void RetryPolicy::LogRetry(std::string_view what, const Error& e, int attempt,
                           std::chrono::milliseconds wait) {
  auto level = attempt < 2 ? spdlog::level::debug : spdlog::level::warn;
  const log::Field code(log::Field::kErrorCode, ErrorCodeName(e.code()));
  spdlog::log(level, "{}: {} (attempt {}), retrying in {} ms", what, e.ToString(), attempt + 1,
              wait.count());
}

}  // namespace kc
