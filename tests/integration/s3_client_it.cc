// The S3 client against the signature-verifying s3rver that scripts/test
// starts (KC_S3_ENDPOINT): every request here passes an independent SigV4
// check with S3's rules before s3rver stores or serves anything.
//
// Without KC_S3_ENDPOINT the tests are skipped, unless KC_REQUIRE_SERVICES=1
// (as scripts/test sets), when they fail: a suite that silently tests
// nothing is worse than a red one.
//
// Settings: KC_S3_BUCKET (default kc-test-bucket, created by
// kc_start_s3rver), KC_S3_ACCESS_KEY_ID (default S3RVER), KC_STANDIN_SECRET
// (default kc-test-secret).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "clients/aws/http.h"
#include "clients/s3/s3_client.h"

namespace kc::aws {
namespace {

// No object a test reads comes near this.
constexpr uint64_t kAnySize = 1ull << 30;

using namespace std::chrono_literals;

std::string Env(const char* name, const std::string& fallback = {}) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// Bytes 0..255 followed by `extra` pseudo-random ones: any re-encoding on
// the way shows.
std::string BinaryData(size_t extra, uint64_t seed) {
  std::string data;
  data.reserve(256 + extra);
  for (int i = 0; i < 256; ++i) data.push_back(static_cast<char>(i));
  std::mt19937_64 rng(seed);
  while (data.size() < 256 + extra) {
    uint64_t word = rng();
    for (int i = 0; i < 8 && data.size() < 256 + extra; ++i) {
      data.push_back(static_cast<char>(word >> (8 * i)));
    }
  }
  return data;
}

class S3ClientIT : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = Env("KC_S3_ENDPOINT");
    if (endpoint_.empty()) {
      if (Env("KC_REQUIRE_SERVICES") == "1") {
        FAIL() << "KC_S3_ENDPOINT is not set but KC_REQUIRE_SERVICES=1; start s3rver with "
                  "kc_start_s3rver (scripts/test does)";
      }
      GTEST_SKIP() << "KC_S3_ENDPOINT is not set (start s3rver with kc_start_s3rver)";
    }
    bucket_ = Env("KC_S3_BUCKET", "kc-test-bucket");
    // A prefix of its own per test and run, so reruns and parallel runs
    // against one s3rver never see each other's objects.
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = "it/" + std::string(info->name()) + "-" +
              std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "/";
    transport_ = MakeCurlTransport(HttpOptions{});
  }

  S3Client Client(std::string secret = {}) const {
    if (secret.empty()) secret = Env("KC_STANDIN_SECRET", "kc-test-secret");
    Credentials credentials{Env("KC_S3_ACCESS_KEY_ID", "S3RVER"), secret, ""};
    S3Options options;
    options.endpoint = endpoint_;
    options.region = "us-east-1";
    options.path_style = true;
    return S3Client(options, transport_,
                    std::make_shared<StaticCredentialsProvider>(std::move(credentials)),
                    RetryPolicy(RetryOptions{.max_attempts = 3, .base = 50ms, .cap = 500ms}));
  }

  std::string endpoint_;
  std::string bucket_;
  std::string prefix_;
  std::shared_ptr<HttpTransport> transport_;
};

