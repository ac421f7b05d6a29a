// The S3 emitter against a fake S3 behind the HTTP transport seam: object
// keys, single PUT versus multipart, retrying only the failed part, and
// aborting an unfinished upload (which the local stand-in cannot do).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>

#include "base/compression.h"
#include "sinks/s3/s3_emitter.h"
#include "support/batches.h"
#include "support/fake_clock.h"
#include "support/fake_s3.h"

namespace kc::emitter {
namespace {

class S3EmitterTest : public ::testing::Test {
 protected:
  std::unique_ptr<S3Emitter> Make(S3Settings config) {
    if (config.bucket.empty()) config.bucket = "bkt";
    auto client = std::make_shared<aws::S3Client>(
        aws::S3Options{"http://127.0.0.1:9", "us-east-1", true}, fake_,
        std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"AKID", "secret", ""}),
        RetryPolicy(RetryOptions{.max_attempts = 4}, &clock_), &clock_);
    return std::make_unique<S3Emitter>(client, config);
  }

  static Batch MakeBatch(size_t records, size_t size) {
    std::vector<std::string> data;
    for (size_t i = 0; i < records; ++i) data.emplace_back(size, static_cast<char>('a' + i % 26));
    return testing::BatchOf("shardId-000000000001", data);
  }

  testing::FakeClock clock_;
  std::shared_ptr<testing::FakeS3> fake_ = std::make_shared<testing::FakeS3>();
};

TEST_F(S3EmitterTest, DefaultKeyIsTheOriginalLibrarysPrefixDateFirstLast) {
  S3Settings c;
  c.prefix = "raw";
  auto e = Make(c);
  Batch b = MakeBatch(3, 10);
  EXPECT_EQ(e->KeyFor(b),
            "raw/2026/11/25/49600000000000000000000000000000000000000000000000001000-"
            "49600000000000000000000000000000000000000000000000001002");
  ASSERT_TRUE(e->Emit(b, {}));
  ASSERT_EQ(fake_->objects.size(), 1u);
  EXPECT_EQ(fake_->objects.begin()->first,
            "http://127.0.0.1:9/bkt/raw/2026/11/25/"
            "49600000000000000000000000000000000000000000000000001000-"
            "49600000000000000000000000000000000000000000000000001002");
  EXPECT_EQ(fake_->objects.begin()->second, std::string(10, 'a') + "\n" + std::string(10, 'b') +
                                                "\n" + std::string(10, 'c') + "\n");
}

TEST_F(S3EmitterTest, CompressedObjectsCarryTheExtensionAndDecompress) {
  S3Settings c;
  c.compression = Compression::kGzip;
  c.format = FileFormat::kEnvelope;
  c.key = *KeyTemplate::Parse("{stream}/{shard}/{first}-{last}.{ext}");
  c.server_side_encryption = "AES256";
  auto e = Make(c);
  Batch b = MakeBatch(2, 5);
  ASSERT_TRUE(e->Emit(b, {}));
  ASSERT_EQ(fake_->objects.size(), 1u);
  const auto& [url, body] = *fake_->objects.begin();
  EXPECT_TRUE(url.ends_with(".jsonl.gz")) << url;
  EXPECT_NE(url.find("/bkt/events/shardId-000000000001/"), std::string::npos) << url;
  auto plain = util::Decompress(body, Compression::kGzip);
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->find(
                "\"sequence_number\":\"49600000000000000000000000000000000000000000000000001000\""),
            std::string::npos);
  bool sse = false;
  for (const auto& h : fake_->headers[url]) {
    if (h.name == "x-amz-server-side-encryption" || h.name == "X-Amz-Server-Side-Encryption") {
      sse = h.value == "AES256";
    }
  }
  EXPECT_TRUE(sse);
  // Without {ext} in the template the compression's extension is still added.
  S3Settings d;
  d.compression = Compression::kZstd;
  EXPECT_TRUE(Make(d)->KeyFor(b).ends_with(".zst"));
}

TEST_F(S3EmitterTest, LargeBatchesGoMultipartAndOnlyTheFailedPartIsRetried) {
  S3Settings c;
  c.part_size = 5u << 20;
  c.format = FileFormat::kRaw;
  auto e = Make(c);
  Batch b = MakeBatch(12, 1u << 20);  // 12 MiB: parts of 5, 5 and 2 MiB
  fake_->fail_part[2] = 2;
  ASSERT_TRUE(e->Emit(b, {}));
  EXPECT_EQ(fake_->Count("POST", "?uploads"), 1);
  EXPECT_EQ(fake_->Count("PUT", "partNumber=1&"), 1);
  EXPECT_EQ(fake_->Count("PUT", "partNumber=2&"), 3);  // two failures, then success
  EXPECT_EQ(fake_->Count("PUT", "partNumber=3&"), 1);
  EXPECT_EQ(fake_->Count("POST", "?uploadId="), 1);
  EXPECT_FALSE(fake_->aborted);
  std::string expected;
  for (const auto& r : b.records) expected += r.data;
  ASSERT_EQ(fake_->objects.size(), 1u);
  EXPECT_EQ(fake_->objects.begin()->second, expected);
  EXPECT_EQ(fake_->parts[1].size(), 5u << 20);
  EXPECT_EQ(fake_->parts[3].size(), 2u << 20);
}

TEST_F(S3EmitterTest, AFailedUploadIsAbortedAndReported) {
  S3Settings c;
  c.part_size = 5u << 20;
  c.format = FileFormat::kRaw;
  auto e = Make(c);
  fake_->fail_part[2] = 100;  // beyond the retry budget
  auto s = e->Emit(MakeBatch(12, 1u << 20), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(fake_->aborted);
  EXPECT_EQ(fake_->Count("PUT", "partNumber=3&"), 0);  // stopped at the failed part
  EXPECT_EQ(fake_->Count("POST", "?uploadId="), 0);    // never completed
  EXPECT_TRUE(fake_->objects.empty());
}

TEST_F(S3EmitterTest, ShutdownDuringAnUploadAbortsIt) {
  S3Settings c;
  c.part_size = 5u << 20;
  c.format = FileFormat::kRaw;
  auto e = Make(c);
  std::stop_source stop;
  fake_->fail_part[2] = 100;
  fake_->on_part = [&](int number) {
    if (number == 2) stop.request_stop();
  };
  auto s = e->Emit(MakeBatch(12, 1u << 20), stop.get_token());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kCancelled);
  EXPECT_TRUE(fake_->aborted);  // sent although the stop was requested
  EXPECT_TRUE(fake_->objects.empty());
}

TEST_F(S3EmitterTest, ACompleteWhoseAnswerWasLostIsNotAFailure) {
  S3Settings c;
  c.part_size = 5u << 20;
  c.format = FileFormat::kRaw;
  auto e = Make(c);
  fake_->complete_answers_lost = 1;
  auto s = e->Emit(MakeBatch(12, 1u << 20), {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(fake_->Count("POST", "?uploadId="), 2);
  EXPECT_EQ(fake_->Count("HEAD", "/bkt/"), 1);
  EXPECT_FALSE(fake_->aborted);
  EXPECT_EQ(fake_->objects.size(), 1u);
}

TEST_F(S3EmitterTest, ReplayWritesTheSameKey) {
  auto e = Make(S3Settings{});
  Batch b = MakeBatch(4, 3);
  ASSERT_TRUE(e->Emit(b, {}));
  ASSERT_TRUE(e->Emit(b, {}));
  EXPECT_EQ(fake_->objects.size(), 1u);
  EXPECT_EQ(fake_->Count("PUT", "/bkt/"), 2);
}

}  // namespace
}  // namespace kc::emitter
