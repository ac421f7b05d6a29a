// The conformance suite every sink passes, as every checkpoint store passes
// checkpoint_conformance.h. What it checks is the Emitter contract of
// include/kc/emitter.h, which the pipeline relies on:
// - every record of a batch lands, in order;
// - a batch emitted again (a replay after a crash) lands once where the sink
//   promises it, and at least once everywhere;
// - an empty batch succeeds and writes nothing;
// - a record the sink refuses for its data fails the batch with
//   kInvalidArgument naming the record's sequence number, and nothing of
//   that batch lands (the pipeline then splits the batch to dead-letter the
//   record alone);
// - an error of the sink's service that may pass (unavailable, no
//   connection) is retried inside Emit and is retriable when the budget is
//   spent; one that will not pass (access refused, no such table) is not
//   retried;
// - a stop requested while the service fails ends Emit with kCancelled, and
//   a restarted process then delivers the whole batch.
//
// A sink's test file instantiates it with harnesses:
//
//   INSTANTIATE_TEST_SUITE_P(Sinks, SinkConformance,
//                            ::testing::Values(SinkFactory{"file", true, [] {...}}),
//                            PrintSinkName);
//
// The suite speaks of records by number: the harness makes the data of
// record i in the form its sink takes, and reads back the numbers of the
// records its sink holds.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "base/retry.h"
#include "kc/emitter.h"
#include "support/fake_clock.h"

namespace kc::testing {

enum class Outage {
  kTransient,  // the service is unavailable or unreachable; it will pass
  kFinal,      // the service refuses the request (access, a missing resource)
};

class SinkHarness {
 public:
  virtual ~SinkHarness() = default;
  // A new emitter on this harness's sink, as a (re)started process builds
  // it, retrying with `retry` (on the suite's fake clock: backoff takes no
  // time). Called again after Break or Heal, the new emitter sees the
  // service as it then is.
  virtual std::unique_ptr<Emitter> Open(RetryPolicy retry, Clock* clock) = 0;
  // The data of record number `i` (0 ≤ i < 1000) in the form the sink takes.
  virtual std::string DataFor(int i) = 0;
  // The numbers of the records the sink holds, in the sink's order.
  virtual std::vector<int> Delivered() = 0;
  // A record the sink refuses for its data; nullopt when it takes any bytes.
  virtual std::optional<std::string> BadData() = 0;
  // Makes the sink's service fail as `outage` says until Heal. False when
  // the sink has no service of that kind to fail (a local file, a pipe).
  virtual bool Break(Outage outage) = 0;
  virtual void Heal() = 0;
};

struct SinkFactory {
  std::string name;
  // A batch emitted twice lands once.
  bool exactly_once = false;
  std::function<std::unique_ptr<SinkHarness>()> make;
};

inline void PrintTo(const SinkFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string PrintSinkName(const ::testing::TestParamInfo<SinkFactory>& info) {
  return info.param.name;
}

class SinkConformance : public ::testing::TestWithParam<SinkFactory> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make();
    if (!harness_)
      GTEST_SKIP() << "the service of the " << GetParam().name << " sink is not running";
  }

  std::unique_ptr<Emitter> Open(int max_attempts = 3) {
    auto emitter =
        harness_->Open(RetryPolicy(RetryOptions{.max_attempts = max_attempts}, &clock_), &clock_);
    // An exception, which the test reports, rather than a null to crash on.
    if (!emitter) throw std::runtime_error(GetParam().name + ": no emitter");
    return emitter;
  }

  // Emits as the pipeline does: through EmitAndCheckpoint when the sink
  // commits the shard's checkpoint with the batch (the state after it:
  // position at its last record, nothing pending).
  static Status Deliver(Emitter& emitter, const Batch& batch, std::stop_token stop = {}) {
    if (!emitter.CommitsCheckpoints() || batch.records.empty()) return emitter.Emit(batch, stop);
    ShardCheckpoint after;
    after.position = batch.last;
    return emitter.EmitAndCheckpoint(batch, ShardKey{"conformance", batch.stream, batch.shard_id},
                                     after, stop);
  }

