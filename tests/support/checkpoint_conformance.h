// The conformance suite every CheckpointStore passes. A store's test file
// instantiates it with a factory that opens a store on shared durable state
// (calling the factory twice must reach the same saved states, as a restart
// of the process would):
//
//   INSTANTIATE_TEST_SUITE_P(File, CheckpointConformance,
//                            ::testing::Values(StoreFactory{"file", [] {...}}));
//
// What the pipeline adds on top (never backwards, only after an emit) is
// tested with the pipeline; here: what a store itself promises.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "kc/checkpoint.h"

namespace kc::testing {

struct StoreFactory {
  std::string name;
  // Opens a store on the suite's shared state; called once per "process".
  std::function<std::unique_ptr<CheckpointStore>()> open;
};

inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string PrintStoreName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

class CheckpointConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  std::unique_ptr<CheckpointStore> Open() { return GetParam().open(); }
  // Unique per test, so suites may share a server.
  ShardKey Key(const std::string& shard = "shardId-000000000001") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info->name();  // "Case/param": keep it one path component
    std::replace(name.begin(), name.end(), '/', '-');
    return ShardKey{"conf", "s-" + name, shard};
  }
  static ShardCheckpoint Full() {
    ShardCheckpoint s;
    s.position = ShardPosition{"49590338271490256608559692538361571095921575989136588898", 7};
    s.pending.push_back({{"49590338271490256608559692538361571095921575989136588899", 0},
                         {"49590338271490256608559692538361571095921575989136589000", 3}});
    s.pending.push_back({{"49590338271490256608559692538361571095921575989136589001", 0},
                         {"49590338271490256608559692538361571095921575989136589100", 0}});
    return s;
  }
};

TEST_P(CheckpointConformance, ANeverSavedShardLoadsEmpty) {
  auto store = Open();
  auto s = store->Load(Key());
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(*s, ShardCheckpoint{});
}

TEST_P(CheckpointConformance, SaveThenLoadKeepsEveryField) {
  auto store = Open();
  ASSERT_TRUE(store->Save(Key(), Full()));
  auto s = store->Load(Key());
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(*s, Full());
  ShardCheckpoint end;
  end.position = ShardPosition{std::string(129, '9'), 0};  // the longest the API allows
  end.shard_end = true;
  ASSERT_TRUE(store->Save(Key(), end));
  EXPECT_EQ(*store->Load(Key()), end);  // replaced whole: the pending ranges are gone
}

TEST_P(CheckpointConformance, StatesSurviveANewClient) {
  ASSERT_TRUE(Open()->Save(Key(), Full()));
  auto again = Open();
  auto s = again->Load(Key());
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(*s, Full());
}

TEST_P(CheckpointConformance, PipelinesStreamsAndShardsAreKeptApart) {
  auto store = Open();
  ShardKey base = Key();
  ASSERT_TRUE(store->Save(base, Full()));
  ShardKey other_pipeline = base;
  other_pipeline.pipeline = "conf-other";
  ShardKey other_stream = base;
  other_stream.stream += "-other";
  ShardKey other_shard = Key("shardId-000000000002");
  for (const ShardKey& k : {other_pipeline, other_stream, other_shard}) {
    auto s = store->Load(k);
    ASSERT_TRUE(s) << s.error().ToString();
    EXPECT_EQ(*s, ShardCheckpoint{}) << k.pipeline << "/" << k.stream << "/" << k.shard;
  }
}

TEST_P(CheckpointConformance, ConcurrentSavesOfDifferentShards) {
  auto store = Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1; i <= 20; ++i) {
        ShardCheckpoint s;
        s.position = ShardPosition{std::to_string(1000 * t + i), 0};
        ASSERT_TRUE(store->Save(Key("shard-" + std::to_string(t)), s));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) {
    auto s = store->Load(Key("shard-" + std::to_string(t)));
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->position);
    EXPECT_EQ(s->position->sequence_number, std::to_string(1000 * t + 20));
  }
}

}  // namespace kc::testing
