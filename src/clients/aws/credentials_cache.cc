#include "clients/aws/credentials_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "base/time_format.h"

namespace kc::aws {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// What a failed renewal waits at least before the next: a source that
// fails at once is not asked in a loop.
constexpr milliseconds kMinRetry{1'000};

RetryOptions RenewalBackoff() {
  return RetryOptions{.max_attempts = 0,
                      .base = milliseconds(1'000),
                      .cap = milliseconds(60'000),
                      .give_up_after = milliseconds(0)};
}

}  // namespace

CachedCredentials::CachedCredentials(std::unique_ptr<CredentialsProvider> source, Clock* clock,
                                     Clock::Duration refresh_interval)
    : source_(std::move(source)),
      clock_(clock),
      refresh_interval_(refresh_interval),
      backoff_(RenewalBackoff(), clock),
      jitter_(std::random_device{}()) {}

bool CachedCredentials::Usable(const Credentials& c, int64_t now_ms) const {
  return !c.expiration_ms ||
         now_ms < *c.expiration_ms - duration_cast<milliseconds>(kExpirySlack).count();
}

Clock::Duration CachedCredentials::RenewIn(const Credentials& c, int64_t now_ms) {
  if (!c.expiration_ms) return refresh_interval_;
  const milliseconds lifetime(std::max<int64_t>(0, *c.expiration_ms - now_ms));
  std::uniform_int_distribution<int64_t> spread(0,
                                                duration_cast<milliseconds>(kRenewJitter).count());
  const milliseconds ahead = std::min(
      duration_cast<milliseconds>(kRenewAhead) + milliseconds(spread(jitter_)), lifetime / 2);
  return lifetime - ahead;
}

Error CachedCredentials::ExpiredError(const Error& why) const {
  return Error(why.code(), "the credentials from " + source_->Describe() + " expired at " +
                               util::FormatRfc3339Millis(cached_->expiration_ms.value_or(0)) +
                               " and renewing them failed: " + why.message());
}

Result<Credentials> CachedCredentials::Get() {
  std::unique_lock lock(mu_);
  for (;;) {
    const int64_t now_ms = clock_->UnixMillis();
    const bool usable = cached_ && Usable(*cached_, now_ms);
    if (clock_->Now() < next_renewal_) {
      if (usable) return *cached_;
      // Renewal failed a moment ago: its error, until the backoff is over.
      if (last_error_) return Fail(cached_ ? ExpiredError(*last_error_) : *last_error_);
    }
    if (renewing_) {
      if (usable) return *cached_;
      const uint64_t waited_for = renewals_;
      renewed_.wait(lock, [&] { return renewals_ != waited_for; });
      // That renewal's outcome is this caller's too: no second call.
      if (cached_ && Usable(*cached_, clock_->UnixMillis())) return *cached_;
      if (last_error_) return Fail(cached_ ? ExpiredError(*last_error_) : *last_error_);
      continue;
    }
    renewing_ = true;
    lock.unlock();
    Result<Credentials> got = source_->Get();
    lock.lock();
    renewing_ = false;
    ++renewals_;
    renewed_.notify_all();
    const int64_t after_ms = clock_->UnixMillis();
    if (got && !Usable(*got, after_ms)) {
      // Handed out expired (or about to): as good as none.
      got = Fail(ErrorCode::kAuth, source_->Describe() + " gave credentials that expire at " +
                                       util::FormatRfc3339Millis(*got->expiration_ms) +
                                       ", already past or within " +
                                       std::to_string(kExpirySlack.count()) +
                                       " s; check this machine's clock (it reads " +
                                       util::FormatRfc3339Millis(after_ms) + ")");
    }
    if (got) {
      cached_ = *got;
      failures_ = 0;
      last_error_.reset();
      next_renewal_ = clock_->Now() + RenewIn(*cached_, after_ms);
      return *cached_;
    }
    last_error_ = got.error();
    next_renewal_ = clock_->Now() + std::max(kMinRetry, backoff_.Backoff(failures_));
    ++failures_;
    if (cached_ && Usable(*cached_, after_ms)) {
      spdlog::warn("renewing the credentials from {} failed ({}); the current ones stay in use{}",
                   source_->Describe(), got.error().message(),
                   cached_->expiration_ms
                       ? " until " + util::FormatRfc3339Millis(*cached_->expiration_ms)
                       : std::string());
      return *cached_;
    }
    if (cached_) return Fail(ExpiredError(got.error()));
    return got;
  }
}

void CachedCredentials::Invalidate(const Credentials& used) {
  std::lock_guard lock(mu_);
  if (!cached_ || cached_->access_key_id != used.access_key_id ||
      cached_->session_token != used.session_token) {
    return;  // renewed since `used` was handed out
  }
  next_renewal_ = Clock::TimePoint{};
  last_error_.reset();
}

std::optional<int64_t> CachedCredentials::Expiration() const {
  std::lock_guard lock(mu_);
  return cached_ ? cached_->expiration_ms : std::nullopt;
}

std::string CachedCredentials::Describe() const {
  std::string out = source_->Describe();
  if (std::optional<int64_t> expires = Expiration()) {
    out += ", expiring at " + util::FormatRfc3339Millis(*expires);
  }
  return out;
}

}  // namespace kc::aws
