// The DynamoDB emitter against dynalite (KC_DYNAMODB_ENDPOINT): items land
// with their types, batches over 25 items are split, duplicate keys in a
// batch collapse to the last, a replay leaves the table as once, items
// DynamoDB leaves unprocessed are sent again (and only those), and bad
// records and wrong tables are clear errors.
#include "sinks/dynamodb/dynamodb_emitter.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/json_writer.h"
#include "support/dynalite.h"

namespace kc::testing {
namespace {

using emitter::DynamoDbEmitter;
using emitter::DynamoDbEmitterOptions;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// Forwards every request; the answers to the first `fake` BatchWriteItems
// claim their last `unprocessed` items were left unprocessed (DynamoDB
// does that under load; dynalite never does). Counts items per request.
class UnprocessingTransport final : public aws::HttpTransport {
 public:
  UnprocessingTransport(std::string table, int fake, size_t unprocessed)
      : table_(std::move(table)), fake_(fake), unprocessed_(unprocessed) {}
  Result<aws::HttpResponse> Send(const aws::HttpRequest& request) override {
    auto response = SharedCurlTransport()->Send(request);
    const std::string* target = request.Header("X-Amz-Target");
    if (target == nullptr || !target->ends_with(".BatchWriteItem") || !response ||
        response->status != 200) {
      return response;
    }
    simdjson::dom::parser parser;
    simdjson::dom::array puts;
    if (parser.parse(request.body)["RequestItems"][table_].get(puts) != simdjson::SUCCESS) {
      return response;
    }
    std::lock_guard lock(mu_);
    request_sizes.push_back(puts.size());
    if (fake_ <= 0 || puts.size() <= unprocessed_) return response;
    --fake_;
    util::JsonWriter w;
    w.BeginObject().Key("UnprocessedItems").BeginObject().Key(table_).BeginArray();
    size_t i = 0;
    for (simdjson::dom::element put : puts) {
      if (i++ >= puts.size() - unprocessed_) w.Raw(simdjson::to_string(put));
    }
    w.EndArray().EndObject().EndObject();
    response->body = w.Take();
    return response;
  }
  std::mutex mu_;
  std::vector<size_t> request_sizes;

 private:
  std::string table_;
  int fake_;
  size_t unprocessed_;
};

class DynamoDbEmitterIT : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = Env("KC_DYNAMODB_ENDPOINT");
    if (endpoint_.empty()) {
      if (Env("KC_REQUIRE_SERVICES") == "1") {
        FAIL() << "KC_DYNAMODB_ENDPOINT is not set but KC_REQUIRE_SERVICES=1; start dynalite "
                  "with kc_start_dynalite (scripts/test does)";
      }
      GTEST_SKIP() << "KC_DYNAMODB_ENDPOINT is not set";
    }
    table_ = "kc-emit-" + std::to_string(::getpid()) + "-" +
             std::to_string(std::random_device{}() % 1'000'000) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name();
    Create(table_, "id", "S", "ts", "N");
  }
  void TearDown() override {
    for (const auto& t : created_) (void)DynaliteClient(endpoint_).DeleteTable(t);
  }

  void Create(const std::string& table, const std::string& hash, const std::string& hash_type,
              const std::string& range, const std::string& range_type) {
    util::JsonWriter w;
    w.BeginObject().Field("TableName", table).Key("AttributeDefinitions").BeginArray();
    w.BeginObject().Field("AttributeName", hash).Field("AttributeType", hash_type).EndObject();
    if (!range.empty()) {
      w.BeginObject().Field("AttributeName", range).Field("AttributeType", range_type).EndObject();
    }
    w.EndArray().Key("KeySchema").BeginArray();
    w.BeginObject().Field("AttributeName", hash).Field("KeyType", "HASH").EndObject();
    if (!range.empty()) {
      w.BeginObject().Field("AttributeName", range).Field("KeyType", "RANGE").EndObject();
    }
    w.EndArray().Field("BillingMode", "PAY_PER_REQUEST").EndObject();
    auto created = DynaliteClient(endpoint_).Call("CreateTable", w.str());
    ASSERT_TRUE(created) << created.error().ToString();
    created_.push_back(table);
  }

  std::unique_ptr<DynamoDbEmitter> Emitter(
      std::shared_ptr<aws::HttpTransport> transport = SharedCurlTransport(), std::string table = {},
      std::string hash = "id", std::string range = "ts") {
    DynamoDbEmitterOptions options{.table = table.empty() ? table_ : table,
                                   .hash_key = hash,
                                   .range_key = range,
                                   .declared = {{"price", dynamodb::AttributeType::kN}}};
    return std::make_unique<DynamoDbEmitter>(
        DynaliteClient(endpoint_, std::move(transport)), std::move(options),
        RetryPolicy(RetryOptions{.max_attempts = 5,
                                 .base = std::chrono::milliseconds(1),
                                 .cap = std::chrono::milliseconds(5)}));
  }

  // Every item of the table, by "id/ts", as compact typed JSON.
  std::map<std::string, std::string> Scan() {
    std::map<std::string, std::string> out;
    std::string start;
    do {
      std::string body = R"({"TableName":")" + table_ + R"(","ConsistentRead":true)";
      if (!start.empty()) body += R"(,"ExclusiveStartKey":)" + start;
      body += "}";
      auto answer = DynaliteClient(endpoint_).Call("Scan", body);
      EXPECT_TRUE(answer) << answer.error().ToString();
      if (!answer) return out;
      simdjson::dom::parser parser;
      simdjson::dom::element doc = parser.parse(*answer);
      for (simdjson::dom::element item : doc["Items"].get_array()) {
        std::string id(item["id"]["S"].get_string().value());
        std::string ts(item["ts"]["N"].get_string().value());
        out[id + "/" + ts] = simdjson::to_string(item);
      }
      simdjson::dom::element last;
      start =
          doc["LastEvaluatedKey"].get(last) == simdjson::SUCCESS ? simdjson::to_string(last) : "";
    } while (!start.empty());
    return out;
  }

