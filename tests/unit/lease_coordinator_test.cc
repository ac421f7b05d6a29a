// The lease coordinator over a lease table in memory, on the real clock with
// a failover time of a second: a renewal whose answer was lost does not cost
// the lease, a reader of a holding that ended cannot save even once the
// lease is back, leases are given back on the way out, and a lease asked
// for is handed to the worker that asked.
#include "engine/lease_coordinator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "support/memory_lease_table.h"

namespace kc::core {
namespace {

using namespace std::chrono_literals;
using testing::MemoryLeaseTable;

bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds within = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

ShardCheckpoint At(std::string seq) {
  ShardCheckpoint s;
  s.position = ShardPosition{std::move(seq), 0};
  return s;
}

class LeaseCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.name = "p";
    options_.stream = "s";
    options_.leases = LeaseOptions{.worker_id = "me", .failover_time = 1s};
    coordinator_ = std::make_unique<LeaseCoordinator>(options_, table_, &Clock::Real());
    kinesis::Shard shard;
    shard.shard_id = "shard-1";
    shard.starting_sequence_number = "1";
    ASSERT_TRUE(coordinator_->Sync({shard}));
    coordinator_->Start([] {});
    ASSERT_TRUE(Eventually([&] { return coordinator_->Held().contains("shard-1"); }));
    generation_ = coordinator_->Held().at("shard-1");
  }
  void TearDown() override { coordinator_->Stop(); }

  Status Save(LeaseCoordinator::Generation generation, const ShardCheckpoint& state) {
    return coordinator_->StoreFor("shard-1", generation)->Save({"p", "s", "shard-1"}, state);
  }

  PipelineOptions options_;
  std::shared_ptr<MemoryLeaseTable> table_ = std::make_shared<MemoryLeaseTable>();
  std::unique_ptr<LeaseCoordinator> coordinator_;
  LeaseCoordinator::Generation generation_ = 0;
};

TEST_F(LeaseCoordinatorTest, ARenewalWhoseAnswerWasLostDoesNotCostTheLease) {
  {
    auto lock = table_->Lock();
    table_->lose_renew_answers = 1;
  }
  ASSERT_TRUE(Eventually([&] { return coordinator_->telemetry().renewals_failed >= 1; }));
  // The counter moved without this worker knowing: the save finds out.
  auto saved = Save(generation_, At("100"));
  ASSERT_TRUE(saved) << saved.error().ToString();
  EXPECT_EQ(table_->State("shard-1"), At("100"));
  EXPECT_EQ(coordinator_->telemetry().lost, 0u);
  EXPECT_TRUE(coordinator_->Holds("shard-1", generation_));
}

TEST_F(LeaseCoordinatorTest, AReaderOfAnEndedHoldingCannotSaveOnceTheLeaseIsBack) {
  ASSERT_TRUE(Save(generation_, At("100")));
  table_->Set("shard-1", "other");  // taken by another worker
  ASSERT_TRUE(Eventually([&] { return coordinator_->TakeLost().contains("shard-1"); }));
  auto stale = Save(generation_, At("50"));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  table_->Set("shard-1", std::nullopt);  // given back: taken again, a new holding
  ASSERT_TRUE(Eventually([&] { return coordinator_->Held().contains("shard-1"); }));
  const auto again = coordinator_->Held().at("shard-1");
  EXPECT_NE(again, generation_);
  auto late = Save(generation_, At("50"));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(table_->State("shard-1"), At("100"));
  ASSERT_TRUE(Save(again, At("150")));
  EXPECT_EQ(table_->State("shard-1"), At("150"));
  EXPECT_FALSE(coordinator_->Holds("shard-1", generation_));
  EXPECT_TRUE(coordinator_->Holds("shard-1", again));
}

TEST_F(LeaseCoordinatorTest, LeasesAreGivenBackOnTheWayOut) {
  coordinator_->StopTaking();
  coordinator_->Stop();
  coordinator_->ReleaseAll();
  EXPECT_EQ(table_->Get("shard-1").owner, std::nullopt);
  EXPECT_TRUE(coordinator_->Held().empty());
}

TEST_F(LeaseCoordinatorTest, ALeaseAskedForIsHandedToTheWorkerThatAsked) {
  ASSERT_TRUE(table_->RequestHandoff(table_->Get("shard-1"), "other"));
  ASSERT_TRUE(Eventually([&] { return coordinator_->Asked().contains("shard-1"); }));
  coordinator_->HandOver("shard-1", generation_);
  EXPECT_EQ(table_->Get("shard-1").owner, "other");
  EXPECT_EQ(table_->Get("shard-1").handoff_to, std::nullopt);
  EXPECT_EQ(coordinator_->telemetry().handed_over, 1u);
  EXPECT_FALSE(Save(generation_, At("1")));
}

TEST(LeaseCoordinatorSync, ATableWithLeasesOfAnotherStreamIsRefused) {
  auto table = std::make_shared<MemoryLeaseTable>();
  ASSERT_TRUE(table->Create(NewLease{.shard_id = "shard-1",
                                     .stream = "payments",
                                     .parents = {},
                                     .starting_hash_key = {},
                                     .ending_hash_key = {},
                                     .initial_checkpoint = "TRIM_HORIZON"}));
  PipelineOptions options;
  options.name = "p";
  options.stream = "orders";
  options.leases = LeaseOptions{.worker_id = "me", .failover_time = 1s};
  LeaseCoordinator coordinator(options, table, &Clock::Real());
  kinesis::Shard shard;
  shard.shard_id = "shard-1";
  auto synced = coordinator.Sync({shard});
  ASSERT_FALSE(synced);
  EXPECT_EQ(synced.error().code(), ErrorCode::kConfig);
  EXPECT_NE(synced.error().message().find("holds leases of stream payments"), std::string::npos)
      << synced.error().ToString();
}

}  // namespace
}  // namespace kc::core