TEST_F(S3ClientIT, PutGetHeadDeleteRoundTripWithBinaryDataAndAwkwardKeys) {
  S3Client s3 = Client();
  const std::vector<std::string> keys = {
      prefix_ + "plain.bin",
      prefix_ + "with space/and+plus",
      prefix_ +
          "\xC3\xBCnic\xC3\xB8"
          "de/\xD0\xBA\xD0\xBB\xD1\x8E\xD1\x87 \xE2\x9C\x93",
      prefix_ + "marks!$&'()*,;=:@~-_.bin",
      prefix_ + "percent%41%2F and tilde~",
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(keys[i]);
    const std::string data = BinaryData(1000 + 37 * i, i);
    PutObjectOptions options;
    options.content_type = "application/octet-stream";
    auto put = s3.PutObject(bucket_, keys[i], data, options);
    ASSERT_TRUE(put) << put.error().ToString();

    auto got = s3.GetObject(bucket_, keys[i], kAnySize);
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_TRUE(*got == data) << "the object read back differs from what was put";

    auto head = s3.HeadObject(bucket_, keys[i]);
    ASSERT_TRUE(head) << head.error().ToString();
    ASSERT_TRUE(head->has_value());
    EXPECT_EQ((*head)->size, data.size());
    EXPECT_FALSE((*head)->etag.empty());
  }

  // The listing names exactly these keys, in S3's (byte) order.
  auto listed = s3.ListAllObjects(bucket_, prefix_);
  ASSERT_TRUE(listed) << listed.error().ToString();
  std::vector<std::string> want = keys;
  std::sort(want.begin(), want.end());
  std::vector<std::string> got;
  for (const ObjectInfo& o : *listed) got.push_back(o.key);
  EXPECT_EQ(got, want);

  for (const std::string& key : keys) {
    ASSERT_TRUE(s3.DeleteObject(bucket_, key)) << key;
    auto head = s3.HeadObject(bucket_, key);
    ASSERT_TRUE(head) << head.error().ToString();
    EXPECT_FALSE(head->has_value()) << key << " still there after DeleteObject";
  }
}

TEST_F(S3ClientIT, EmptyObjectAndServerSideEncryptionHeader) {
  S3Client s3 = Client();
  PutObjectOptions options;
  options.server_side_encryption = "AES256";
  options.content_encoding = "identity";
  ASSERT_TRUE(s3.PutObject(bucket_, prefix_ + "empty", "", options));
  auto got = s3.GetObject(bucket_, prefix_ + "empty", kAnySize);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_TRUE(got->empty());
}

TEST_F(S3ClientIT, MultipartUploadOfTwelveMiBReadsBackIdentical) {
  S3Client s3 = Client();
  const std::string key = prefix_ + "multipart object.bin";
  const std::string data = BinaryData(12 * 1024 * 1024, 42);
  constexpr size_t kPart = 5 * 1024 * 1024;

  PutObjectOptions options;
  options.content_type = "application/x-ndjson";
  auto upload_id = s3.CreateMultipartUpload(bucket_, key, options);
  ASSERT_TRUE(upload_id) << upload_id.error().ToString();
  ASSERT_FALSE(upload_id->empty());

  std::vector<CompletedPart> parts;
  for (size_t offset = 0, number = 1; offset < data.size(); offset += kPart, ++number) {
    std::string_view part = std::string_view(data).substr(offset, kPart);
    auto etag = s3.UploadPart(bucket_, key, *upload_id, static_cast<int>(number), part);
    ASSERT_TRUE(etag) << etag.error().ToString();
    parts.push_back({static_cast<int>(number), *etag});
  }
  ASSERT_EQ(parts.size(), 3u);  // 5 + 5 + 2 MiB

  // Not visible before it is completed.
  auto before = s3.HeadObject(bucket_, key);
  ASSERT_TRUE(before) << before.error().ToString();
  EXPECT_FALSE(before->has_value());

  auto complete = s3.CompleteMultipartUpload(bucket_, key, *upload_id, parts);
  ASSERT_TRUE(complete) << complete.error().ToString();

  auto got = s3.GetObject(bucket_, key, kAnySize);
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), data.size());
  EXPECT_TRUE(*got == data) << "the assembled object differs from the parts";
  auto head = s3.HeadObject(bucket_, key);
  ASSERT_TRUE(head && head->has_value());
  EXPECT_EQ((*head)->size, data.size());
  ASSERT_TRUE(s3.DeleteObject(bucket_, key));
}