  static Batch MakeBatch(const std::vector<std::string>& data) {
    Batch b;
    b.stream = "orders";
    b.shard_id = "shardId-000000000001";
    for (size_t i = 0; i < data.size(); ++i) {
      Record r;
      r.data = data[i];
      r.partition_key = "pk";
      r.sequence_number = std::to_string(1000 + i);
      b.bytes += r.data.size();
      b.records.push_back(std::move(r));
    }
    b.first = b.records.front().position();
    b.last = b.records.back().position();
    return b;
  }

  std::string endpoint_;
  std::string table_;
  std::vector<std::string> created_;
};

TEST_F(DynamoDbEmitterIT, EveryRecordLandsAsATypedItemAcrossRequestsOf25) {
  std::vector<std::string> data;
  for (int i = 0; i < 120; ++i) {
    data.push_back(R"({"id":"u)" + std::to_string(i % 7) + R"(","ts":)" + std::to_string(i) +
                   R"(,"price":")" + std::to_string(i) + R"(.5","tags":["a",)" + std::to_string(i) +
                   R"(],"ok":true,"none":null})");
  }
  auto transport = std::make_shared<UnprocessingTransport>(table_, 0, 0);
  auto emitter = Emitter(transport);
  auto emitted = emitter->Emit(MakeBatch(data), {});
  ASSERT_TRUE(emitted) << emitted.error().ToString();
  EXPECT_EQ(transport->request_sizes, (std::vector<size_t>{25, 25, 25, 25, 20}));
  auto items = Scan();
  ASSERT_EQ(items.size(), 120u);
  EXPECT_EQ(items["u3/10"],
            R"({"id":{"S":"u3"},"ts":{"N":"10"},"price":{"N":"10.5"},)"
            R"("tags":{"L":[{"S":"a"},{"N":"10"}]},"ok":{"BOOL":true},"none":{"NULL":true}})");
}

TEST_F(DynamoDbEmitterIT, DuplicateKeysInABatchCollapseToTheLastAndAReplayChangesNothing) {
  const std::vector<std::string> data = {
      R"({"id":"a","ts":1,"v":"first"})", R"({"id":"b","ts":1,"v":"only"})",
      R"({"id":"a","ts":1.0,"v":"second"})", R"({"id":"a","ts":2,"v":"other ts"})",
      R"({"id":"a","ts":10e-1,"v":"last"})"};
  auto emitter = Emitter();
  ASSERT_TRUE(emitter->Emit(MakeBatch(data), {}));
  auto items = Scan();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_NE(items["a/1"].find(R"("v":{"S":"last"})"), std::string::npos) << items["a/1"];
  // A replay of the same batch (after a crash) leaves the table as once.
  ASSERT_TRUE(emitter->Emit(MakeBatch(data), {}));
  EXPECT_EQ(Scan(), items);
}

TEST_F(DynamoDbEmitterIT, OnlyTheItemsLeftUnprocessedAreSentAgain) {
  std::vector<std::string> data;
  for (int i = 0; i < 30; ++i) {
    data.push_back(R"({"id":"x","ts":)" + std::to_string(i) + "}");
  }
  // The first two requests each leave 4 unprocessed.
  auto transport = std::make_shared<UnprocessingTransport>(table_, 2, 4);
  auto emitted = Emitter(transport)->Emit(MakeBatch(data), {});
  ASSERT_TRUE(emitted) << emitted.error().ToString();
  EXPECT_EQ(transport->request_sizes, (std::vector<size_t>{25, 5, 8}));
  EXPECT_EQ(Scan().size(), 30u);
}

TEST_F(DynamoDbEmitterIT, ABadRecordFailsTheBatchNamingIt) {
  auto emitter = Emitter();
  auto missing = emitter->Emit(MakeBatch({R"({"id":"a","ts":1})", R"({"id":"b"})"}), {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.error().message(),
            "record 1001 of shard shardId-000000000001 of stream orders cannot be an item of "
            "DynamoDB table " +
                table_ + ": key attribute 'ts' is missing");
  auto big = emitter->Emit(
      MakeBatch({R"({"id":"a","ts":1,"blob":")" + std::string(410 * 1024, 'x') + "\"}"}), {});
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find("DynamoDB's limit is 400 KB"), std::string::npos)
      << big.error().ToString();
  auto typed = emitter->Emit(MakeBatch({R"({"id":"a","ts":"soon"})"}), {});
  ASSERT_FALSE(typed);
  EXPECT_NE(typed.error().message().find("attribute 'ts' is declared N"), std::string::npos)
      << typed.error().ToString();
  EXPECT_TRUE(Scan().empty()) << "nothing of a failed batch is written";
}

TEST_F(DynamoDbEmitterIT, AMissingTableOrAnotherKeyIsAConfigError) {
  auto missing = Emitter(SharedCurlTransport(), table_ + "-none")
                     ->Emit(MakeBatch({R"({"id":"a","ts":1})"}), {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kConfig);
  EXPECT_NE(missing.error().message().find("does not exist"), std::string::npos);
  auto other =
      Emitter(SharedCurlTransport(), table_, "user", "")->Emit(MakeBatch({R"({"user":"a"})"}), {});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kConfig);
  EXPECT_NE(other.error().message().find(
                "has the hash key 'id' and range key 'ts', but the emitter names the hash key "
                "'user'"),
            std::string::npos)
      << other.error().ToString();
}

}  // namespace
}  // namespace kc::testing