  // Records first..first+count-1 of shard `shard`, numbered as the suite
  // numbers them, with sequence numbers that sort in that order.
  Batch Records(int first, int count, const std::string& shard = "shardId-000000000004") {
    Batch b;
    b.stream = "conformance";
    b.shard_id = shard;
    for (int i = first; i < first + count; ++i)
      b.records.push_back(RecordOf(i, harness_->DataFor(i)));
    Seal(b);
    return b;
  }

  static Record RecordOf(int i, std::string data) {
    Record r;
    r.data = std::move(data);
    r.partition_key = "key-" + std::to_string(i % 3);
    r.sequence_number = SequenceNumber(i);
    r.approximate_arrival_ms = 1795642616123;
    return r;
  }

  static std::string SequenceNumber(int i) {
    return "496300000000000000000000000000000000000000000000000" + std::to_string(10000 + i);
  }

  // Fills in the batch's range and bytes as the pipeline does.
  static void Seal(Batch& b) {
    b.bytes = 0;
    for (const Record& r : b.records) b.bytes += r.data.size();
    if (!b.records.empty()) {
      b.first = b.records.front().position();
      b.last = b.records.back().position();
      b.first_arrival_ms = b.records.front().approximate_arrival_ms;
    }
  }

  static std::vector<int> Range(int first, int count) {
    std::vector<int> out;
    for (int i = first; i < first + count; ++i) out.push_back(i);
    return out;
  }

  // Each of `want` appears in `got`, in order, at least once, and nothing
  // else does: what at-least-once delivery of a replayed batch gives.
  static ::testing::AssertionResult AtLeastOnceInOrder(const std::vector<int>& got,
                                                       const std::vector<int>& want) {
    std::vector<int> firsts;
    for (int n : got) {
      if (std::find(want.begin(), want.end(), n) == want.end()) {
        return ::testing::AssertionFailure() << "record " << n << " was never emitted";
      }
      if (std::find(firsts.begin(), firsts.end(), n) == firsts.end()) firsts.push_back(n);
    }
    if (firsts != want) {
      return ::testing::AssertionFailure() << "first arrivals " << ::testing::PrintToString(firsts)
                                           << ", want " << ::testing::PrintToString(want);
    }
    return ::testing::AssertionSuccess();
  }

  // What a replay may leave: `want` once with a sink that promises it, at
  // least once in order with any other.
  void ExpectDelivered(const std::vector<int>& want) {
    if (GetParam().exactly_once) {
      EXPECT_EQ(harness_->Delivered(), want);
    } else {
      EXPECT_TRUE(AtLeastOnceInOrder(harness_->Delivered(), want));
    }
  }

  FakeClock clock_;
  std::unique_ptr<SinkHarness> harness_;
};

