// The kinesis emitter against the fake Kinesis behind the HTTP transport
// seam and the fake clock: calls within PutRecords' limits, partition keys
// from the three sources, bad records refused before anything is put, only
// refused records sent again, and the order per key kept when asked.
#include "sinks/kinesis/kinesis_emitter.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support/batches.h"
#include "support/fake_clock.h"
#include "support/fake_kinesis.h"

namespace kc::emitter {
namespace {

using KeySource = KinesisSettings::KeySource;

constexpr char kTargetShard[] = "shardId-000000000000";

class KinesisEmitterTest : public ::testing::Test {
 protected:
  void SetUp() override { kinesis_->AddShard(kTargetShard); }

  static KinesisSettings Config(KeySource source = KeySource::kSource, bool ordered = false) {
    KinesisSettings config;
    config.stream = "copy";
    config.partition_key = source;
    config.ordered = ordered;
    return config;
  }

  std::unique_ptr<KinesisEmitter> Make(const KinesisSettings& config, int max_attempts = 4) {
    // One attempt per call in the client, as the daemon builds it.
    auto e = KinesisEmitter::Create(
        config, std::make_shared<kinesis::KinesisClient>(kinesis_->Client(kinesis_, &clock_, 1)),
        RetryPolicy(RetryOptions{.max_attempts = max_attempts}, &clock_), &clock_);
    EXPECT_TRUE(e) << e.error().ToString();
    return std::move(*e);
  }

  // Records with the given data and partition keys (one key per record).
  static Batch Keyed(const std::vector<std::string>& data, const std::vector<std::string>& keys) {
    Batch b = testing::BatchOf("shardId-000000000007", data);
    for (size_t i = 0; i < keys.size(); ++i) b.records[i].partition_key = keys[i];
    return b;
  }

  std::vector<Record> Landed() { return kinesis_->Records(kTargetShard); }

  // The data of the landed records, per partition key, in landing order.
  std::map<std::string, std::vector<std::string>> LandedByKey() {
    std::map<std::string, std::vector<std::string>> out;
    for (const Record& r : Landed()) out[r.partition_key].push_back(r.data);
    return out;
  }

