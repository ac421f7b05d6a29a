// PartialBatchWriter with a scripted sink and the fake clock: requests are
// bounded, only refused items are sent again, in order, after a backoff;
// with order keys, no item overtakes an earlier one with its key.
#include "sinks/util/partial_batch.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/fake_clock.h"

namespace kc::emitter {
namespace {

using namespace std::chrono_literals;

RetryPolicy Policy(testing::FakeClock* clock, int attempts = 5) {
  return RetryPolicy(RetryOptions{.max_attempts = attempts, .base = 100ms, .cap = 1s}, clock);
}

// A sink that refuses the items named in `refuse_once` the first time it
// sees them, and records every request and the order items landed in.
struct Sink {
  std::set<size_t> refuse_once;
  std::vector<std::vector<size_t>> requests;
  std::vector<size_t> landed;

  Result<Refused> operator()(std::span<const size_t> indices) {
    requests.emplace_back(indices.begin(), indices.end());
    Refused r;
    r.error = Error(ErrorCode::kThrottled, "ProvisionedThroughputExceededException");
    for (size_t p = 0; p < indices.size(); ++p) {
      if (refuse_once.erase(indices[p]) > 0) {
        r.positions.push_back(p);
      } else {
        landed.push_back(indices[p]);
      }
    }
    return r;
  }
};

TEST(PartialBatchWriterTest, RequestsRespectTheItemAndByteLimits) {
  testing::FakeClock clock;
  PartialBatchWriter writer({.max_items = 3, .max_bytes = 100}, Policy(&clock), &clock);
  Sink sink;
  const std::vector<uint64_t> sizes = {10, 10, 10, 10, 60, 50, 200, 1};
  ASSERT_TRUE(writer.Write(
      "test", sizes.size(), [&](size_t i) { return sizes[i]; },
      [&](std::span<const size_t> ix) { return sink(ix); }, {}));
  // 3 items; 10+60 (50 more would pass 100); 50 alone; 200 alone (above the limit); 1.
  EXPECT_EQ(sink.requests, (std::vector<std::vector<size_t>>{{0, 1, 2}, {3, 4}, {5}, {6}, {7}}));
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(PartialBatchWriterTest, OnlyRefusedItemsAreSentAgainAfterABackoff) {
  testing::FakeClock clock;
  PartialBatchWriter writer({.max_items = 4, .max_bytes = 1000}, Policy(&clock), &clock);
  Sink sink;
  sink.refuse_once = {1, 5, 6};
  ASSERT_TRUE(writer.Write(
      "test", 8, [](size_t) { return uint64_t{1}; },
      [&](std::span<const size_t> ix) { return sink(ix); }, {}));
  EXPECT_EQ(sink.requests,
            (std::vector<std::vector<size_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {1, 5, 6}}));
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_LE(clock.sleeps()[0], 100ms);
  std::vector<size_t> sorted = sink.landed;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7}));  // each exactly once
}

TEST(PartialBatchWriterTest, WithOrderKeysNoItemOvertakesAnEarlierOneWithItsKey) {
  testing::FakeClock clock;
  PartialBatchWriter writer({.max_items = 500, .max_bytes = 1'000'000}, Policy(&clock), &clock);
  Sink sink;
  const std::vector<std::string> keys = {"a", "b", "a", "c", "b", "a", "c"};
  sink.refuse_once = {0, 3};  // the first "a" and the first "c"
  ASSERT_TRUE(writer.Write(
      "test", keys.size(), [](size_t) { return uint64_t{1}; },
      [&](std::span<const size_t> ix) { return sink(ix); }, {},
      [&](size_t i) -> std::string_view { return keys[i]; }));
  for (const auto& request : sink.requests) {
    std::set<std::string> seen;
    for (size_t i : request) EXPECT_TRUE(seen.insert(keys[i]).second) << "two items of one key";
  }
  std::map<std::string, std::vector<size_t>> by_key;
  for (size_t i : sink.landed) by_key[keys[i]].push_back(i);
  EXPECT_EQ(by_key["a"], (std::vector<size_t>{0, 2, 5}));
  EXPECT_EQ(by_key["b"], (std::vector<size_t>{1, 4}));
  EXPECT_EQ(by_key["c"], (std::vector<size_t>{3, 6}));
  EXPECT_EQ(sink.landed.size(), keys.size());
  // "b" is not held up by the refusals of the others.
  EXPECT_EQ(sink.requests[0], (std::vector<size_t>{0, 1, 3}));
  EXPECT_EQ(sink.requests[1], (std::vector<size_t>{4}));
}