TEST_P(SinkConformance, EveryRecordLandsInOrder) {
  auto emitter = Open();
  auto s = Deliver(*emitter, Records(0, 5), {});
  ASSERT_TRUE(s) << s.error().ToString();
  s = Deliver(*emitter, Records(5, 3), {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(harness_->Delivered(), Range(0, 8));
  EXPECT_FALSE(emitter->Describe().empty());
}

TEST_P(SinkConformance, ABatchEmittedTwiceLandsOnceWhereTheSinkPromisesIt) {
  const Batch batch = Records(0, 4);
  auto s = Deliver(*Open(), batch, {});
  ASSERT_TRUE(s) << s.error().ToString();
  // The replay of a restarted process: a new emitter, the same batch.
  s = Deliver(*Open(), batch, {});
  ASSERT_TRUE(s) << s.error().ToString();
  ExpectDelivered(Range(0, 4));
}

TEST_P(SinkConformance, AnEmptyBatchSucceedsAndWritesNothing) {
  auto emitter = Open();
  Batch empty;
  empty.stream = "conformance";
  empty.shard_id = "shardId-000000000004";
  auto s = Deliver(*emitter, empty, {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_TRUE(harness_->Delivered().empty());
  s = Deliver(*emitter, Records(0, 2), {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(harness_->Delivered(), Range(0, 2));
}

TEST_P(SinkConformance, ARefusedRecordIsAnInvalidArgumentNamingItsSequenceNumber) {
  const auto bad = harness_->BadData();
  if (!bad) GTEST_SKIP() << GetParam().name << " takes any bytes";
  Batch batch = Records(0, 5);
  batch.records[2] = RecordOf(2, *bad);
  Seal(batch);
  auto emitter = Open();
  auto s = Deliver(*emitter, batch, {});
  ASSERT_FALSE(s) << "a batch holding " << *bad << " was taken";
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument) << s.error().ToString();
  EXPECT_NE(s.error().message().find(SequenceNumber(2)), std::string::npos) << s.error().ToString();
  EXPECT_TRUE(harness_->Delivered().empty()) << "a refused batch landed in part";
  // The rest of the batch, without the record, goes in as usual.
  batch.records.erase(batch.records.begin() + 2);
  Seal(batch);
  s = Deliver(*emitter, batch, {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(harness_->Delivered(), (std::vector<int>{0, 1, 3, 4}));
}

TEST_P(SinkConformance, APassingServiceErrorIsRetriedAndRetriable) {
  if (!harness_->Break(Outage::kTransient)) GTEST_SKIP() << GetParam().name << " has no service";
  auto s = Deliver(*Open(3), Records(0, 3), {});
  ASSERT_FALSE(s) << "emitted while the service was down";
  EXPECT_TRUE(s.error().retriable()) << s.error().ToString();
  EXPECT_FALSE(clock_.sleeps().empty()) << "not retried inside Emit";
  harness_->Heal();
  s = Deliver(*Open(), Records(0, 3), {});
  ASSERT_TRUE(s) << s.error().ToString();
  ExpectDelivered(Range(0, 3));
}

TEST_P(SinkConformance, AFinalServiceErrorIsNotRetried) {
  if (!harness_->Break(Outage::kFinal)) GTEST_SKIP() << GetParam().name << " has no service";
  auto s = Deliver(*Open(5), Records(0, 3), {});
  ASSERT_FALSE(s) << "emitted while the service refused";
  EXPECT_FALSE(s.error().retriable()) << s.error().ToString();
  EXPECT_NE(s.error().code(), ErrorCode::kCancelled) << s.error().ToString();
  EXPECT_TRUE(clock_.sleeps().empty()) << "retried " << clock_.sleeps().size() << " time(s)";
}

TEST_P(SinkConformance, AStopWhileTheServiceFailsIsCancelledAndLosesNothing) {
  if (!harness_->Break(Outage::kTransient)) GTEST_SKIP() << GetParam().name << " has no service";
  std::stop_source stop;
  std::atomic<int> backoffs = 0;
  clock_.OnSleep([&] {
    if (++backoffs == 2) stop.request_stop();
  });
  // Attempts enough that only the stop can end the emit.
  auto s = Deliver(*Open(1000), Records(0, 6), stop.get_token());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kCancelled) << s.error().ToString();
  EXPECT_LT(backoffs.load(), 10) << "kept retrying after the stop";
  clock_.OnSleep({});
  harness_->Heal();
  s = Deliver(*Open(), Records(0, 6), {});
  ASSERT_TRUE(s) << s.error().ToString();
  ExpectDelivered(Range(0, 6));
}

TEST_P(SinkConformance, AStopBeforeTheEmitLosesNothing) {
  std::stop_source stop;
  stop.request_stop();
  auto s = Deliver(*Open(), Records(0, 4), stop.get_token());
  if (!s) {
    EXPECT_EQ(s.error().code(), ErrorCode::kCancelled) << s.error().ToString();
  }
  s = Deliver(*Open(), Records(0, 4), {});
  ASSERT_TRUE(s) << s.error().ToString();
  ExpectDelivered(Range(0, 4));
}

}  // namespace kc::testing
