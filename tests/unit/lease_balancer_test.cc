// The lease balancing rules: targets, what is taken first, when a handoff
// is asked for; and workers that join, leave and restart, simulated round
// by round over a table in memory, reaching an even spread and staying.
#include "engine/lease_balancer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace kc::core {
namespace {

using namespace std::chrono_literals;

Lease Owned(std::string shard, std::optional<std::string> owner, int64_t counter = 1) {
  Lease l;
  l.shard_id = std::move(shard);
  l.owner = std::move(owner);
  l.counter = counter;
  return l;
}

std::vector<Lease> Shards(int n, const std::vector<std::string>& owners) {
  std::vector<Lease> out;
  for (int i = 0; i < n; ++i) {
    std::optional<std::string> owner;
    if (!owners.empty()) owner = owners[i % owners.size()];
    out.push_back(Owned("shard-" + std::to_string(100 + i), owner));
  }
  return out;
}

std::vector<std::string> Ids(const std::vector<Lease>& leases) {
  std::vector<std::string> ids;
  for (const auto& l : leases) ids.push_back(l.shard_id);
  return ids;
}

class LeaseBalancerTest : public ::testing::Test {
 protected:
  LeaseRound Plan(const std::vector<Lease>& leases, const std::string& me,
                  const std::set<std::string>& held = {},
                  const std::map<std::string, Clock::TimePoint>& asked = {},
                  bool starting = false) {
    return PlanLeaseRound(leases, watch_,
                          LeaseView{.me = me,
                                    .options = options_,
                                    .held = held,
                                    .asked = asked,
                                    .now = now_,
                                    .starting = starting});
  }
  LeaseOptions options_{.worker_id = "", .failover_time = 3s};
  LeaseWatch watch_;
  Clock::TimePoint now_ = Clock::TimePoint() + 1h;
};

TEST_F(LeaseBalancerTest, AWorkerAloneTakesEveryFreeLeaseHalfARoundWhileStarting) {
  auto leases = Shards(12, {});
  watch_.Saw(leases, now_);
  auto round = Plan(leases, "a");
  EXPECT_EQ(round.target, 12u);
  EXPECT_EQ(round.take.size(), 12u);
  EXPECT_TRUE(round.ask.empty());
  EXPECT_EQ(Plan(leases, "a", {}, {}, /*starting=*/true).take.size(), 6u);
}

TEST_F(LeaseBalancerTest, TheTargetCountsLiveOwnersAndItsCap) {
  auto leases = Shards(12, {"a", "b", "c"});
  watch_.Saw(leases, now_);
  auto round = Plan(leases, "d");
  EXPECT_EQ(round.workers, 4u);
  EXPECT_EQ(round.target, 3u);
  options_.max_leases_per_worker = 2;
  EXPECT_EQ(Plan(leases, "d").target, 2u);
}

TEST_F(LeaseBalancerTest, ExpiredLeasesAreTakenLongestUnrenewedFirst) {
  std::vector<Lease> leases = {Owned("s1", "gone", 5), Owned("s2", "gone", 9),
                               Owned("s3", "gone", 2), Owned("s4", "b", 1)};
  watch_.Saw({leases[1]}, now_);
  now_ += 1s;
  watch_.Saw(leases, now_);  // s1, s3 and s4 first seen one second later
  now_ += 2500ms;            // s2 unchanged for 3.5 s, the others for 2.5 s
  auto round = Plan(leases, "a");
  EXPECT_EQ(Ids(round.take), std::vector<std::string>{"s2"});
  now_ += 600ms;
  leases[3].counter = 2;  // b renews
  watch_.Saw(leases, now_);
  round = Plan(leases, "a");
  // "gone" no longer counts as a worker: target ceil(4 / 2) = 2.
  EXPECT_EQ(round.workers, 2u);
  EXPECT_EQ(Ids(round.take), (std::vector<std::string>{"s2", "s1"}));
}

TEST_F(LeaseBalancerTest, FreeLeasesComeBeforeExpiredOnesAndItsOwnOfAnEarlierRunWaitsToo) {
  std::vector<Lease> leases = {Owned("s1", "gone"), Owned("s2", std::nullopt), Owned("s3", "a")};
  watch_.Saw(leases, now_);
  // A lease naming this worker that it does not hold: maybe another process
  // with the same id, so it waits for the failover time like the others.
  EXPECT_EQ(Ids(Plan(leases, "a").take), std::vector<std::string>{"s2"});
  now_ += 3s;
  auto round = Plan(leases, "a");
  EXPECT_EQ(round.take.size(), 3u);
  EXPECT_EQ(round.take[0].shard_id, "s2");
}

TEST_F(LeaseBalancerTest, WorkersTakeFreeLeasesInOrdersOfTheirOwn) {
  auto leases = Shards(12, {});
  watch_.Saw(leases, now_);
  EXPECT_NE(Ids(Plan(leases, "a").take), Ids(Plan(leases, "b").take));
}

TEST_F(LeaseBalancerTest, AfterAGapInTheListingsNothingCountsAsExpired) {
  LeaseWatch watch(1s);
  std::vector<Lease> leases = {Owned("s1", "b")};
  watch.Saw(leases, now_);
  now_ += 10s;  // the table was out of reach meanwhile
  watch.Saw(leases, now_);
  EXPECT_EQ(watch.Since("s1"), now_);
}

TEST_F(LeaseBalancerTest, AChildWaitsUntilEveryParentIsAtItsEnd) {
  Lease parent = Owned("p1", "b");
  Lease other = Owned("p2", std::nullopt);
  other.shard_end = true;
  Lease child = Owned("c1", std::nullopt);
  child.parents = {"p1", "p2", "expired-long-ago"};
  std::vector<Lease> leases = {parent, other, child};
  watch_.Saw(leases, now_);
  auto round = Plan(leases, "a");
  EXPECT_TRUE(round.take.empty());
  EXPECT_EQ(round.eligible, 1u);  // p1 alone
  leases[0].shard_end = true;
  leases[0].owner.reset();
  watch_.Saw(leases, now_);
  round = Plan(leases, "a");
  EXPECT_EQ(Ids(round.take), std::vector<std::string>{"c1"});
}

TEST_F(LeaseBalancerTest, AHandoffIsAskedOfTheMostLoadedOnlyWhenItHoldsTwoMore) {
  // 13 leases over a, b, c at 4 each (and one more on a), d has 1.
  std::vector<Lease> leases = Shards(12, {"a", "b", "c"});
  leases.push_back(Owned("shard-x", "d"));
  watch_.Saw(leases, now_);
  auto round = Plan(leases, "d", {"shard-x"});
  EXPECT_EQ(round.target, 4u);
  ASSERT_EQ(round.ask.size(), 1u);  // max_leases_to_steal
  EXPECT_TRUE(round.take.empty());
  // 4/4/3 and d at 3 (one asked for, not yet made): no more asks.
  std::map<std::string, Clock::TimePoint> asked = {{"shard-100", now_}};
  leases = Shards(12, {"a", "b", "c"});
  leases.push_back(Owned("shard-x", "d"));
  leases.push_back(Owned("shard-y", "d"));
  watch_.Saw(leases, now_);
  round = Plan(leases, "d", {"shard-x", "shard-y"}, asked);
  EXPECT_TRUE(round.ask.empty());
  EXPECT_TRUE(round.take.empty());
  // A handoff made is taken up; one not made in time is taken.
  leases[0].owner = "d";
  watch_.Saw(leases, now_);
  round = Plan(leases, "d", {"shard-x", "shard-y"}, asked);
  EXPECT_EQ(Ids(round.take), std::vector<std::string>{"shard-100"});
  leases[0].owner = "a";
  now_ += 6s;                          // twice the failover time
  for (auto& l : leases) ++l.counter;  // every owner renews meanwhile
  watch_.Saw(leases, now_);
  round = Plan(leases, "d", {"shard-x", "shard-y"}, asked);
  EXPECT_EQ(Ids(round.take), std::vector<std::string>{"shard-100"});
}

// Workers over a lease table in memory, each round: every worker renews
// what it holds (passing on leases asked for), then lists and plans, takes
// and asks, as the coordinator does.
class Simulation {
 public:
  explicit Simulation(int shards) {
    for (int i = 0; i < shards; ++i) {
      table_["shard-" + std::to_string(100 + i)] = Owned("shard-" + std::to_string(100 + i), {}, 0);
    }
  }
  void Join(const std::string& w) {
    Worker worker;
    worker.started = now_;
    workers_[w] = std::move(worker);
  }
  // Stops renewing (killed).
  void Kill(const std::string& w) { workers_.erase(w); }
  // Gives its leases back (a graceful stop).
  void Leave(const std::string& w) {
    for (const auto& s : workers_[w].held) {
      table_[s].owner.reset();
      ++table_[s].counter;
    }
    workers_.erase(w);
  }

