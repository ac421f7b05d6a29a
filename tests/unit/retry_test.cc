#include <gtest/gtest.h>

#include "core/retry.h"
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
  Result<int> r = p.Run("op", {}, [&]() -> Result<int> {
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
    Status s = p.Run("op", {}, [&]() -> Status {
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
  Status s = p.Run("PutThing", {}, [&]() -> Status {
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

}  // namespace
}  // namespace kc