TEST(PartialBatchWriterTest, RoundsThatMakeProgressDoNotSpendTheBudget) {
  testing::FakeClock clock;
  PartialBatchWriter writer({.max_items = 500, .max_bytes = 1'000'000}, Policy(&clock, 3), &clock);
  Sink sink;
  for (size_t i = 0; i < 12; ++i) sink.refuse_once.insert(i);  // each item refused once
  ASSERT_TRUE(writer.Write(
      "test", 12, [](size_t) { return uint64_t{1}; },
      [&](std::span<const size_t> ix) { return sink(ix); }, {},
      [](size_t) -> std::string_view { return "one key"; }));
  EXPECT_EQ(sink.landed, (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  for (auto d : clock.sleeps()) EXPECT_LE(d, 100ms);  // the first backoff each time
}

TEST(PartialBatchWriterTest, ARefusedPositionOutsideTheRequestIsAnError) {
  testing::FakeClock clock;
  PartialBatchWriter writer({.max_items = 10, .max_bytes = 1000}, Policy(&clock), &clock);
  auto result = writer.Write(
      "t", 2, [](size_t) { return uint64_t{1}; },
      [](std::span<const size_t>) -> Result<Refused> { return Refused{{5}}; }, {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInternal);
}

TEST(PartialBatchWriterTest, ARetriableRequestErrorSendsTheRequestAgain) {
  testing::FakeClock clock;
  PartialBatchWriter writer({.max_items = 2, .max_bytes = 1000}, Policy(&clock), &clock);
  int calls = 0;
  std::vector<size_t> landed;
  ASSERT_TRUE(writer.Write(
      "test", 3, [](size_t) { return uint64_t{1}; },
      [&](std::span<const size_t> ix) -> Result<Refused> {
        if (++calls == 1) return Fail(ErrorCode::kConnection, "reset");
        landed.insert(landed.end(), ix.begin(), ix.end());
        return Refused{};
      },
      {}));
  EXPECT_EQ(landed, (std::vector<size_t>{2, 0, 1}));
  EXPECT_EQ(clock.sleeps().size(), 1u);
}

TEST(PartialBatchWriterTest, AFinalErrorOrASpentBudgetIsReturnedNamingWhatWasLeft) {
  testing::FakeClock clock;
  PartialBatchWriter writer({.max_items = 10, .max_bytes = 1000}, Policy(&clock, 3), &clock);
  auto denied = writer.Write(
      "writing to t", 4, [](size_t) { return uint64_t{1}; },
      [](std::span<const size_t>) -> Result<Refused> {
        return Fail(ErrorCode::kAuth, "AccessDeniedException");
      },
      {});
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), ErrorCode::kAuth);
  EXPECT_NE(denied.error().message().find("writing to t"), std::string::npos);
  EXPECT_TRUE(clock.sleeps().empty());

  auto throttled = writer.Write(
      "writing to t", 4, [](size_t) { return uint64_t{1}; },
      [](std::span<const size_t> ix) -> Result<Refused> {
        Refused r;
        r.positions = {ix.size() - 1};
        return r;
      },
      {});
  ASSERT_FALSE(throttled);
  EXPECT_TRUE(throttled.error().retriable());
  EXPECT_NE(throttled.error().message().find("1 of 4 items not written"), std::string::npos)
      << throttled.error().ToString();
  EXPECT_NE(throttled.error().message().find("after 3 attempts"), std::string::npos);
  EXPECT_EQ(clock.sleeps().size(), 2u);
}

TEST(PartialBatchWriterTest, StopEndsTheWaitWithCancelled) {
  testing::FakeClock clock;
  PartialBatchWriter writer({.max_items = 10, .max_bytes = 1000}, Policy(&clock), &clock);
  std::stop_source stop;
  auto result = writer.Write(
      "t", 2, [](size_t) { return uint64_t{1}; },
      [&](std::span<const size_t>) -> Result<Refused> {
        stop.request_stop();
        return Refused{{0}};
      },
      stop.get_token());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kCancelled);
}

}  // namespace
}  // namespace kc::emitter
