// CachedCredentials: when the source is asked again, what callers get while
// a renewal fails, and that a rollover costs one call however many threads
// ask. Time is a FakeClock; the source is scripted.
#include "clients/aws/credentials_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_clock.h"

namespace kc::aws {
namespace {

using namespace std::chrono_literals;
using kc::testing::FakeClock;

// Hands out its script in order (the last answer again once it runs out),
// counting calls; with a gate, each call waits until the gate opens.
class ScriptedSource final : public CredentialsProvider {
 public:
  void Push(Result<Credentials> next) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(next));
  }
  void CloseGate() {
    std::lock_guard lock(mu_);
    gate_open_ = false;
  }
  void OpenGate() {
    {
      std::lock_guard lock(mu_);
      gate_open_ = true;
    }
    cv_.notify_all();
  }
  // Waits until a call is inside Get (held at the closed gate).
  void WaitForCaller() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return waiting_ > 0; });
  }
  int calls() const { return calls_.load(); }

  Result<Credentials> Get() override {
    ++calls_;
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return gate_open_; });
    --waiting_;
    if (!script_.empty()) {
      last_ = std::move(script_.front());
      script_.pop_front();
    }
    return last_;
  }
  std::string Describe() const override { return "the scripted source"; }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<Credentials>> script_;
  Result<Credentials> last_ = Fail(ErrorCode::kNotFound, "nothing scripted");
  bool gate_open_ = true;
  int waiting_ = 0;
  std::atomic<int> calls_{0};
};

Credentials Temporary(const std::string& id, int64_t expires_ms) {
  return Credentials{.access_key_id = id,
                     .secret_access_key = "secret-" + id,
                     .session_token = "token-" + id,
                     .expiration_ms = expires_ms};
}

Credentials LongTerm(const std::string& id) {
  return Credentials{.access_key_id = id,
                     .secret_access_key = "secret-" + id,
                     .session_token = "",
                     .expiration_ms = std::nullopt};
}

Result<Credentials> Failure(ErrorCode code, const std::string& why) { return Fail(code, why); }

class CachedCredentialsTest : public ::testing::Test {
 protected:
  CachedCredentialsTest() {
    auto source = std::make_unique<ScriptedSource>();
    source_ = source.get();
    cache_ = std::make_unique<CachedCredentials>(std::move(source), &clock_, 5min);
  }
  int64_t Now() { return clock_.UnixMillis(); }
  std::string IdNow() {
    auto got = cache_->Get();
    return got ? got->access_key_id : "error: " + got.error().message();
  }

  FakeClock clock_;
  ScriptedSource* source_;
  std::unique_ptr<CachedCredentials> cache_;
};

TEST_F(CachedCredentialsTest, LongTermKeysAreLookedUpAgainEveryInterval) {
  source_->Push(LongTerm("FIRST"));
  source_->Push(LongTerm("ROTATED"));
  EXPECT_EQ(IdNow(), "FIRST");
  clock_.Advance(5min - 1s);
  EXPECT_EQ(IdNow(), "FIRST");
  EXPECT_EQ(source_->calls(), 1);
  clock_.Advance(1s);
  EXPECT_EQ(IdNow(), "ROTATED");
  EXPECT_EQ(source_->calls(), 2);
}

TEST_F(CachedCredentialsTest, AnHourCredentialIsRenewedTenToFifteenMinutesAhead) {
  const int64_t expires = Now() + 3'600'000;
  source_->Push(Temporary("HOUR", expires));
  source_->Push(Temporary("NEXT", expires + 3'600'000));
  EXPECT_EQ(IdNow(), "HOUR");
  clock_.Advance(45min - 1s);  // more than 15 minutes left: never renewed yet
  EXPECT_EQ(IdNow(), "HOUR");
  EXPECT_EQ(source_->calls(), 1);
  clock_.Advance(5min + 1s);  // 10 minutes left: renewed by now, whatever the jitter
  EXPECT_EQ(IdNow(), "NEXT");
  EXPECT_EQ(source_->calls(), 2);
  ASSERT_TRUE(cache_->Expiration());
  EXPECT_EQ(*cache_->Expiration(), expires + 3'600'000);
}

