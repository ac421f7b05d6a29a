// CachedCredentials: one set of credentials for every client and thread
// that shares it, renewed ahead of expiry by one caller at a time.
//
// - Credentials without an expiration (long-term keys) are looked up again
//   every `refresh_interval`, so keys rotated in the shared files are picked
//   up.
// - Temporary credentials are renewed before they expire: ten minutes plus
//   up to five of jitter ahead (so that a fleet does not renew at one
//   instant), or half their lifetime when that is shorter (a credential of
//   one minute renews after thirty seconds).
// - One caller renews. The others go on with the current credentials while
//   those are valid, and wait for that renewal only when they are not: a
//   rollover costs one call to the source, however many threads ask.
// - A failed renewal keeps credentials that have not expired and is tried
//   again after a backoff; callers meanwhile get the cached credentials.
//   Once they have expired, Get fails with the renewal's error code and a
//   message naming the source, when they expired and why renewing failed.
//   With nothing cached, a failure is returned as it is, and the source is
//   asked again only after the backoff.
// - Invalidate (an ExpiredToken answer) makes the next Get renew, once.
//
// Credentials count as expired kExpirySlack before their expiration, so that
// a request signed with them still reaches the service in time.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "base/retry.h"
#include "clients/aws/credentials.h"
#include "kc/clock.h"

namespace kc::aws {

class CachedCredentials final : public CredentialsProvider {
 public:
  static constexpr std::chrono::seconds kExpirySlack{15};
  static constexpr std::chrono::minutes kRenewAhead{10};
  static constexpr std::chrono::minutes kRenewJitter{5};

  // A failed renewal is tried again after a backoff of 1 s doubling to at
  // most 60 s, with jitter (`clock` waits).
  CachedCredentials(std::unique_ptr<CredentialsProvider> source, Clock* clock,
                    Clock::Duration refresh_interval);

  Result<Credentials> Get() override;
  // The source's description, with the expiry of what is cached.
  std::string Describe() const override;
  // Unless newer credentials have come in since `used` was handed out, the
  // next Get renews.
  void Invalidate(const Credentials& used) override;

  // When the cached credentials expire (Unix ms), if they do.
  std::optional<int64_t> Expiration() const;

 private:
  // How long after `now_ms` to renew `c`.
  Clock::Duration RenewIn(const Credentials& c, int64_t now_ms);
  bool Usable(const Credentials& c, int64_t now_ms) const;
  Error ExpiredError(const Error& why) const;

  const std::unique_ptr<CredentialsProvider> source_;
  Clock* const clock_;
  const Clock::Duration refresh_interval_;
  const RetryPolicy backoff_;  // only its Backoff: the waiting is the callers'

  mutable std::mutex mu_;
  std::condition_variable renewed_;
  std::optional<Credentials> cached_;  // guarded by mu_
  Clock::TimePoint next_renewal_{};    // guarded by mu_
  bool renewing_ = false;              // guarded by mu_
  uint64_t renewals_ = 0;              // guarded by mu_: renewals finished, good or not
  int failures_ = 0;                   // guarded by mu_: renewals failed in a row
  std::optional<Error> last_error_;    // guarded by mu_
  std::minstd_rand jitter_;            // guarded by mu_
};

}  // namespace kc::aws
