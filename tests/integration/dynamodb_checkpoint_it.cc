// The DynamoDB checkpoint store against dynalite, which checks every
// request's SigV4 signature:
//
// - the conformance suite, on the dynalite scripts/test starts
//   (KC_DYNAMODB_ENDPOINT; a table of this run's own), and on a dynalite of
//   this test's own, keeping its tables on disk, which the outage case stops
//   and starts again;
// - the item's layout (the Kinesis Client Library's lease attribute names),
//   checkpoints set by others, a stale writer refused, and a save whose
//   answer was lost.
//
// Without KC_DYNAMODB_ENDPOINT the shared-server cases are left out, and
// MissingServer says so (a failure when KC_REQUIRE_SERVICES=1, as
// scripts/test sets).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/json_writer.h"
#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "clients/dynamodb/client.h"
#include "stores/dynamodb/dynamodb_checkpoint_store.h"
#include "support/checkpoint_conformance.h"
#include "support/dynalite.h"
#include "support/losing_transport.h"
#include "support/own_server.h"

namespace kc::testing {
namespace {

using checkpoint::DynamoDbCheckpointStore;
using dynamodb::DynamoClient;

std::string Env(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : fallback;
}

std::shared_ptr<aws::HttpTransport> RealTransport() { return SharedCurlTransport(); }

DynamoClient Client(const std::string& endpoint,
                    std::shared_ptr<aws::HttpTransport> transport = RealTransport()) {
  return DynaliteClient(endpoint, std::move(transport));
}

// A dynalite of this test's own with its tables on disk, started with
// kc_start_dynalite on a port chosen before it starts, so that the suite's
// parameters can name it; stopped and removed at exit.
OwnServer& Own() {
  static OwnServer& server = OwnServer::ForAllTests([] {
    OwnServer::Options options =
        ServicesShServer("dynalite", KC_SERVICES_SH, "kc_start_dynalite", {"persist"});
    options.keep_port = true;
    return options;
  }());
  return server;
}

// Starts the server on first use.
std::string OwnEndpoint() {
  [[maybe_unused]] static const bool started = Own().Start();
  return "http://" + Own().host_port();
}

std::unique_ptr<CheckpointStore> SharedStore(const std::string& table) {
  DynaliteTables::DropAtExit(table);
  return std::make_unique<DynamoDbCheckpointStore>(Client(Env("KC_DYNAMODB_ENDPOINT")), table);
}

std::vector<StoreFactory> Factories() {
  std::vector<StoreFactory> out;
  if (!Env("KC_DYNAMODB_ENDPOINT").empty()) {
    out.push_back(
        StoreFactory{.name = "dynamodb",
                     .open = [] { return SharedStore(DynaliteTables::RunTable("conformance")); },
                     .stop_server = {},
                     .start_server = {},
                     .server_name = {}});
  }
  out.push_back(StoreFactory{.name = "dynamodb_own_server",
                             .open =
                                 [] {
                                   return std::unique_ptr<CheckpointStore>(
                                       std::make_unique<DynamoDbCheckpointStore>(
                                           Client(OwnEndpoint()), "kc-own"));
                                 },
                             .stop_server = [] { Own().Stop(); },
                             .start_server = [] { Own().Start(); },
                             .server_name = Own().host_port()});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Stores, CheckpointConformance, ::testing::ValuesIn(Factories()),
                         PrintStoreName);

TEST(DynamoDbStore, MissingServer) {
  if (!Env("KC_DYNAMODB_ENDPOINT").empty()) return;
  if (Env("KC_REQUIRE_SERVICES") == "1") {
    FAIL() << "KC_DYNAMODB_ENDPOINT is not set but KC_REQUIRE_SERVICES=1; start dynalite with "
              "kc_start_dynalite (scripts/test does)";
  }
  GTEST_SKIP() << "KC_DYNAMODB_ENDPOINT is not set: the shared-server cases are left out";
}

// The cases below use the shared dynalite, each with a table of its own.
class DynamoDbStoreIT : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = Env("KC_DYNAMODB_ENDPOINT");
    if (endpoint_.empty()) GTEST_SKIP() << "KC_DYNAMODB_ENDPOINT is not set";
    table_ =
        DynaliteTables::RunTable(::testing::UnitTest::GetInstance()->current_test_info()->name());
    DynaliteTables::DropAtExit(table_);
  }
  std::unique_ptr<DynamoDbCheckpointStore> Store(
      std::shared_ptr<aws::HttpTransport> transport = RealTransport()) const {
    return std::make_unique<DynamoDbCheckpointStore>(Client(endpoint_, std::move(transport)),
                                                     table_);
  }
  std::string RawItem(const std::string& lease_key) const {
    return DynaliteTables::RawItem(endpoint_, table_, lease_key);
  }
  std::string Attr(const std::string& lease_key, const std::string& name) const {
    return DynaliteTables::Attr(endpoint_, table_, lease_key, name);
  }
  void PutRaw(const std::string& item_json) const {
    DynaliteTables::PutRaw(endpoint_, table_, item_json);
  }