  void Round() {
    now_ += 300ms;  // a round each tenth of the failover time
    for (auto& [name, w] : workers_) {
      if (now_ - w.renewed < 1s) continue;  // renewals each third
      w.renewed = now_;
      for (auto it = w.held.begin(); it != w.held.end();) {
        Lease& l = table_[*it];
        if (l.owner != name) {
          it = w.held.erase(it);  // lost
          continue;
        }
        ++l.counter;
        if (l.handoff_to) {
          l.owner = *l.handoff_to;
          l.handoff_to.reset();
          ++l.counter;
          ++handoffs_;
          it = w.held.erase(it);
          continue;
        }
        ++it;
      }
    }
    for (auto& [name, w] : workers_) {
      std::vector<Lease> listing;
      for (const auto& [id, l] : table_) listing.push_back(l);
      w.watch.Saw(listing, now_);
      for (auto it = w.asked.begin(); it != w.asked.end();) {
        const Lease& l = table_[it->first];
        it = (l.owner != name && l.owner != w.asked_of[it->first]) ? w.asked.erase(it) : ++it;
      }
      auto round = PlanLeaseRound(listing, w.watch,
                                  LeaseView{.me = name,
                                            .options = options_,
                                            .held = w.held,
                                            .asked = w.asked,
                                            .now = now_,
                                            .starting = now_ - w.started < 3s});
      for (const Lease& seen : round.take) {
        Lease& l = table_[seen.shard_id];
        if (l.counter != seen.counter || l.owner != seen.owner) continue;
        l.owner = name;
        l.handoff_to.reset();
        ++l.counter;
        w.held.insert(l.shard_id);
        w.asked.erase(l.shard_id);
      }
      for (const Lease& seen : round.ask) {
        Lease& l = table_[seen.shard_id];
        if (l.owner != seen.owner || l.handoff_to) continue;
        l.handoff_to = name;
        w.asked[l.shard_id] = now_;
        w.asked_of[l.shard_id] = *seen.owner;
      }
    }
  }
  std::map<std::string, size_t> Spread() const {
    std::map<std::string, size_t> out;
    for (const auto& [id, l] : table_) out[l.owner.value_or("(free)")]++;
    return out;
  }
  int handoffs() const { return handoffs_; }