TEST_F(S3ClientIT, ListObjectsV2PagesWithContinuationTokens) {
  S3Client s3 = Client();
  constexpr int kObjects = 25;
  for (int i = 0; i < kObjects; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "obj-%03d", i);
    ASSERT_TRUE(
        s3.PutObject(bucket_, prefix_ + name, std::string(static_cast<size_t>(i), 'x'), {}));
  }
  // Something just outside the prefix must not show up.
  const std::string outside = prefix_.substr(0, prefix_.size() - 1) + "-outside";
  ASSERT_TRUE(s3.PutObject(bucket_, outside, "x", {}));

  std::vector<size_t> page_sizes;
  std::vector<std::string> keys;
  std::string token;
  do {
    auto page = s3.ListObjectsV2(bucket_, prefix_, token, {}, 10);
    ASSERT_TRUE(page) << page.error().ToString();
    page_sizes.push_back(page->objects.size());
    for (const ObjectInfo& o : page->objects) keys.push_back(o.key);
    token = page->next_continuation_token;
    ASSERT_LE(page_sizes.size(), 4u) << "listing does not end";
  } while (!token.empty());
  EXPECT_EQ(page_sizes, (std::vector<size_t>{10, 10, 5}));
  ASSERT_EQ(keys.size(), static_cast<size_t>(kObjects));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.front(), prefix_ + "obj-000");
  EXPECT_EQ(keys.back(), prefix_ + "obj-024");

  auto all = s3.ListAllObjects(bucket_, prefix_, {}, 7);
  ASSERT_TRUE(all) << all.error().ToString();
  ASSERT_EQ(all->size(), static_cast<size_t>(kObjects));
  uint64_t total = 0;
  for (const ObjectInfo& o : *all) total += o.size;
  EXPECT_EQ(total, static_cast<uint64_t>(kObjects * (kObjects - 1) / 2));

  for (const ObjectInfo& o : *all) ASSERT_TRUE(s3.DeleteObject(bucket_, o.key));
  ASSERT_TRUE(s3.DeleteObject(bucket_, outside));
  auto none = s3.ListAllObjects(bucket_, prefix_);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(S3ClientIT, MissingKeysAndBucketsAreNotFound) {
  S3Client s3 = Client();
  auto get = s3.GetObject(bucket_, prefix_ + "never-written", kAnySize);
  ASSERT_FALSE(get);
  EXPECT_EQ(get.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(get.error().message().find("NoSuchKey"), std::string::npos) << get.error().message();

  auto head = s3.HeadObject(bucket_, prefix_ + "never-written");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_FALSE(head->has_value());

  auto put = s3.PutObject("kc-no-such-bucket", "k", "x", {});
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(put.error().message().find("NoSuchBucket"), std::string::npos) << put.error().message();
}

TEST_F(S3ClientIT, AWrongSecretIsRefusedAsAnAuthError) {
  const std::string wrong = "not-the-stand-in-secret";
  S3Client s3 = Client(wrong);
  auto put = s3.PutObject(bucket_, prefix_ + "refused", "x", {});
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code(), ErrorCode::kAuth);
  EXPECT_NE(put.error().message().find("SignatureDoesNotMatch"), std::string::npos)
      << put.error().message();
  EXPECT_EQ(put.error().message().find(wrong), std::string::npos);

  auto head = Client().HeadObject(bucket_, prefix_ + "refused");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_FALSE(head->has_value()) << "a refused PutObject stored the object";
}

// "." and ".." segments are legal in S3 keys and are signed as they are; an
// HTTP client that folds them after signing breaks the signature. The
// signature-checking front must accept the request (s3rver itself cannot
// route such paths and answers 404, which real S3 would not).
TEST_F(S3ClientIT, DotSegmentsGoOutExactlyAsSigned) {
  S3Client s3 = Client();
  auto put = s3.PutObject(bucket_, prefix_ + "dots/./in/../the//path", "x", {});
  if (!put) {
    EXPECT_EQ(put.error().code(), ErrorCode::kNotFound) << put.error().ToString();
  }
}

}  // namespace
}  // namespace kc::aws