  const ShardKey key_{"billing", "orders", "shardId-000000000003"};
  const std::string lease_key_ = "billing:orders:shardId-000000000003";
  std::string endpoint_;
  std::string table_;
};

ShardCheckpoint At(std::string seq, uint64_t sub = 0) {
  ShardCheckpoint s;
  s.position = ShardPosition{std::move(seq), sub};
  return s;
}

TEST_F(DynamoDbStoreIT, TheItemUsesTheLeaseAttributeNamesOfTheKcl) {
  auto store = Store();
  ASSERT_TRUE(store->Load(key_));  // creates the table
  EXPECT_EQ(RawItem(lease_key_), "");
  ShardCheckpoint state = At("49590338271490256608559692538361571095921575989136588898", 7);
  state.pending.push_back({{"49590338271490256608559692538361571095921575989136588899", 0},
                           {"49590338271490256608559692538361571095921575989136589000", 3}});
  ASSERT_TRUE(store->Save(key_, state));
  EXPECT_EQ(Attr(lease_key_, "leaseKey"), lease_key_);
  EXPECT_EQ(Attr(lease_key_, "checkpoint"),
            "49590338271490256608559692538361571095921575989136588898");
  EXPECT_EQ(Attr(lease_key_, "checkpointSubSequenceNumber"), "7");
  EXPECT_EQ(Attr(lease_key_, "leaseCounter"), "1");
  EXPECT_EQ(Attr(lease_key_, "ownerSwitchesSinceCheckpoint"), "0");
  EXPECT_NE(Attr(lease_key_, "kcPendingBatches"), "");

  ShardCheckpoint end = At("49590338271490256608559692538361571095921575989136589100", 2);
  end.shard_end = true;
  auto saved_end = store->Save(key_, end);
  ASSERT_TRUE(saved_end) << saved_end.error().ToString();
  EXPECT_EQ(Attr(lease_key_, "checkpoint"), "SHARD_END");
  EXPECT_EQ(Attr(lease_key_, "checkpointSubSequenceNumber"), "0");
  EXPECT_EQ(Attr(lease_key_, "kcLastSequenceNumber"),
            "49590338271490256608559692538361571095921575989136589100");
  EXPECT_EQ(Attr(lease_key_, "kcLastSubSequenceNumber"), "2");
  EXPECT_EQ(Attr(lease_key_, "leaseCounter"), "2");
  EXPECT_EQ(Attr(lease_key_, "kcPendingBatches"), "");  // removed with the ranges
  EXPECT_EQ(*Store()->Load(key_), end);
}

TEST_F(DynamoDbStoreIT, ACheckpointSetBySomeoneElseWinsAndOtherAttributesAreKept) {
  ASSERT_TRUE(Store()->Load(key_));
  PutRaw(
      R"({"leaseKey":{"S":")" + lease_key_ +
      R"("},"checkpoint":{"S":"49590338271490256608559692538361571095921575989136588898"},)"
      R"("checkpointSubSequenceNumber":{"N":"3"},"leaseCounter":{"N":"41"},)"
      R"("leaseOwner":{"S":"worker-1"},"parentShardId":{"SS":["shardId-000000000000"]},)"
      R"("kcLastSequenceNumber":{"S":"49590338271490256608559692538361571095921575989136580000"},)"
      R"("kcPendingBatches":{"S":"[]"}})");
  auto store = Store();
  auto loaded = store->Load(key_);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  // Someone moved the checkpoint away from what this store wrote: it wins.
  EXPECT_EQ(*loaded, At("49590338271490256608559692538361571095921575989136588898", 3));

  ASSERT_TRUE(store->Save(key_, At("49590338271490256608559692538361571095921575989136588999")));
  EXPECT_EQ(Attr(lease_key_, "leaseCounter"), "42");
  EXPECT_EQ(Attr(lease_key_, "leaseOwner"), "worker-1");
  EXPECT_NE(RawItem(lease_key_).find("shardId-000000000000"), std::string::npos);

  // The same sequence number with another sub-sequence number is a move too.
  PutRaw(R"({"leaseKey":{"S":")" + lease_key_ +
         R"("},"checkpoint":{"S":"500"},)"
         R"("checkpointSubSequenceNumber":{"N":"4"},"kcLastSequenceNumber":{"S":"500"},)"
         R"("kcLastSubSequenceNumber":{"N":"9"},"kcPendingBatches":{"S":"[]"}})");
  EXPECT_EQ(*Store()->Load(key_), At("500", 4));

  // Sentinels and a removed checkpoint mean "nothing processed yet", even
  // beside a position this store wrote.
  for (const std::string& checkpoint : std::vector<std::string>{
           R"("checkpoint":{"S":"TRIM_HORIZON"},)", R"("checkpoint":{"S":"LATEST"},)",
           R"("checkpoint":{"S":"AT_TIMESTAMP"},)", ""}) {
    PutRaw(R"({"leaseKey":{"S":")" + lease_key_ + R"("},)" + checkpoint +
           R"("kcLastSequenceNumber":{"S":"700"},"leaseCounter":{"N":"1"}})");
    auto fresh = Store()->Load(key_);
    ASSERT_TRUE(fresh) << fresh.error().ToString();
    EXPECT_EQ(*fresh, ShardCheckpoint{}) << checkpoint;
  }
  // Anything else is an error naming the item, never a silent fresh start.
  PutRaw(R"({"leaseKey":{"S":")" + lease_key_ + R"("},"checkpoint":{"S":"yesterday"}})");
  auto odd = Store()->Load(key_);
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code(), ErrorCode::kParse);
  EXPECT_NE(odd.error().message().find("checkpoint 'yesterday' is neither"), std::string::npos)
      << odd.error().ToString();
}