TEST_F(CachedCredentialsTest, AOneMinuteCredentialIsRenewedAtHalfItsLife) {
  source_->Push(Temporary("A", Now() + 60'000));
  EXPECT_EQ(IdNow(), "A");
  source_->Push(Temporary("B", Now() + 120'000));
  clock_.Advance(29s);
  EXPECT_EQ(IdNow(), "A");
  clock_.Advance(1s);
  EXPECT_EQ(IdNow(), "B");
  EXPECT_EQ(source_->calls(), 2);
}

TEST_F(CachedCredentialsTest, AFailedRenewalKeepsValidCredentialsAndTriesAgainLater) {
  source_->Push(Temporary("A", Now() + 60'000));
  EXPECT_EQ(IdNow(), "A");
  source_->Push(Failure(ErrorCode::kConnection, "STS is unreachable"));
  source_->Push(Temporary("B", Now() + 120'000));
  clock_.Advance(30s);
  EXPECT_EQ(IdNow(), "A");  // the renewal failed; A is still good
  EXPECT_EQ(source_->calls(), 2);
  EXPECT_EQ(IdNow(), "A");  // within the backoff: not asked again
  EXPECT_EQ(source_->calls(), 2);
  clock_.Advance(1s);  // the shortest backoff: 1 s; the first at most 1 s
  EXPECT_EQ(IdNow(), "B");
  EXPECT_EQ(source_->calls(), 3);
}

TEST_F(CachedCredentialsTest, ExpiredCredentialsAreAnErrorNamingTheSourceAndWhy) {
  const int64_t expires = Now() + 60'000;
  source_->Push(Temporary("A", expires));
  EXPECT_EQ(IdNow(), "A");
  source_->Push(Failure(ErrorCode::kConnection, "STS is unreachable"));
  clock_.Advance(50s);  // within the 15 s slack before expiry
  auto got = cache_->Get();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kConnection);  // retriable, as its cause
  EXPECT_EQ(got.error().message(),
            "the credentials from the scripted source expired at 2023-11-14T22:14:20.000Z and "
            "renewing them failed: STS is unreachable");
  // Every caller gets it until the backoff is over, without a new call.
  const int calls = source_->calls();
  EXPECT_FALSE(cache_->Get());
  EXPECT_EQ(source_->calls(), calls);
}

TEST_F(CachedCredentialsTest, WithNothingCachedAFailureIsReturnedAsItIs) {
  source_->Push(Failure(ErrorCode::kAuth, "no credentials anywhere"));
  auto got = cache_->Get();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kAuth);
  EXPECT_EQ(got.error().message(), "no credentials anywhere");
  EXPECT_FALSE(cache_->Get());
  EXPECT_EQ(source_->calls(), 1);
  clock_.Advance(1s);
  EXPECT_FALSE(cache_->Get());
  EXPECT_EQ(source_->calls(), 2);
}

TEST_F(CachedCredentialsTest, CredentialsHandedOutExpiredAreAnError) {
  source_->Push(Temporary("STALE", Now() - 1'000));
  auto got = cache_->Get();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kAuth);
  EXPECT_EQ(got.error().message(),
            "the scripted source gave credentials that expire at 2023-11-14T22:13:19.000Z, "
            "already past or within 15 s; check this machine's clock (it reads "
            "2023-11-14T22:13:20.000Z)");
  EXPECT_EQ(source_->calls(), 1);
}

TEST_F(CachedCredentialsTest, InvalidateRenewsOnceAndOnlyForTheCredentialsSeen) {
  source_->Push(Temporary("A", Now() + 3'600'000));
  auto a = cache_->Get();
  ASSERT_TRUE(a);
  source_->Push(Temporary("B", Now() + 3'600'000));
  cache_->Invalidate(*a);
  cache_->Invalidate(*a);
  EXPECT_EQ(IdNow(), "B");
  EXPECT_EQ(IdNow(), "B");
  EXPECT_EQ(source_->calls(), 2);
  cache_->Invalidate(*a);  // A was replaced already: nothing to do
  EXPECT_EQ(IdNow(), "B");
  EXPECT_EQ(source_->calls(), 2);
}

TEST_F(CachedCredentialsTest, WhileOneThreadRenewsTheOthersUseTheValidCredentials) {
  source_->Push(Temporary("A", Now() + 60'000));
  EXPECT_EQ(IdNow(), "A");
  source_->Push(Temporary("B", Now() + 120'000));
  clock_.Advance(30s);
  source_->CloseGate();
  std::thread renewer([&] { EXPECT_EQ(IdNow(), "B"); });
  source_->WaitForCaller();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(IdNow(), "A");
  source_->OpenGate();
  renewer.join();
  EXPECT_EQ(source_->calls(), 2);
}

TEST_F(CachedCredentialsTest, ExpiredCredentialsAreRenewedOnceForEveryWaitingThread) {
  source_->Push(Temporary("A", Now() + 60'000));
  EXPECT_EQ(IdNow(), "A");
  source_->Push(Temporary("B", Now() + 3'600'000));
  clock_.Advance(60s);  // expired: no one may use A
  source_->CloseGate();
  std::vector<std::thread> threads;
  std::atomic<int> got_b{0};
  threads.emplace_back([&] { got_b += IdNow() == "B"; });
  source_->WaitForCaller();
  for (int i = 0; i < 7; ++i) threads.emplace_back([&] { got_b += IdNow() == "B"; });
  source_->OpenGate();
  for (auto& t : threads) t.join();
  EXPECT_EQ(got_b.load(), 8);
  EXPECT_EQ(source_->calls(), 2);
}

TEST_F(CachedCredentialsTest, DescribeSaysWhenTheyExpireAndNeverASecret) {
  source_->Push(Temporary("AKIDTEMP", Now() + 60'000));
  ASSERT_TRUE(cache_->Get());
  const std::string d = cache_->Describe();
  EXPECT_EQ(d, "the scripted source, expiring at 2023-11-14T22:14:20.000Z");
  EXPECT_EQ(d.find("secret-"), std::string::npos);
  EXPECT_EQ(d.find("token-"), std::string::npos);
}

}  // namespace
}  // namespace kc::aws
