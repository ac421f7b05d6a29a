// The DynamoDB lease table against dynalite (KC_DYNAMODB_ENDPOINT), which
// checks every request's signature: the Kinesis Client Library's layout,
// every conditional write refused when the lease moved on, writes whose
// answer was lost recognised when sent again, the handoff of a lease, a
// KCL application's table adopted, and a listing of more than one page.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "stores/dynamodb/dynamodb_lease_table.h"
#include "support/dynalite.h"
#include "support/losing_transport.h"

namespace kc::testing {
namespace {

using checkpoint::DynamoDbLeaseTable;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

ShardCheckpoint At(std::string seq, uint64_t sub = 0) {
  ShardCheckpoint s;
  s.position = ShardPosition{std::move(seq), sub};
  return s;
}

// A lease for a shard without parents.
NewLease Fresh(const std::string& shard, std::string initial = "TRIM_HORIZON") {
  return NewLease{.shard_id = shard,
                  .stream = "orders",
                  .parents = {},
                  .starting_hash_key = {},
                  .ending_hash_key = {},
                  .initial_checkpoint = std::move(initial)};
}

constexpr char kSeq1[] = "49590338271490256608559692538361571095921575989136588898";
constexpr char kSeq2[] = "49590338271490256608559692538361571095921575989136588999";

TEST(DynamoDbLeaseTable, MissingServer) {
  if (!Env("KC_DYNAMODB_ENDPOINT").empty()) return;
  if (Env("KC_REQUIRE_SERVICES") == "1") {
    FAIL() << "KC_DYNAMODB_ENDPOINT is not set but KC_REQUIRE_SERVICES=1; start dynalite with "
              "kc_start_dynalite (scripts/test does)";
  }
  GTEST_SKIP() << "KC_DYNAMODB_ENDPOINT is not set";
}

class DynamoDbLeaseTableIT : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = Env("KC_DYNAMODB_ENDPOINT");
    if (endpoint_.empty()) GTEST_SKIP() << "KC_DYNAMODB_ENDPOINT is not set";
    table_ = DynaliteTables::RunTable(
        std::string("leases-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    DynaliteTables::DropAtExit(table_);
  }
  std::unique_ptr<DynamoDbLeaseTable> Table(
      std::shared_ptr<aws::HttpTransport> transport = SharedCurlTransport()) const {
    return std::make_unique<DynamoDbLeaseTable>(DynaliteClient(endpoint_, std::move(transport)),
                                                table_);
  }
  std::string Attr(const std::string& shard, const std::string& name) const {
    return DynaliteTables::Attr(endpoint_, table_, shard, name);
  }
  std::string RawItem(const std::string& shard) const {
    return DynaliteTables::RawItem(endpoint_, table_, shard);
  }
  // The lease of `shard` as List gives it.
  Lease Listed(LeaseTable& table, const std::string& shard) const {
    auto leases = table.List();
    EXPECT_TRUE(leases) << leases.error().ToString();
    if (leases) {
      for (const auto& l : *leases) {
        if (l.shard_id == shard) return l;
      }
    }
    ADD_FAILURE() << "no lease for " << shard;
    return {};
  }

  std::string endpoint_;
  std::string table_;
  const std::string shard_ = "shardId-000000000003";
};

TEST_F(DynamoDbLeaseTableIT, ANewLeaseHasTheKclLayoutAndIsCreatedOnce) {
  auto table = Table();
  NewLease lease{.shard_id = shard_,
                 .stream = "orders",
                 .parents = {"shardId-000000000000", "shardId-000000000001"},
                 .starting_hash_key = "0",
                 .ending_hash_key = "170141183460469231731687303715884105727",
                 .initial_checkpoint = "TRIM_HORIZON"};
  auto created = table->Create(lease);
  ASSERT_TRUE(created) << created.error().ToString();
  EXPECT_TRUE(*created);
  EXPECT_EQ(Attr(shard_, "leaseKey"), shard_);
  EXPECT_EQ(Attr(shard_, "leaseCounter"), "0");
  EXPECT_EQ(Attr(shard_, "leaseOwner"), "");
  EXPECT_EQ(Attr(shard_, "checkpoint"), "TRIM_HORIZON");
  EXPECT_EQ(Attr(shard_, "checkpointSubSequenceNumber"), "0");
  EXPECT_EQ(Attr(shard_, "ownerSwitchesSinceCheckpoint"), "0");
  EXPECT_EQ(Attr(shard_, "startingHashKey"), "0");
  EXPECT_EQ(Attr(shard_, "endingHashKey"), "170141183460469231731687303715884105727");
  EXPECT_EQ(Attr(shard_, "kcStream"), "orders");
  EXPECT_NE(RawItem(shard_).find(R"("parentShardId":{"SS":[)"), std::string::npos)
      << RawItem(shard_);

  // A second Create (another worker, or this one again) leaves it alone.
  auto first = Listed(*table, shard_);
  ASSERT_TRUE(table->Take(first, "worker-a"));
  auto again = table->Create(lease);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_FALSE(*again);
  EXPECT_EQ(Attr(shard_, "leaseOwner"), "worker-a");

  Lease listed = Listed(*table, shard_);
  EXPECT_EQ(listed.owner, "worker-a");
  EXPECT_EQ(listed.counter, 1);
  EXPECT_EQ(listed.parents,
            (std::vector<std::string>{"shardId-000000000000", "shardId-000000000001"}));
  EXPECT_EQ(listed.checkpoint, "TRIM_HORIZON");
  EXPECT_EQ(listed.stream, "orders");
  EXPECT_FALSE(listed.shard_end);
  auto state = table->Load(shard_);
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_EQ(*state, ShardCheckpoint{});
}

TEST_F(DynamoDbLeaseTableIT, EveryWriteIsRefusedOnceTheLeaseMovedOn) {
  auto table = Table();
  ASSERT_TRUE(table->Create(Fresh(shard_)));
  Lease free = Listed(*table, shard_);
  auto a = table->Take(free, "worker-a");
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->owner, "worker-a");
  EXPECT_EQ(a->counter, 1);
  // Another worker that saw it free is too late.
  auto late = table->Take(free, "worker-b");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kConflict);

