// KPL aggregates: user records come out with their own partition keys, the
// aggregate's sequence number and arrival time, and their index as
// sub-sequence number; anything that only looks aggregated passes through.
#include "clients/kinesis/deaggregate.h"

#include <gtest/gtest.h>
#include <kpl_aggregate.pb.h>

#include <string>
#include <vector>

#include "clients/aws/crypto.h"

namespace kc::kinesis {
namespace {

Record Outer(std::string data, std::string seq = "4960") {
  Record r;
  r.data = std::move(data);
  r.partition_key = "outer";
  r.sequence_number = std::move(seq);
  r.approximate_arrival_ms = 1'700'000'000'123;
  return r;
}

// An aggregate from a hand-made protobuf message, with a correct MD5.
std::string Wrap(const std::string& message) {
  return std::string(kKplMagic) + message + aws::Md5(message);
}

TEST(DeaggregateTest, UserRecordsKeepTheirKeysAndGetTheirIndexAsSubSequenceNumber) {
  const std::string data = Aggregate(
      {{"alpha", "one"}, {"beta", std::string("t\0wo", 4)}, {"alpha", ""}, {"ключ", "four"}});
  std::vector<Record> out;
  ASSERT_EQ(DeaggregateInto(Outer(data), out), Aggregation::kAggregate);
  ASSERT_EQ(out.size(), 4u);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"alpha", "one"}, {"beta", std::string("t\0wo", 4)}, {"alpha", ""}, {"ключ", "four"}};
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].partition_key, want[i].first);
    EXPECT_EQ(out[i].data, want[i].second);
    EXPECT_EQ(out[i].sequence_number, "4960");
    EXPECT_EQ(out[i].sub_sequence_number, i);
    EXPECT_EQ(out[i].approximate_arrival_ms, 1'700'000'000'123);
  }
}

TEST(DeaggregateTest, WhatOnlyLooksAggregatedPassesThroughWithTheReason) {
  const std::string good = Aggregate({{"k", "v"}});
  std::string why;
  std::vector<Record> out;

  EXPECT_EQ(DeaggregateInto(Outer("plain"), out, &why), Aggregation::kPlain);
  EXPECT_EQ(DeaggregateInto(Outer(std::string(kKplMagic) + "short"), out, &why),
            Aggregation::kMalformed);
  EXPECT_EQ(why, "shorter than the magic and the MD5 trailer");
  std::string bad_md5 = good;
  bad_md5.back() ^= 0x55;
  EXPECT_EQ(DeaggregateInto(Outer(bad_md5), out, &why), Aggregation::kMalformed);
  EXPECT_EQ(why, "the MD5 trailer does not match");
  EXPECT_EQ(DeaggregateInto(Outer(good.substr(0, good.size() - 3)), out, &why),
            Aggregation::kMalformed);
  EXPECT_EQ(DeaggregateInto(Outer(Wrap("\xff\xff\xff not protobuf")), out, &why),
            Aggregation::kMalformed);
  EXPECT_EQ(why, "the protobuf message does not parse");

  kpl::AggregatedRecord aggregate;
  aggregate.add_partition_key_table("only");
  kpl::Record* r = aggregate.add_records();
  r->set_partition_key_index(1);  // out of range
  r->set_data("x");
  EXPECT_EQ(DeaggregateInto(Outer(Wrap(aggregate.SerializeAsString())), out, &why),
            Aggregation::kMalformed);
  EXPECT_EQ(why, "a partition key index is out of range");
  EXPECT_TRUE(out.empty()) << "nothing is appended for a record that is not an aggregate";
}

TEST(DeaggregateTest, AKeyLongerThanKinesisAllowsMakesTheAggregateMalformed) {
  // Thousands of empty records sharing one long key: each would get its own
  // copy of the key, an expansion of some 15,000 times.
  std::vector<std::pair<std::string, std::string>> users(3000, {std::string(65536, 'k'), ""});
  const std::string bomb = Aggregate(users);
  ASSERT_LT(bomb.size(), 100'000u);
  std::vector<Record> out;
  std::string why;
  EXPECT_EQ(DeaggregateInto(Outer(bomb), out, &why), Aggregation::kMalformed);
  EXPECT_EQ(why, "a partition key is longer than 256 bytes");
  EXPECT_TRUE(out.empty());
  // Up to 256 bytes is a key Kinesis takes.
  EXPECT_EQ(DeaggregateInto(Outer(Aggregate({{std::string(256, 'k'), "x"}})), out, &why),
            Aggregation::kAggregate);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].partition_key.size(), 256u);
}

