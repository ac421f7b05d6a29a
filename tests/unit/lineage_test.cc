// ShardLineage: which shards may be read, given splits, merges, shards that
// an earlier run finished, and once mode.
#include "engine/lineage.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace kc::core {
namespace {

kinesis::Shard Open(std::string id, std::string parent = "", std::string adjacent = "") {
  kinesis::Shard s;
  s.shard_id = std::move(id);
  s.parent_shard_id = std::move(parent);
  s.adjacent_parent_shard_id = std::move(adjacent);
  s.starting_sequence_number = "1";
  return s;
}

kinesis::Shard Closed(std::string id, std::string parent = "", std::string adjacent = "") {
  kinesis::Shard s = Open(std::move(id), std::move(parent), std::move(adjacent));
  s.ending_sequence_number = "99";
  return s;
}

std::vector<std::string> Ids(const ShardLineage::Plan& plan) {
  std::vector<std::string> ids;
  for (const auto& start : plan.start) ids.push_back(start.shard->shard_id);
  return ids;
}

std::vector<std::string> Ids(const std::vector<const kinesis::Shard*>& shards) {
  std::vector<std::string> ids;
  for (const kinesis::Shard* s : shards) ids.push_back(s->shard_id);
  return ids;
}

using Names = std::vector<std::string>;

TEST(ShardLineageTest, ChildrenOfASplitWaitForTheirParentToFinish) {
  std::vector<kinesis::Shard> listing = {Closed("p"), Open("a", "p"), Open("b", "p")};
  ShardLineage lineage;
  lineage.Checked("p", /*shard_end=*/false);
  auto plan = lineage.Next(listing, {});
  EXPECT_EQ(Ids(plan), Names({"p"}));
  EXPECT_FALSE(plan.start[0].after_parents);
  EXPECT_FALSE(plan.all_done);

  // While p is read, nothing else starts.
  EXPECT_TRUE(lineage.Next(listing, {"p"}).start.empty());

  lineage.Ended("p", ShardOutcome::kShardEnd);
  plan = lineage.Next(listing, {});
  EXPECT_EQ(Ids(plan), Names({"a", "b"}));
  EXPECT_TRUE(plan.start[0].after_parents);
  EXPECT_TRUE(plan.start[1].after_parents);
}

TEST(ShardLineageTest, AMergedChildWaitsForBothParents) {
  std::vector<kinesis::Shard> listing = {Closed("a"), Closed("b"), Open("c", "a", "b")};
  ShardLineage lineage;
  lineage.Checked("a", false);
  lineage.Checked("b", false);
  EXPECT_EQ(Ids(lineage.Next(listing, {})), Names({"a", "b"}));
  lineage.Ended("a", ShardOutcome::kShardEnd);
  EXPECT_TRUE(lineage.Next(listing, {"b"}).start.empty());
  lineage.Ended("b", ShardOutcome::kShardEnd);
  EXPECT_EQ(Ids(lineage.Next(listing, {})), Names({"c"}));
}

TEST(ShardLineageTest, AParentNoLongerListedIsNotWaitedFor) {
  std::vector<kinesis::Shard> listing = {Open("child", "expired-parent")};
  ShardLineage lineage;
  auto plan = lineage.Next(listing, {});
  EXPECT_EQ(Ids(plan), Names({"child"}));
  EXPECT_FALSE(plan.start[0].after_parents);
}

TEST(ShardLineageTest, ClosedShardsAreCheckedOnceAndAFinishedOneIsNotReadAgain) {
  std::vector<kinesis::Shard> listing = {Closed("done"), Closed("half"), Open("open"),
                                         Open("child", "done")};
  ShardLineage lineage;
  EXPECT_EQ(Ids(lineage.ToCheck(listing, {})), Names({"done", "half"}));
  // A shard with a reader is left to the reader.
  EXPECT_EQ(Ids(lineage.ToCheck(listing, {"half"})), Names({"done"}));

  lineage.Checked("done", /*shard_end=*/true);
  lineage.Checked("half", /*shard_end=*/false);
  EXPECT_TRUE(lineage.ToCheck(listing, {}).empty());
  EXPECT_TRUE(lineage.finished("done"));
  auto plan = lineage.Next(listing, {});
  EXPECT_EQ(Ids(plan), Names({"half", "open", "child"}));
  EXPECT_TRUE(plan.start[2].after_parents);
}

TEST(ShardLineageTest, OnceModeIsDoneWhenEveryShardCaughtUpOrFinished) {
  std::vector<kinesis::Shard> listing = {Closed("old"), Open("a", "old"), Open("b")};
  ShardLineage lineage;
  lineage.Checked("old", /*shard_end=*/true);
  EXPECT_EQ(Ids(lineage.Next(listing, {})), Names({"a", "b"}));
  lineage.Ended("a", ShardOutcome::kCaughtUp);
  auto plan = lineage.Next(listing, {"b"});
  EXPECT_TRUE(plan.start.empty());
  EXPECT_FALSE(plan.all_done);  // b is still being read
  lineage.Ended("b", ShardOutcome::kCaughtUp);
  plan = lineage.Next(listing, {});
  EXPECT_TRUE(plan.start.empty());
  EXPECT_TRUE(plan.all_done);
}

TEST(ShardLineageTest, ACaughtUpShardThatClosesIsReadToItsEndForItsChildren) {
  ShardLineage lineage;
  std::vector<kinesis::Shard> before = {Open("a")};
  lineage.Next(before, {});
  lineage.Ended("a", ShardOutcome::kCaughtUp);
  EXPECT_TRUE(lineage.Next(before, {}).all_done);

  // Split since: a is closed, its children are listed.
  std::vector<kinesis::Shard> after = {Closed("a"), Open("a1", "a"), Open("a2", "a")};
  lineage.Checked("a", /*shard_end=*/false);
  auto plan = lineage.Next(after, {});
  EXPECT_EQ(Ids(plan), Names({"a"}));
  EXPECT_FALSE(plan.all_done);
  lineage.Ended("a", ShardOutcome::kShardEnd);
  EXPECT_EQ(Ids(lineage.Next(after, {})), Names({"a1", "a2"}));
}

TEST(ShardLineageTest, AStoppedShardIsStartedAgainNextRound) {
  std::vector<kinesis::Shard> listing = {Open("a")};
  ShardLineage lineage;
  lineage.Next(listing, {});
  lineage.Ended("a", ShardOutcome::kStopped);
  EXPECT_EQ(Ids(lineage.Next(listing, {})), Names({"a"}));
}

}  // namespace
}  // namespace kc::core
