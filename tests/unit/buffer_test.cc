#include <gtest/gtest.h>

#include "kc/buffer.h"
#include "support/fake_clock.h"

namespace kc {
namespace {

using namespace std::chrono_literals;

Record Rec(int seq, std::string data) {
  Record r;
  r.sequence_number = std::to_string(seq);
  r.data = std::move(data);
  r.partition_key = "k";
  r.approximate_arrival_ms = 1000 + seq;
  return r;
}

BufferConfig Config(uint64_t records, uint64_t bytes, std::chrono::milliseconds age) {
  BufferConfig c;
  c.max_records = records;
  c.max_bytes = bytes;
  c.max_age = age;
  return c;
}

TEST(ThresholdBuffer, FlushesAtRecordCount) {
  testing::FakeClock clock;
  ThresholdBuffer b(Config(3, 1 << 20, 1h));
  b.Add(Rec(1, "a"), true, clock.Now());
  b.Add(Rec(2, "b"), true, clock.Now());
  EXPECT_FALSE(b.ShouldFlush(clock.Now()));
  b.Add(Rec(3, "c"), true, clock.Now());
  EXPECT_TRUE(b.ShouldFlush(clock.Now()));
  Batch batch = b.Take();
  ASSERT_EQ(batch.records.size(), 3u);
  EXPECT_EQ(batch.first.sequence_number, "1");
  EXPECT_EQ(batch.last.sequence_number, "3");
  EXPECT_EQ(batch.first_arrival_ms, 1001);
  EXPECT_EQ(batch.bytes, 3u);
  EXPECT_TRUE(b.Empty());
  EXPECT_FALSE(b.ShouldFlush(clock.Now()));
}

TEST(ThresholdBuffer, FlushesAtTheBytesTheRecordsHold) {
  testing::FakeClock clock;
  const uint64_t held = HeldBytes(Rec(1, "12345"));
  EXPECT_EQ(held, sizeof(Record) + 5 + 1 + 1);  // data, key, sequence number
  ThresholdBuffer b(Config(1000, 2 * held, 1h));
  b.Add(Rec(1, "12345"), true, clock.Now());
  EXPECT_FALSE(b.ShouldFlush(clock.Now()));
  EXPECT_EQ(b.Bytes(), held);
  b.Add(Rec(2, "12345"), true, clock.Now());
  EXPECT_TRUE(b.ShouldFlush(clock.Now()));
  EXPECT_EQ(b.Take().bytes, 10u) << "the batch still reports its data bytes";
  EXPECT_EQ(b.Bytes(), 0u);
}

TEST(ThresholdBuffer, KeysCountAgainstTheByteThreshold) {
  // Records without data whose keys are as long as Kinesis allows: a
  // threshold that counted data only would never cut them by size.
  testing::FakeClock clock;
  ThresholdBuffer b(Config(1'000'000, 4096, 1h));
  int added = 0;
  uint64_t last = 0;
  while (!b.ShouldFlush(clock.Now())) {
    Record r = Rec(++added, "");
    r.partition_key.assign(256, 'k');
    last = HeldBytes(r);
    b.Add(std::move(r), true, clock.Now());
  }
  // Cut at the record that reached 4 KiB: about 11 records, not a million.
  EXPECT_GE(b.Bytes(), 4096u);
  EXPECT_LT(b.Bytes() - last, 4096u);
  EXPECT_LE(added, 12);
  EXPECT_EQ(b.Take().bytes, 0u);
}

TEST(ThresholdBuffer, FlushesAtAgeWithoutNewRecords) {
  testing::FakeClock clock;
  ThresholdBuffer b(Config(1000, 1 << 20, 30s));
  EXPECT_FALSE(b.Deadline().has_value());
  b.Add(Rec(1, "x"), true, clock.Now());
  ASSERT_TRUE(b.Deadline().has_value());
  EXPECT_EQ(*b.Deadline(), clock.Now() + 30s);
  clock.Advance(29s);
  EXPECT_FALSE(b.ShouldFlush(clock.Now()));
  clock.Advance(1s);
  EXPECT_TRUE(b.ShouldFlush(clock.Now()));
}

TEST(ThresholdBuffer, AgeCountsFromFirstRecordAfterTake) {
  testing::FakeClock clock;
  ThresholdBuffer b(Config(1000, 1 << 20, 10s));
  b.Add(Rec(1, "x"), true, clock.Now());
  clock.Advance(10s);
  ASSERT_TRUE(b.ShouldFlush(clock.Now()));
  b.Take();
  clock.Advance(5s);
  b.Add(Rec(2, "y"), true, clock.Now());
  EXPECT_FALSE(b.ShouldFlush(clock.Now()));
  clock.Advance(10s);
  EXPECT_TRUE(b.ShouldFlush(clock.Now()));
}

TEST(ThresholdBuffer, DroppedRecordsWidenTheRangeButAreNotStored) {
  testing::FakeClock clock;
  ThresholdBuffer b(Config(2, 1 << 20, 1h));
  b.Add(Rec(1, "drop"), false, clock.Now());
  b.Add(Rec(2, "keep"), true, clock.Now());
  b.Add(Rec(3, "drop"), false, clock.Now());
  EXPECT_FALSE(b.ShouldFlush(clock.Now()));  // one kept record of two
  EXPECT_FALSE(b.Empty());
  Batch batch = b.Take();
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].data, "keep");
  EXPECT_EQ(batch.first.sequence_number, "1");
  EXPECT_EQ(batch.last.sequence_number, "3");
  EXPECT_EQ(batch.bytes, 4u);
}

}  // namespace
}  // namespace kc
