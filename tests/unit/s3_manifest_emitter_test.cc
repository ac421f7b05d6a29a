// The s3_manifest emitter against fakes of S3 and Kinesis behind the HTTP
// transport seam: the object is written first, its key goes on the manifest
// stream second, and Emit succeeds only when both did.
#include "sinks/s3_manifest/s3_manifest_emitter.h"

#include <gtest/gtest.h>

#include "support/batches.h"
#include "support/fake_clock.h"
#include "support/fake_kinesis.h"
#include "support/fake_s3.h"

namespace kc::emitter {
namespace {

class S3ManifestEmitterTest : public ::testing::Test {
 protected:
  void SetUp() override { kinesis_->AddShard("shardId-000000000000"); }

  std::unique_ptr<S3ManifestEmitter> Make(std::string partition_key = "") {
    S3Settings config;
    config.bucket = "bkt";
    config.prefix = "raw";
    config.key = *KeyTemplate::Parse("{shard}/{first}-{last}");
    auto client = std::make_shared<aws::S3Client>(
        aws::S3Options{"http://127.0.0.1:9", "us-east-1", true}, s3_,
        std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"AKID", "secret", ""}),
        RetryPolicy(RetryOptions{.max_attempts = 3}, &clock_), &clock_);
    return std::make_unique<S3ManifestEmitter>(
        std::make_unique<S3Emitter>(client, config),
        std::make_shared<kinesis::KinesisClient>(kinesis_->Client(kinesis_, &clock_)), "manifest",
        std::move(partition_key), RetryPolicy(RetryOptions{.max_attempts = 3}, &clock_));
  }

  static Batch MakeBatch(const std::string& shard, int first, int count) {
    std::vector<std::string> data;
    for (int i = first; i < first + count; ++i) data.push_back("record-" + std::to_string(i));
    return testing::BatchOf(shard, data, first);
  }

  std::vector<Record> ManifestRecords() { return kinesis_->Records("shardId-000000000000"); }

  testing::FakeClock clock_;
  std::shared_ptr<testing::FakeS3> s3_ = std::make_shared<testing::FakeS3>();
  std::shared_ptr<testing::FakeKinesis> kinesis_ = std::make_shared<testing::FakeKinesis>();
};

TEST_F(S3ManifestEmitterTest, WritesTheObjectThenPutsItsKeyInOrder) {
  auto e = Make();
  const Batch a = MakeBatch("shardId-000000000001", 0, 3);
  const Batch b = MakeBatch("shardId-000000000002", 3, 2);
  ASSERT_TRUE(e->Emit(a, {}));
  ASSERT_TRUE(e->Emit(b, {}));

  const std::string key_a =
      "raw/shardId-000000000001/" + a.first.sequence_number + "-" + a.last.sequence_number;
  const std::string key_b =
      "raw/shardId-000000000002/" + b.first.sequence_number + "-" + b.last.sequence_number;
  ASSERT_TRUE(s3_->objects.contains("http://127.0.0.1:9/bkt/" + key_a));
  EXPECT_EQ(s3_->objects["http://127.0.0.1:9/bkt/" + key_a], "record-0\nrecord-1\nrecord-2\n");
  const auto records = ManifestRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].data, key_a);
  EXPECT_EQ(records[1].data, key_b);
  // One partition key for every key, the source stream's name by default,
  // so that the keys stay on one shard in the order they were written.
  EXPECT_EQ(records[0].partition_key, "events");
  EXPECT_EQ(records[1].partition_key, "events");
  EXPECT_NE(e->Describe().find("manifest stream manifest"), std::string::npos) << e->Describe();
}

TEST_F(S3ManifestEmitterTest, UsesTheConfiguredPartitionKey) {
  auto e = Make("all-keys");
  ASSERT_TRUE(e->Emit(MakeBatch("shardId-000000000001", 0, 1), {}));
  ASSERT_EQ(ManifestRecords().size(), 1u);
  EXPECT_EQ(ManifestRecords()[0].partition_key, "all-keys");
}

TEST_F(S3ManifestEmitterTest, AFailedUploadPutsNoKey) {
  auto e = Make();
  // Every attempt at the object fails: the key must not reach the manifest
  // stream, or its reader would look for an object that is not there.
  s3_->fail_all_puts = true;
  Status s = e->Emit(MakeBatch("shardId-000000000001", 0, 2), {});
  ASSERT_FALSE(s);
  EXPECT_TRUE(ManifestRecords().empty());
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 0);
}

TEST_F(S3ManifestEmitterTest, ARefusedKeyIsPutAgain) {
  auto e = Make();
  kinesis_->RefuseNextPuts(1, "ProvisionedThroughputExceededException");
  ASSERT_TRUE(e->Emit(MakeBatch("shardId-000000000001", 0, 2), {}));
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 2);
  ASSERT_EQ(ManifestRecords().size(), 1u);
}

TEST_F(S3ManifestEmitterTest, AKeyRefusedEveryTimeFailsTheBatchNamingTheStream) {
  auto e = Make();
  kinesis_->RefuseNextPuts(10, "InternalFailure");
  Status s = e->Emit(MakeBatch("shardId-000000000001", 0, 2), {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().ToString().find("manifest stream manifest"), std::string::npos)
      << s.error().ToString();
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 3);
  EXPECT_TRUE(ManifestRecords().empty());
}

TEST_F(S3ManifestEmitterTest, AMissingManifestStreamIsAFinalError) {
  auto e = Make();
  kinesis_->FailNext("PutRecords", 400, "ResourceNotFoundException");
  Status s = e->Emit(MakeBatch("shardId-000000000001", 0, 2), {});
  ASSERT_FALSE(s);
  EXPECT_FALSE(s.error().retriable());
  EXPECT_EQ(kinesis_->Calls("PutRecords"), 1);
}

TEST_F(S3ManifestEmitterTest, AReplayWritesTheSameObjectAndPutsTheKeyAgain) {
  // A crash after the put but before the checkpoint replays the batch: the
  // object is rewritten under the same key and the key is put again; the
  // manifest's reader skips files it has loaded.
  auto e = Make();
  const Batch a = MakeBatch("shardId-000000000001", 0, 3);
  ASSERT_TRUE(e->Emit(a, {}));
  ASSERT_TRUE(e->Emit(a, {}));
  EXPECT_EQ(s3_->objects.size(), 1u);
  const auto records = ManifestRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].data, records[1].data);
}

}  // namespace
}  // namespace kc::emitter