  LeaseHold hold{"worker-a", a->counter};
  auto renewed = table->Renew(shard_, hold);
  ASSERT_TRUE(renewed) << renewed.error().ToString();
  EXPECT_EQ(renewed->counter, 2);
  hold.counter = renewed->counter;
  auto saved = table->Save(shard_, hold, At(kSeq1, 4));
  ASSERT_TRUE(saved) << saved.error().ToString();
  EXPECT_EQ(*saved, 3);
  hold.counter = *saved;
  EXPECT_EQ(Attr(shard_, "checkpoint"), kSeq1);
  EXPECT_EQ(Attr(shard_, "checkpointSubSequenceNumber"), "4");

  // worker-b takes it as expired (seen at counter 3); from then on every
  // write of worker-a is refused and the checkpoint stays where it was.
  Lease seen = Listed(*table, shard_);
  auto b = table->Take(seen, "worker-b");
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_EQ(Attr(shard_, "ownerSwitchesSinceCheckpoint"), "1");
  auto stale_save = table->Save(shard_, hold, At(kSeq2));
  ASSERT_FALSE(stale_save);
  EXPECT_EQ(stale_save.error().code(), ErrorCode::kConflict);
  EXPECT_NE(stale_save.error().message().find("worker-a no longer holds"), std::string::npos)
      << stale_save.error().ToString();
  EXPECT_EQ(*table->Load(shard_), At(kSeq1, 4));
  auto stale_renew = table->Renew(shard_, hold);
  ASSERT_FALSE(stale_renew);
  EXPECT_EQ(stale_renew.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(table->Release(shard_, hold, std::nullopt).error().code(), ErrorCode::kConflict);
  // Even with the counter right, an owner that is not the holder is refused.
  EXPECT_EQ(table->Save(shard_, {"worker-a", b->counter}, At(kSeq2)).error().code(),
            ErrorCode::kConflict);

  // worker-b checkpoints, and releases the lease: free again, one further.
  auto b_saved = table->Save(shard_, {"worker-b", b->counter}, At(kSeq2));
  ASSERT_TRUE(b_saved) << b_saved.error().ToString();
  EXPECT_EQ(Attr(shard_, "ownerSwitchesSinceCheckpoint"), "0");
  ASSERT_TRUE(table->Release(shard_, {"worker-b", *b_saved}, std::nullopt));
  Lease released = Listed(*table, shard_);
  EXPECT_EQ(released.owner, std::nullopt);
  EXPECT_EQ(released.counter, *b_saved + 1);
  EXPECT_EQ(*table->Load(shard_), At(kSeq2));
}

TEST_F(DynamoDbLeaseTableIT, AFirstBatchRangeIsKeptBesideTheStartingSentinel) {
  auto table = Table();
  ASSERT_TRUE(table->Create(Fresh(shard_, "LATEST")));
  auto a = table->Take(Listed(*table, shard_), "worker-a");
  ASSERT_TRUE(a);
  ShardCheckpoint pending;
  pending.pending.push_back({{kSeq1, 0}, {kSeq2, 0}});
  auto saved = table->Save(shard_, {"worker-a", a->counter}, pending);
  ASSERT_TRUE(saved) << saved.error().ToString();
  // A KCL worker still finds where to start; this project finds the range.
  EXPECT_EQ(Attr(shard_, "checkpoint"), "LATEST");
  EXPECT_EQ(*table->Load(shard_), pending);
  ShardCheckpoint end = At(kSeq2);
  end.shard_end = true;
  ASSERT_TRUE(table->Save(shard_, {"worker-a", *saved}, end));
  EXPECT_EQ(Attr(shard_, "checkpoint"), "SHARD_END");
  EXPECT_TRUE(Listed(*table, shard_).shard_end);
  EXPECT_EQ(*table->Load(shard_), end);
}

TEST_F(DynamoDbLeaseTableIT, AHandoffIsAskedForSeenAtRenewalAndPassedOn) {
  auto table = Table();
  ASSERT_TRUE(table->Create(Fresh(shard_)));
  auto a = table->Take(Listed(*table, shard_), "worker-a");
  ASSERT_TRUE(a);
  Lease seen = Listed(*table, shard_);
  ASSERT_TRUE(table->RequestHandoff(seen, "worker-b"));
  // The request leaves the counter alone: the owner's renewals go on, and
  // tell it of the request.
  EXPECT_EQ(Attr(shard_, "leaseCounter"), "1");
  auto renewed = table->Renew(shard_, {"worker-a", a->counter});
  ASSERT_TRUE(renewed) << renewed.error().ToString();
  EXPECT_EQ(renewed->handoff_to, "worker-b");
  // One request at a time.
  auto second = table->RequestHandoff(Listed(*table, shard_), "worker-c");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kConflict);
  // The owner passes it on; the request is gone with it.
  ASSERT_TRUE(table->Release(shard_, {"worker-a", renewed->counter}, "worker-b"));
  Lease passed = Listed(*table, shard_);
  EXPECT_EQ(passed.owner, "worker-b");
  EXPECT_EQ(passed.handoff_to, std::nullopt);
  EXPECT_EQ(passed.counter, renewed->counter + 1);
  EXPECT_EQ(Attr(shard_, "ownerSwitchesSinceCheckpoint"), "1");
  // A request for a lease whose owner changed since it was seen is refused.
  EXPECT_EQ(table->RequestHandoff(seen, "worker-c").error().code(), ErrorCode::kConflict);
}