TEST(DeaggregateTest, APageIsExpandedInOrderAndOneWithoutAggregatesIsUntouched) {
  std::vector<Record> page = {Outer("a", "1"), Outer(Aggregate({{"k", "b"}, {"k", "c"}}), "2"),
                              Outer(std::string(kKplMagic) + "not one", "3"), Outer("d", "4")};
  DeaggregateCounts counts = Deaggregate(page);
  EXPECT_EQ(counts.aggregates, 1u);
  EXPECT_EQ(counts.user_records, 2u);
  EXPECT_EQ(counts.malformed, 1u);
  EXPECT_EQ(counts.first_malformed, "3: shorter than the magic and the MD5 trailer");
  std::vector<std::string> got;
  for (const auto& r : page) got.push_back(r.data + "@" + r.sequence_number);
  EXPECT_EQ(got, (std::vector<std::string>{"a@1", "b@2", "c@2",
                                           std::string(kKplMagic) + "not one@3", "d@4"}));

  std::vector<Record> plain = {Outer("x"), Outer("y")};
  const Record* storage = plain.data();
  counts = Deaggregate(plain);
  EXPECT_EQ(counts.aggregates + counts.malformed, 0u);
  EXPECT_EQ(plain.data(), storage);
}

TEST(DeaggregateTest, APageIsExpandedInPartsThatHoldAtMostTheLimit) {
  std::vector<std::pair<std::string, std::string>> users;
  for (int i = 0; i < 10; ++i) users.emplace_back("key", std::string(100, 'a' + i));
  const std::string aggregate = Aggregate(users);
  std::vector<Record> page = {Outer("first", "1"), Outer(aggregate, "2"), Outer(aggregate, "3"),
                              Outer("last", "4")};
  std::vector<Record> whole = page;
  const DeaggregateCounts all = Deaggregate(whole);
  ASSERT_EQ(whole.size(), 22u);

  // Room for one aggregate's user records and a little more, not two.
  const uint64_t one = 10 * (sizeof(Record) + 100 + 3 + 1);
  const uint64_t limit = one + 200;
  std::vector<Record> got;
  std::vector<size_t> sizes;
  uint64_t aggregates = 0;
  size_t next = 0;
  while (next < page.size()) {
    std::vector<Record> part;
    const DeaggregateCounts counts = DeaggregatePart(page, next, part, limit);
    aggregates += counts.aggregates;
    EXPECT_EQ(counts.malformed, 0u);
    uint64_t held = 0;
    for (const Record& r : part) held += HeldBytes(r);
    EXPECT_LE(held, limit);
    sizes.push_back(part.size());
    for (Record& r : part) got.push_back(std::move(r));
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{11, 11}));
  EXPECT_EQ(aggregates, all.aggregates);
  ASSERT_EQ(got.size(), whole.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].data, whole[i].data) << i;
    EXPECT_EQ(got[i].position(), whole[i].position()) << i;
  }
}

TEST(DeaggregateTest, AnAggregateWhoseUserRecordsAloneHoldMoreThanTheLimitIsMalformed) {
  // 20,000 empty user records under one key of 200 bytes: under 200 KB on
  // the wire, some 7 MB once each record has its own copy of the key.
  std::vector<std::pair<std::string, std::string>> users(20'000, {std::string(200, 'k'), ""});
  const std::string aggregate = Aggregate(users);
  ASSERT_LT(aggregate.size(), 200'000u);
  std::vector<Record> page = {Outer("before", "1"), Outer(aggregate, "2"), Outer("after", "3")};
  size_t next = 0;
  std::vector<Record> part;
  // The first part ends before it: it does not fit in what is left.
  DeaggregateCounts counts = DeaggregatePart(page, next, part, 1 << 20);
  EXPECT_EQ(next, 1u);
  EXPECT_EQ(counts.malformed, 0u);
  ASSERT_EQ(part.size(), 1u);
  // The next starts with it, and it would not fit in a whole part either.
  counts = DeaggregatePart(page, next, part, 1 << 20);
  EXPECT_EQ(next, 3u);
  EXPECT_EQ(counts.aggregates, 0u);
  EXPECT_EQ(counts.malformed, 1u);
  EXPECT_EQ(counts.first_malformed, "2: its user records would hold more than 1 MiB in memory");
  ASSERT_EQ(part.size(), 2u);
  EXPECT_EQ(part[0].data, aggregate) << "passed on whole";
  EXPECT_EQ(part[1].data, "after");
}

}  // namespace
}  // namespace kc::kinesis