TEST_F(DynamoDbStoreIT, AStaleWriterCannotMoveTheCheckpointBackwards) {
  auto first = Store();
  auto second = Store();
  ASSERT_TRUE(first->Load(key_));
  ASSERT_TRUE(first->Save(key_, At("100")));
  ASSERT_TRUE(second->Load(key_));
  ASSERT_TRUE(second->Save(key_, At("300")));

  // `first` last saw the item at 100 and would now write 200 over 300.
  auto saved = first->Save(key_, At("200"));
  ASSERT_FALSE(saved) << "a stale writer moved the checkpoint";
  EXPECT_EQ(saved.error().code(), ErrorCode::kConflict);
  EXPECT_FALSE(saved.error().retriable());
  EXPECT_NE(saved.error().message().find("shardId-000000000003"), std::string::npos)
      << saved.error().ToString();
  EXPECT_NE(saved.error().message().find("another writer"), std::string::npos)
      << saved.error().ToString();
  // It keeps refusing rather than learning the new counter and writing.
  EXPECT_FALSE(first->Save(key_, At("200")));
  EXPECT_EQ(*Store()->Load(key_), At("300"));

  // Two stores that never loaded the shard race for its first save: one wins.
  const ShardKey fresh{"billing", "orders", "shardId-000000000009"};
  auto a = Store();
  auto b = Store();
  ASSERT_TRUE(a->Load(fresh));
  ASSERT_TRUE(b->Load(fresh));
  ASSERT_TRUE(a->Save(fresh, At("5")));
  auto lost = b->Save(fresh, At("4"));
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(*Store()->Load(fresh), At("5"));
}

TEST_F(DynamoDbStoreIT, ASaveWhoseAnswerWasLostSucceedsWhenSentAgain) {
  auto transport = std::make_shared<LosingTransport>(RealTransport());
  auto store = Store(transport);
  ASSERT_TRUE(store->Load(key_));
  ASSERT_TRUE(store->Save(key_, At("100")));

  transport->lose_updates = true;
  auto saved = store->Save(key_, At("200"));
  ASSERT_FALSE(saved);
  EXPECT_TRUE(saved.error().retriable()) << saved.error().ToString();
  transport->lose_updates = false;
  EXPECT_EQ(transport->lost, 1);
  EXPECT_EQ(Attr(lease_key_, "leaseCounter"), "2");  // the write was carried out

  // The pipeline sends the same save again: the item already holds it.
  auto again = store->Save(key_, At("200"));
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(Attr(lease_key_, "leaseCounter"), "2");
  ASSERT_TRUE(store->Save(key_, At("300")));
  EXPECT_EQ(Attr(lease_key_, "leaseCounter"), "3");
  EXPECT_EQ(*Store()->Load(key_), At("300"));
}

TEST_F(DynamoDbStoreIT, ATableWithAnotherKeyIsAClearError) {
  auto created = Client(endpoint_).Call(
      "CreateTable", R"({"TableName":")" + table_ +
                         R"(","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],)"
                         R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],)"
                         R"("BillingMode":"PAY_PER_REQUEST"})");
  ASSERT_TRUE(created) << created.error().ToString();
  auto loaded = Store()->Load(key_);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kConfig);
  EXPECT_NE(loaded.error().message().find("hash key 'id', not the one string hash key 'leaseKey'"),
            std::string::npos)
      << loaded.error().ToString();
}

TEST_F(DynamoDbStoreIT, AWrongSecretIsRefusedWithAnAuthError) {
  DynamoDbCheckpointStore store(DynaliteClient(endpoint_, RealTransport(), "not-the-secret"),
                                table_);
  auto loaded = store.Load(key_);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kAuth) << loaded.error().ToString();
  EXPECT_EQ(loaded.error().ToString().find("not-the-secret"), std::string::npos);
}

}  // namespace
}  // namespace kc::testing