TEST_F(DynamoDbLeaseTableIT, AWriteWhoseAnswerWasLostIsRecognisedWhenSentAgain) {
  auto transport = std::make_shared<LosingTransport>(SharedCurlTransport());
  auto table = Table(transport);
  ASSERT_TRUE(table->Create(Fresh(shard_)));
  Lease free = Listed(*table, shard_);

  transport->lose_updates = true;
  EXPECT_FALSE(table->Take(free, "worker-a"));
  transport->lose_updates = false;
  auto taken = table->Take(free, "worker-a");
  ASSERT_TRUE(taken) << taken.error().ToString();
  EXPECT_EQ(taken->counter, 1);

  transport->lose_updates = true;
  EXPECT_FALSE(table->Renew(shard_, {"worker-a", 1}));
  transport->lose_updates = false;
  auto renewed = table->Renew(shard_, {"worker-a", 1});
  ASSERT_TRUE(renewed) << renewed.error().ToString();
  EXPECT_EQ(renewed->counter, 2);

  transport->lose_updates = true;
  EXPECT_FALSE(table->Save(shard_, {"worker-a", 2}, At(kSeq1)));
  transport->lose_updates = false;
  auto saved = table->Save(shard_, {"worker-a", 2}, At(kSeq1));
  ASSERT_TRUE(saved) << saved.error().ToString();
  EXPECT_EQ(*saved, 3);
  // The same counter with another state is not that save: refused.
  EXPECT_EQ(table->Save(shard_, {"worker-a", 2}, At(kSeq2)).error().code(), ErrorCode::kConflict);

  transport->lose_updates = true;
  EXPECT_FALSE(table->Release(shard_, {"worker-a", 3}, std::nullopt));
  transport->lose_updates = false;
  EXPECT_TRUE(table->Release(shard_, {"worker-a", 3}, std::nullopt));
  EXPECT_EQ(Listed(*table, shard_).owner, std::nullopt);
  EXPECT_GE(transport->lost.load(), 4);
}