  testing::FakeClock clock_;
  std::shared_ptr<testing::FakeKinesis> kinesis_ = std::make_shared<testing::FakeKinesis>();
};

TEST_F(KinesisEmitterTest, PutsEveryRecordWithItsSourcePartitionKey) {
  auto e = Make(Config());
  const std::string binary("b\n\x00\xff", 4);
  ASSERT_TRUE(e->Emit(Keyed({"a", binary, "c"}, {"k1", "k2", "k1"}), {}));
  const auto landed = Landed();
  ASSERT_EQ(landed.size(), 3u);
  EXPECT_EQ(landed[0].data, "a");
  EXPECT_EQ(landed[0].partition_key, "k1");
  EXPECT_EQ(landed[1].data, binary);
  EXPECT_EQ(landed[1].partition_key, "k2");
  EXPECT_EQ(landed[2].partition_key, "k1");
  EXPECT_EQ(kinesis_->PutRecordsSizes(), std::vector<size_t>{3});
  EXPECT_NE(e->Describe().find("Kinesis stream copy"), std::string::npos) << e->Describe();
  EXPECT_NE(e->Describe().find("at least once"), std::string::npos) << e->Describe();
}

TEST_F(KinesisEmitterTest, CallsHoldAtMost500Records) {
  auto e = Make(Config());
  std::vector<std::string> data(1200, "r");
  std::vector<std::string> keys(1200, "k");
  ASSERT_TRUE(e->Emit(Keyed(data, keys), {}));
  EXPECT_EQ(kinesis_->PutRecordsSizes(), (std::vector<size_t>{500, 500, 200}));
  EXPECT_EQ(Landed().size(), 1200u);
}

TEST_F(KinesisEmitterTest, CallsHoldAtMost5MiBOfDataAndPartitionKeys) {
  auto e = Make(Config());
  // Five records of 1,000,001 bytes with their keys fit in 5 MiB, six do not.
  std::vector<std::string> data(11, std::string(1'000'000, 'x'));
  std::vector<std::string> keys(11, "k");
  ASSERT_TRUE(e->Emit(Keyed(data, keys), {}));
  EXPECT_EQ(kinesis_->PutRecordsSizes(), (std::vector<size_t>{5, 5, 1}));
  EXPECT_EQ(Landed().size(), 11u);
}

TEST_F(KinesisEmitterTest, ARecordOverOneMiBIsABadRecordAndNothingOfTheBatchIsPut) {
  auto e = Make(Config());
  // Exactly 1 MiB with its key passes; one byte more does not.
  const Batch fits = Keyed({std::string((1 << 20) - 2, 'x')}, {"kk"});
  ASSERT_TRUE(e->Emit(fits, {}));
  const Batch b = Keyed({"small", std::string((1 << 20) - 1, 'x')}, {"k", "kk"});
  Status s = e->Emit(b, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(s.error().retriable());
  const std::string message = s.error().message();
  EXPECT_NE(message.find("stream events shard shardId-000000000007 at sequence number " +
                         b.records[1].sequence_number),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("1048577 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("1 MiB"), std::string::npos) << message;
  EXPECT_NE(message.find("stream copy"), std::string::npos) << message;
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 1);  // the record that fits, alone
  EXPECT_EQ(Landed().size(), 1u);
}

TEST_F(KinesisEmitterTest, PartitionKeysMustHave1To256Characters) {
  auto e = Make(Config());
  EXPECT_TRUE(e->Emit(Keyed({"a"}, {std::string(256, 'k')}), {}));
  // 255 characters and one beyond the BMP: 257 as Kinesis counts.
  Status s = e->Emit(Keyed({"a"}, {std::string(255, 'k') + "\xF0\x9F\x99\x82"}), {});
  ASSERT_FALSE(s);
  EXPECT_FALSE(s.error().retriable());
  EXPECT_NE(s.error().message().find("has 257 characters"), std::string::npos)
      << s.error().message();
  s = e->Emit(Keyed({"a"}, {""}), {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("has 0 characters"), std::string::npos) << s.error().message();
  EXPECT_EQ(Landed().size(), 1u);
}

TEST_F(KinesisEmitterTest, PartitionKeysFromAFieldOfEachRecord) {
  KinesisSettings config = Config(KeySource::kField);
  config.partition_key_field = *util::JsonPath::Parse("user.id");
  auto e = Make(config);
  ASSERT_TRUE(e->Emit(Keyed({R"({"user": {"id": "u-é"}, "n": 1})", R"({"user": {"id": 42.50}})"},
                            {"source-key", "source-key"}),
                      {}));
  const auto landed = Landed();
  ASSERT_EQ(landed.size(), 2u);
  EXPECT_EQ(landed[0].partition_key, "u-é");
  EXPECT_EQ(landed[1].partition_key, "42.50");  // a number as written
  EXPECT_NE(e->Describe().find("field user.id"), std::string::npos) << e->Describe();
}

TEST_F(KinesisEmitterTest, ARecordWithoutTheKeyFieldIsABadRecord) {
  KinesisSettings config = Config(KeySource::kField);
  config.partition_key_field = *util::JsonPath::Parse("user.id");
  auto e = Make(config);
  const struct {
    const char* data;
    const char* says;
  } cases[] = {
      {R"({"user": {}})", "is missing"},
      {R"({"user": {"id": null}})", "is null"},
      {R"({"user": {"id": true}})", "is a boolean"},
      {R"({"user": {"id": {"x": 1}}})", "is an object"},
      {"not json", "JSON object"},
      {"[1, 2]", "JSON object"},
      {R"({"user": {"id": ""}})", "has 0 characters"},
  };
  for (const auto& c : cases) {
    const Batch b = Keyed({R"({"user": {"id": "fine"}})", c.data}, {"k", "k"});
    Status s = e->Emit(b, {});
    ASSERT_FALSE(s) << c.data;
    EXPECT_FALSE(s.error().retriable()) << c.data;
    const std::string message = s.error().message();
    EXPECT_NE(message.find("at sequence number " + b.records[1].sequence_number), std::string::npos)
        << message;
    EXPECT_NE(message.find("user.id"), std::string::npos) << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
  }
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 0);
}

TEST_F(KinesisEmitterTest, OneConstantPartitionKey) {
  KinesisSettings config = Config(KeySource::kConstant);
  config.partition_key_value = "all";
  auto e = Make(config);
  ASSERT_TRUE(e->Emit(Keyed({"a", "b"}, {"k1", "k2"}), {}));
  EXPECT_EQ(LandedByKey(), (std::map<std::string, std::vector<std::string>>{{"all", {"a", "b"}}}));
}

TEST_F(KinesisEmitterTest, AConstantKeyOfTheWrongLengthIsAConfigError) {
  KinesisSettings config = Config(KeySource::kConstant);
  config.partition_key_value = std::string(257, 'k');
  auto e = KinesisEmitter::Create(
      config, std::make_shared<kinesis::KinesisClient>(kinesis_->Client(kinesis_, &clock_, 1)));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), ErrorCode::kConfig);
}

TEST_F(KinesisEmitterTest, OnlyRefusedRecordsAreSentAgainAfterABackoff) {
  auto e = Make(Config());
  kinesis_->RefuseNextPuts(2, "ProvisionedThroughputExceededException");
  ASSERT_TRUE(e->Emit(Keyed({"a", "b", "c", "d", "e"}, {"k1", "k2", "k3", "k4", "k5"}), {}));
  EXPECT_EQ(kinesis_->PutRecordsSizes(), (std::vector<size_t>{5, 2}));
  EXPECT_EQ(clock_.sleeps().size(), 1u);
  std::vector<std::string> landed;
  for (const Record& r : Landed()) landed.push_back(r.data);
  EXPECT_EQ(landed, (std::vector<std::string>{"c", "d", "e", "a", "b"}));
}

TEST_F(KinesisEmitterTest, WithoutOrderARetriedRecordLandsAfterLaterOnesOfItsKey) {
  auto e = Make(Config());
  kinesis_->RefuseNextPuts(1, "ProvisionedThroughputExceededException");
  ASSERT_TRUE(e->Emit(Keyed({"a1", "a2", "b1"}, {"a", "a", "b"}), {}));
  EXPECT_EQ(LandedByKey()["a"], (std::vector<std::string>{"a2", "a1"}));
}

TEST_F(KinesisEmitterTest, OrderedKeepsTheOrderPerKeyThroughRetries) {
  auto e = Make(Config(KeySource::kSource, /*ordered=*/true));
  kinesis_->RefuseNextPuts(1, "ProvisionedThroughputExceededException");
  ASSERT_TRUE(e->Emit(Keyed({"a1", "a2", "b1", "a3", "b2"}, {"a", "a", "b", "a", "b"}), {}));
  const auto by_key = LandedByKey();
  EXPECT_EQ(by_key.at("a"), (std::vector<std::string>{"a1", "a2", "a3"}));
  EXPECT_EQ(by_key.at("b"), (std::vector<std::string>{"b1", "b2"}));
  // One record per key in each call.
  for (size_t n : kinesis_->PutRecordsSizes()) EXPECT_LE(n, 2u);
}

TEST_F(KinesisEmitterTest, AFailedCallIsSentAgainByTheEmitterAlone) {
  auto e = Make(Config());
  kinesis_->FailNext("PutRecords", 500, "InternalFailure");
  ASSERT_TRUE(e->Emit(Keyed({"a", "b"}, {"k", "k"}), {}));
  // The client made one attempt; the emitter sent the call again.
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 2);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
  EXPECT_EQ(Landed().size(), 2u);
}

TEST_F(KinesisEmitterTest, AMissingTargetStreamIsAFinalError) {
  auto e = Make(Config());
  kinesis_->FailNext("PutRecords", 400, "ResourceNotFoundException");
  Status s = e->Emit(Keyed({"a"}, {"k"}), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(s.error().message().find("on stream copy"), std::string::npos) << s.error().message();
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 1);
}

TEST_F(KinesisEmitterTest, ARecordRefusedForGoodEndsTheEmitNamingIt) {
  auto e = Make(Config());
  kinesis_->RefuseNextPuts(1, "KMSAccessDeniedException");
  const Batch b = Keyed({"a", "b"}, {"k", "k"});
  Status s = e->Emit(b, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kAuth);
  EXPECT_NE(s.error().message().find("at sequence number " + b.records[0].sequence_number),
            std::string::npos)
      << s.error().message();
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 1);
}

TEST_F(KinesisEmitterTest, RecordsRefusedEveryTimeSpendTheRetryBudget) {
  auto e = Make(Config(), /*max_attempts=*/3);
  kinesis_->RefuseNextPuts(100, "ProvisionedThroughputExceededException");
  Status s = e->Emit(Keyed({"a", "b"}, {"k", "k"}), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kThrottled);
  EXPECT_NE(s.error().message().find("stream copy"), std::string::npos) << s.error().message();
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 3);
}

TEST_F(KinesisEmitterTest, AStopEndsTheRetriesWithCancelled) {
  auto e = Make(Config());
  kinesis_->RefuseNextPuts(100, "ProvisionedThroughputExceededException");
  std::stop_source stop;
  clock_.OnSleep([&] { stop.request_stop(); });
  Status s = e->Emit(Keyed({"a"}, {"k"}), stop.get_token());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kCancelled);
}

}  // namespace
}  // namespace kc::emitter
