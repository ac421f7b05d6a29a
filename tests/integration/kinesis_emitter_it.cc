// The kinesis emitter against kinesalite (KC_KINESIS_ENDPOINT), which checks
// every request's signature and PutRecords' limits: batches of more than
// one call's records and bytes land whole, with their partition keys and in
// order per key, and a missing target stream is a final error.
//
// Without KC_KINESIS_ENDPOINT the cases are skipped, and MissingServer says
// so (a failure when KC_REQUIRE_SERVICES=1, as scripts/test sets).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "clients/kinesis/client.h"
#include "sinks/kinesis/kinesis_emitter.h"

namespace kc::emitter {
namespace {

using namespace std::chrono_literals;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

kinesis::KinesisClient Client(const std::string& endpoint, int max_attempts) {
  static std::shared_ptr<aws::HttpTransport> transport = aws::MakeCurlTransport(aws::HttpOptions{});
  aws::AwsJsonClientOptions options{.endpoint = endpoint,
                                    .region = "us-east-1",
                                    .service = "kinesis",
                                    .target_prefix = "Kinesis_20131202"};
  // The stand-in takes any access key id signed with its secret.
  const std::string secret = Env("KC_STANDIN_SECRET");
  aws::Credentials credentials{"kc-test", secret.empty() ? "kc-test-secret" : secret, ""};
  return kinesis::KinesisClient(
      aws::AwsJsonClient(std::move(options), transport,
                         std::make_shared<aws::StaticCredentialsProvider>(std::move(credentials)),
                         RetryPolicy(RetryOptions{.max_attempts = max_attempts})));
}

TEST(KinesisEmitterServer, MissingServer) {
  if (!Env("KC_KINESIS_ENDPOINT").empty()) return;
  if (Env("KC_REQUIRE_SERVICES") == "1") {
    FAIL() << "KC_KINESIS_ENDPOINT is not set but KC_REQUIRE_SERVICES=1; start kinesalite with "
              "kc_start_kinesalite (scripts/test does)";
  }
  GTEST_SKIP() << "KC_KINESIS_ENDPOINT is not set";
}

class KinesisEmitterIT : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = Env("KC_KINESIS_ENDPOINT");
    if (endpoint_.empty()) GTEST_SKIP() << "KC_KINESIS_ENDPOINT is not set";
    admin_ = std::make_unique<kinesis::KinesisClient>(Client(endpoint_, 5));
    stream_ = "kc-emit-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::random_device{}() % 1'000'000);
  }

  void TearDown() override {
    if (admin_ && created_) (void)admin_->DeleteStream(stream_);
  }

  void CreateStream(int shards) {
    ASSERT_TRUE(admin_->CreateStream(stream_, shards));
    created_ = true;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      auto summary = admin_->DescribeStreamSummary(stream_);
      ASSERT_TRUE(summary) << summary.error().ToString();
      if (summary->status == "ACTIVE") return;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "stream not ACTIVE in 60s";
      std::this_thread::sleep_for(100ms);  // between polls
    }
  }

  std::unique_ptr<KinesisEmitter> Make(bool ordered) {
    KinesisSettings config;
    config.stream = stream_;
    config.ordered = ordered;
    // One attempt per call, as the daemon builds it.
    auto e = KinesisEmitter::Create(config,
                                    std::make_shared<kinesis::KinesisClient>(Client(endpoint_, 1)),
                                    RetryPolicy(RetryOptions{.max_attempts = 5}));
    EXPECT_TRUE(e) << e.error().ToString();
    return std::move(*e);
  }

  // Every record of the stream, per shard, oldest first.
  std::map<std::string, std::vector<Record>> ReadAll() {
    std::map<std::string, std::vector<Record>> out;
    auto shards = admin_->ListShards(stream_);
    EXPECT_TRUE(shards) << shards.error().ToString();
    if (!shards) return out;
    for (const auto& shard : *shards) {
      auto it = admin_->GetShardIterator(stream_, shard.shard_id, {});
      EXPECT_TRUE(it) << it.error().ToString();
      if (!it) continue;
      std::string iterator = *it;
      auto& records = out[shard.shard_id];
      while (!iterator.empty()) {
        auto page = admin_->GetRecordsOnce(iterator, 10'000);
        EXPECT_TRUE(page) << page.error().ToString();
        if (!page) break;
        for (auto& r : page->records) records.push_back(std::move(r));
        if (page->records.empty() && page->millis_behind_latest == 0) break;
        iterator = page->next_shard_iterator;
      }
    }
    return out;
  }

  static Batch MakeBatch(const std::vector<std::string>& data,
                         const std::vector<std::string>& keys) {
    Batch b;
    b.stream = "source";
    b.shard_id = "shardId-000000000003";
    for (size_t i = 0; i < data.size(); ++i) {
      Record r;
      r.data = data[i];
      r.partition_key = keys[i];
      r.sequence_number = std::to_string(49'000'000 + i);
      b.bytes += r.data.size();
      b.records.push_back(std::move(r));
    }
    b.first = b.records.front().position();
    b.last = b.records.back().position();
    return b;
  }

  std::string endpoint_;
  std::string stream_;
  bool created_ = false;
  std::unique_ptr<kinesis::KinesisClient> admin_;
};

TEST_F(KinesisEmitterIT, ABatchOfManyCallsLandsWholeAndInOrderPerKey) {
  CreateStream(3);
  for (bool ordered : {false, true}) {
    SCOPED_TRACE(ordered ? "ordered" : "not ordered");
    const std::string tag = ordered ? "o" : "u";
    std::vector<std::string> data;
    std::vector<std::string> keys;
    std::map<std::string, std::vector<std::string>> want;  // per key, in order
    for (int i = 0; i < 1200; ++i) {
      keys.push_back("key-" + std::to_string(i % 37));
      data.push_back(tag + "-" + std::to_string(i));
      want[keys.back()].push_back(data.back());
    }
    ASSERT_TRUE(Make(ordered)->Emit(MakeBatch(data, keys), {}));
    std::map<std::string, std::vector<std::string>> got;
    for (const auto& [shard, records] : ReadAll()) {
      for (const Record& r : records) {
        if (r.data.starts_with(tag + "-")) got[r.partition_key].push_back(r.data);
      }
    }
    EXPECT_EQ(got, want);
  }
}

TEST_F(KinesisEmitterIT, RecordsNear1MiBGoInCallsOfAtMost5MiB) {
  CreateStream(1);
  std::vector<std::string> data;
  std::vector<std::string> keys;
  for (int i = 0; i < 12; ++i) {
    keys.push_back("k" + std::to_string(i % 10));
    data.push_back(std::string((1 << 20) - 2, static_cast<char>('a' + i)));
  }
  ASSERT_TRUE(Make(false)->Emit(MakeBatch(data, keys), {}));
  const auto all = ReadAll();
  ASSERT_EQ(all.size(), 1u);
  const auto& records = all.begin()->second;
  ASSERT_EQ(records.size(), 12u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].data, data[i]) << i;
    EXPECT_EQ(records[i].partition_key, keys[i]) << i;
  }
}

TEST_F(KinesisEmitterIT, AMissingTargetStreamIsAFinalError) {
  Status s = Make(false)->Emit(MakeBatch({"a"}, {"k"}), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound) << s.error().ToString();
  EXPECT_NE(s.error().message().find("on stream " + stream_), std::string::npos)
      << s.error().message();
}

}  // namespace
}  // namespace kc::emitter
