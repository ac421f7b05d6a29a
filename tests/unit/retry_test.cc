#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "base/retry.h"
#include "support/fake_clock.h"

namespace kc {
namespace {

using namespace std::chrono_literals;

TEST(RetryPolicy, CeilingDoublesUpToTheCap) {
  RetryPolicy p(RetryOptions{.max_attempts = 5, .base = 100ms, .cap = 1000ms});
  EXPECT_EQ(p.Ceiling(0), 100ms);
  EXPECT_EQ(p.Ceiling(1), 200ms);
  EXPECT_EQ(p.Ceiling(2), 400ms);
  EXPECT_EQ(p.Ceiling(3), 800ms);
  EXPECT_EQ(p.Ceiling(4), 1000ms);
  EXPECT_EQ(p.Ceiling(60), 1000ms);  // no overflow for large attempt numbers
}

TEST(RetryPolicy, FullJitterStaysWithinTheCeilingAndSpreads) {
  RetryPolicy p(RetryOptions{.max_attempts = 5, .base = 100ms, .cap = 1000ms});
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto d = p.Backoff(3);
    EXPECT_GE(d, 0ms);
    EXPECT_LE(d, 800ms);
    seen.insert(d.count());
  }
  EXPECT_GT(seen.size(), 50u);  // jittered, not a fixed delay
}

TEST(RetryPolicy, RetriesRetriableErrorsUntilSuccess) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{.max_attempts = 5, .base = 100ms, .cap = 1000ms}, &clock);
  int calls = 0;
  Result<int> r = p.Run("op", std::stop_token{}, [&]() -> Result<int> {
    if (++calls < 3) return Fail(ErrorCode::kThrottled, "slow down");
    return 42;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(clock.sleeps().size(), 2u);
}

TEST(RetryPolicy, DoesNotRetryFinalErrors) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{}, &clock);
  for (ErrorCode code : {ErrorCode::kInvalidArgument, ErrorCode::kAuth, ErrorCode::kNotFound,
                         ErrorCode::kExpiredIterator, ErrorCode::kParse}) {
    int calls = 0;
    Status s = p.Run("op", std::stop_token{}, [&]() -> Status {
      ++calls;
      return Fail(code, "no");
    });
    EXPECT_FALSE(s);
    EXPECT_EQ(s.error().code(), code);
    EXPECT_EQ(calls, 1) << ErrorCodeName(code);
  }
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(RetryPolicy, GivesUpAfterMaxAttemptsSayingSo) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{.max_attempts = 4, .base = 10ms, .cap = 100ms}, &clock);
  int calls = 0;
  Status s = p.Run("PutThing", std::stop_token{}, [&]() -> Status {
    ++calls;
    return Fail(ErrorCode::kUnavailable, "HTTP 503");
  });
  ASSERT_FALSE(s);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message().find("PutThing failed after 4 attempts"), std::string::npos);
  auto sleeps = clock.sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  EXPECT_LE(sleeps[0], 10ms);
  EXPECT_LE(sleeps[1], 20ms);
  EXPECT_LE(sleeps[2], 40ms);
}

TEST(RetryPolicy, StopRequestCancels) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{.max_attempts = 0}, &clock);
  std::stop_source stop;
  int calls = 0;
  Status s = p.Run("op", stop.get_token(), [&]() -> Status {
    if (++calls == 3) stop.request_stop();
    return Fail(ErrorCode::kConnection, "refused");
  });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(calls, 3);
}

TEST(RetryPolicy, GiveUpAfterEndsTheRetriesAtThatTimeFromTheFirstFailure) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{.max_attempts = 0, .base = 1s, .cap = 30s, .give_up_after = 10min},
                &clock);
  clock.Advance(1h);  // the budget counts from the first failure, not from the clock's start
  const auto started = clock.Now();
  int calls = 0;
  Status s = p.Run("Emit", std::stop_token{}, [&]() -> Status {
    ++calls;
    return Fail(ErrorCode::kUnavailable, "HTTP 503");
  });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message().find("Emit: still failing after 600 s"), std::string::npos)
      << s.error().message();
  // The last wait is cut short: the last attempt is at the deadline, not past it.
  EXPECT_EQ(clock.Now() - started, 10min);
  EXPECT_GT(calls, 5);
  for (auto d : clock.sleeps()) EXPECT_LE(d, 30s);
}