 private:
  struct Worker {
    Clock::TimePoint started;
    Clock::TimePoint renewed;
    std::set<std::string> held;
    std::map<std::string, Clock::TimePoint> asked;
    std::map<std::string, std::string> asked_of;
    LeaseWatch watch;
  };
  LeaseOptions options_{.worker_id = "", .failover_time = 3s};
  Clock::TimePoint now_ = Clock::TimePoint() + 1h;
  std::map<std::string, Lease> table_;
  std::map<std::string, Worker> workers_;
  int handoffs_ = 0;
};

using Spread = std::map<std::string, size_t>;

TEST(LeaseSimulation, ThreeWorkersStartedTogetherSettleAtFourEachAndStay) {
  Simulation sim(12);
  sim.Join("a");
  sim.Join("b");
  sim.Join("c");
  for (int i = 0; i < 30; ++i) sim.Round();  // 3 x the failover time
  EXPECT_EQ(sim.Spread(), (Spread{{"a", 4}, {"b", 4}, {"c", 4}}));
  const int handoffs = sim.handoffs();
  for (int i = 0; i < 60; ++i) sim.Round();
  EXPECT_EQ(sim.Spread(), (Spread{{"a", 4}, {"b", 4}, {"c", 4}}));
  EXPECT_EQ(sim.handoffs(), handoffs) << "leases kept changing hands";
}

TEST(LeaseSimulation, WorkersStartedOneAfterAnotherShareByHandoffs) {
  Simulation sim(12);
  sim.Join("a");
  for (int i = 0; i < 10; ++i) sim.Round();
  EXPECT_EQ(sim.Spread(), (Spread{{"a", 12}}));
  sim.Join("b");
  sim.Join("c");
  for (int i = 0; i < 18; ++i) sim.Round();
  EXPECT_EQ(sim.Spread(), (Spread{{"a", 4}, {"b", 4}, {"c", 4}}));
  // A fourth joins: within one lease of even, in a few rounds, and stays.
  sim.Join("d");
  for (int i = 0; i < 18; ++i) sim.Round();
  EXPECT_EQ(sim.Spread(), (Spread{{"a", 3}, {"b", 3}, {"c", 3}, {"d", 3}}));
  const int handoffs = sim.handoffs();
  for (int i = 0; i < 60; ++i) sim.Round();
  EXPECT_EQ(sim.handoffs(), handoffs);
}

TEST(LeaseSimulation, AKilledWorkersLeasesAreTakenAfterTheFailoverTime) {
  Simulation sim(12);
  sim.Join("a");
  sim.Join("b");
  sim.Join("c");
  for (int i = 0; i < 18; ++i) sim.Round();
  sim.Kill("c");
  // 1.5 s, and c renewed at most 1 s before it was killed: not yet expired.
  for (int i = 0; i < 5; ++i) sim.Round();
  EXPECT_EQ(sim.Spread()["c"], 4u);
  for (int i = 0; i < 25; ++i) sim.Round();
  EXPECT_EQ(sim.Spread(), (Spread{{"a", 6}, {"b", 6}}));
}

TEST(LeaseSimulation, LeasesGivenBackAreTakenAtTheNextRound) {
  Simulation sim(12);
  sim.Join("a");
  sim.Join("b");
  sim.Join("c");
  for (int i = 0; i < 18; ++i) sim.Round();
  sim.Leave("c");
  sim.Round();
  EXPECT_EQ(sim.Spread(), (Spread{{"a", 6}, {"b", 6}}));
}

TEST(LeaseSimulation, ThirteenLeasesOverFourWorkersEndWithinOneOfEven) {
  Simulation sim(13);
  sim.Join("a");
  for (int i = 0; i < 10; ++i) sim.Round();
  sim.Join("b");
  sim.Join("c");
  sim.Join("d");
  for (int i = 0; i < 40; ++i) sim.Round();
  auto spread = sim.Spread();
  size_t lo = 99, hi = 0;
  for (const auto& [w, n] : spread) lo = std::min(lo, n), hi = std::max(hi, n);
  EXPECT_EQ(spread.size(), 4u);
  EXPECT_LE(hi - lo, 1u);
  const int handoffs = sim.handoffs();
  for (int i = 0; i < 60; ++i) sim.Round();
  EXPECT_EQ(sim.handoffs(), handoffs);
}

}  // namespace
}  // namespace kc::core