// A table as a stopped KCL 2.x application leaves it, written item by item
// as the AWS CLI would: every shard resumes after the KCL's checkpoint.
TEST_F(DynamoDbLeaseTableIT, AKclApplicationsTableIsAdopted) {
  auto table = Table();
  ASSERT_TRUE(table->List());  // creates the table, as the KCL had
  DynaliteTables::PutRaw(
      endpoint_, table_,
      std::string(R"({"leaseKey":{"S":"shardId-000000000000"},"leaseOwner":{"S":"kcl-host-1"},)"
                  R"("leaseCounter":{"N":"5121"},"ownerSwitchesSinceCheckpoint":{"N":"0"},)"
                  R"("checkpoint":{"S":"SHARD_END"},"checkpointSubSequenceNumber":{"N":"0"},)"
                  R"("childShardIds":{"SS":["shardId-000000000002"]},)"
                  R"("startingHashKey":{"S":"0"},"endingHashKey":{"S":"1000"}})"));
  DynaliteTables::PutRaw(
      endpoint_, table_,
      std::string(R"({"leaseKey":{"S":"shardId-000000000002"},"leaseOwner":{"S":"kcl-host-2"},)"
                  R"("leaseCounter":{"N":"77"},"ownerSwitchesSinceCheckpoint":{"N":"2"},)"
                  R"("checkpoint":{"S":")") +
          kSeq1 +
          R"("},"checkpointSubSequenceNumber":{"N":"3"},)"
          R"("parentShardId":{"SS":["shardId-000000000000"]},)"
          R"("pendingCheckpoint":{"S":")" +
          kSeq2 + R"("},"pendingCheckpointSubSequenceNumber":{"N":"0"}})");
  auto leases = table->List();
  ASSERT_TRUE(leases) << leases.error().ToString();
  ASSERT_EQ(leases->size(), 2u);
  Lease parent = Listed(*table, "shardId-000000000000");
  EXPECT_TRUE(parent.shard_end);
  EXPECT_EQ(parent.owner, "kcl-host-1");
  Lease child = Listed(*table, "shardId-000000000002");
  EXPECT_EQ(child.counter, 77);
  EXPECT_EQ(child.parents, std::vector<std::string>{"shardId-000000000000"});
  auto taken = table->Take(child, "worker-a");
  ASSERT_TRUE(taken) << taken.error().ToString();
  EXPECT_EQ(Attr("shardId-000000000002", "ownerSwitchesSinceCheckpoint"), "3");
  // The KCL's checkpoint wins, sub-sequence number included; its pending
  // (prepared, not committed) checkpoint is not a checkpoint.
  EXPECT_EQ(*table->Load("shardId-000000000002"), At(kSeq1, 3));
  auto saved = table->Save("shardId-000000000002", {"worker-a", taken->counter}, At(kSeq2, 1));
  ASSERT_TRUE(saved) << saved.error().ToString();
  // What a KCL worker reads back: the checkpoint in its own attributes.
  EXPECT_EQ(Attr("shardId-000000000002", "checkpoint"), kSeq2);
  EXPECT_EQ(Attr("shardId-000000000002", "checkpointSubSequenceNumber"), "1");
}

TEST_F(DynamoDbLeaseTableIT, AListingOfManyPagesHasEveryLease) {
  auto table = Table();
  ASSERT_TRUE(table->List());
  // Items of some 4 KB, so that the table is larger than one Scan page (1 MB).
  const std::string pad(4000, 'x');
  constexpr int kLeases = 320;
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < kLeases; i += 4) {
        DynaliteTables::PutRaw(endpoint_, table_,
                               R"({"leaseKey":{"S":"shardId-)" + std::to_string(100000 + i) +
                                   R"("},"leaseCounter":{"N":")" + std::to_string(i) +
                                   R"("},"kcPad":{"S":")" + pad + R"("}})");
      }
    });
  }
  for (auto& w : writers) w.join();
  auto leases = table->List();
  ASSERT_TRUE(leases) << leases.error().ToString();
  ASSERT_EQ(leases->size(), static_cast<size_t>(kLeases));
  std::vector<bool> seen(kLeases);
  for (const auto& l : *leases) {
    const int i = std::stoi(l.shard_id.substr(8)) - 100000;
    ASSERT_TRUE(i >= 0 && i < kLeases) << l.shard_id;
    EXPECT_FALSE(seen[i]) << l.shard_id << " twice";
    seen[i] = true;
    EXPECT_EQ(l.counter, i);
  }
}

}  // namespace
}  // namespace kc::testing