// A budget of millions of years (sink_retry_for = "9999999999h") is no
// budget, not an overflow that gives up at once.
TEST(RetryPolicy, AHugeGiveUpAfterDoesNotOverflow) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{.max_attempts = 5,
                             .base = 1s,
                             .cap = 30s,
                             .give_up_after = std::chrono::milliseconds(INT64_MAX / 2)},
                &clock);
  clock.Advance(1h);
  int calls = 0;
  Status s = p.Run("Emit", std::stop_token{}, [&]() -> Status {
    ++calls;
    return Fail(ErrorCode::kUnavailable, "HTTP 503");
  });
  ASSERT_FALSE(s);
  EXPECT_EQ(calls, 5);
  EXPECT_NE(s.error().message().find("Emit failed after 5 attempts"), std::string::npos)
      << s.error().message();
}

TEST(RetryPolicy, GiveUpAfterDoesNotDelayASuccess) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{.max_attempts = 0, .base = 1s, .cap = 30s, .give_up_after = 10min},
                &clock);
  int calls = 0;
  Status s = p.Run("Emit", std::stop_token{}, [&]() -> Status {
    if (++calls < 4) return Fail(ErrorCode::kConnection, "refused");
    return Ok();
  });
  EXPECT_TRUE(s);
  EXPECT_EQ(calls, 4);
}

TEST(RetryPolicy, OneAttemptReturnsTheErrorAsItIs) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{.max_attempts = 1}, &clock);
  Status s = p.Run("op", std::stop_token{},
                   [&]() -> Status { return Fail(ErrorCode::kThrottled, "slow down"); });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "slow down");
  EXPECT_TRUE(clock.sleeps().empty());
}

// A give-up stop (a graceful shutdown) ends the retrying with the error the
// operation failed with, after one last attempt; a cancel stop abandons it.
TEST(RetryPolicy, GiveUpStopReturnsTheLastErrorAfterOneMoreAttempt) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{.max_attempts = 0}, &clock);
  std::stop_source give_up;
  int calls = 0;
  Status s =
      p.Run("Emit", RetryStops{.cancel = {}, .give_up = give_up.get_token()}, [&]() -> Status {
        if (++calls == 3) give_up.request_stop();
        return Fail(ErrorCode::kUnavailable, "HTTP 503");
      });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message().find("Emit: not tried again, shutting down"), std::string::npos)
      << s.error().message();
  EXPECT_EQ(calls, 3);
}

// A clock that asks for a give-up stop as a sleep begins and notes whether
// the token the sleep waits on saw it (the wait would then end early).
class GiveUpWhileSleeping final : public Clock {
 public:
  explicit GiveUpWhileSleeping(std::stop_source* give_up) : give_up_(give_up) {}
  TimePoint Now() override { return now_; }
  int64_t UnixMillis() override { return 0; }
  bool SleepFor(Duration d, std::stop_token stop) override {
    give_up_->request_stop();
    woken = stop.stop_requested();
    if (!woken) now_ += d;  // slept the whole wait
    return !stop.stop_requested();
  }
  bool woken = false;

 private:
  std::stop_source* give_up_;
  TimePoint now_{};
};

TEST(RetryPolicy, GiveUpStopCutsAWaitShortAndTriesOnceMore) {
  std::stop_source give_up;
  GiveUpWhileSleeping clock(&give_up);
  RetryPolicy p(RetryOptions{.max_attempts = 0, .base = 1h, .cap = 1h}, &clock);
  int calls = 0;
  Status s =
      p.Run("Emit", RetryStops{.cancel = {}, .give_up = give_up.get_token()}, [&]() -> Status {
        if (++calls == 1) return Fail(ErrorCode::kUnavailable, "HTTP 503");
        return Ok();  // the sink came back just as the shutdown began
      });
  EXPECT_TRUE(clock.woken);  // the hour's wait ended at the give-up
  EXPECT_TRUE(s);
  EXPECT_EQ(calls, 2);
}

TEST(RetryPolicy, CancelWinsOverGiveUp) {
  testing::FakeClock clock;
  RetryPolicy p(RetryOptions{.max_attempts = 0}, &clock);
  std::stop_source cancel;
  std::stop_source give_up;
  int calls = 0;
  Status s = p.Run("Emit", RetryStops{.cancel = cancel.get_token(), .give_up = give_up.get_token()},
                   [&]() -> Status {
                     ++calls;
                     give_up.request_stop();
                     cancel.request_stop();
                     return Fail(ErrorCode::kUnavailable, "HTTP 503");
                   });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace kc
