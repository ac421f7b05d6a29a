#include "core/retry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace kc {

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

Result<std::chrono::milliseconds> RetryPolicy::NextWait(std::string_view what, const Error& e,
                                                        int attempt) const {
  if (!e.retriable()) return Fail(e);
  if (options_.max_attempts > 0 && attempt + 1 >= options_.max_attempts) {
    return Fail(
        e.With(std::string(what) + " failed after " + std::to_string(attempt + 1) + " attempts"));
  }
  auto wait = Backoff(attempt);
  LogRetry(what, e, attempt, wait);
  return wait;
}

void RetryPolicy::LogRetry(std::string_view what, const Error& e, int attempt,
                           std::chrono::milliseconds wait) {
  auto level = attempt < 2 ? spdlog::level::debug : spdlog::level::warn;
  spdlog::log(level, "{}: {} (attempt {}), retrying in {} ms", what, e.ToString(), attempt + 1,
              wait.count());
}

}  // namespace kc
