// The conformance suite every CheckpointStore passes. A store's test file
// instantiates it with a factory that opens a store on shared durable state
// (calling the factory twice must reach the same saved states, as a restart
// of the process would):
//
//   INSTANTIATE_TEST_SUITE_P(File, CheckpointConformance,
//                            ::testing::Values(StoreFactory{"file", [] {...}}));
//
// Stores that talk to a server also give `stop_server` and `start_server`,
// which stop and restart the server the factory's stores reach (keeping its
// data, as a real outage would); the outage test is skipped without them.
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
  // For stores with a server: stop it (data kept) and start it again.
  std::function<void()> stop_server;
  std::function<void()> start_server;
  // A word the outage error must contain so the user knows which server
  // failed, e.g. "127.0.0.1:6379" (empty: not checked).
  std::string server_name;
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

// A server outage is an error the user can act on (retryable, naming the
// server), never a crash or an empty state mistaken for "never saved"; the
// same store object works again once the server is back, without a restart
// of the process.
TEST_P(CheckpointConformance, ServerDownGivesAClearErrorAndResumes) {
  if (!GetParam().stop_server) GTEST_SKIP() << "this store has no server";
  auto store = Open();
  ASSERT_TRUE(store->Save(Key(), Full()));
  GetParam().stop_server();
  struct Restart {
    const StoreFactory& f;
    bool done = false;
    void Now() {
      if (!done) f.start_server();
      done = true;
    }
    ~Restart() { Now(); }
  } restart{GetParam()};

  auto loaded = store->Load(Key());
  ASSERT_FALSE(loaded) << "Load succeeded with the server down";
  EXPECT_TRUE(loaded.error().retriable()) << loaded.error().ToString();
  if (!GetParam().server_name.empty()) {
    EXPECT_NE(loaded.error().ToString().find(GetParam().server_name), std::string::npos)
        << loaded.error().ToString();
  }
  ShardCheckpoint next;
  next.position = ShardPosition{"49590338271490256608559692538361571095921575989136599999", 0};
  auto saved = store->Save(Key(), next);
  ASSERT_FALSE(saved) << "Save succeeded with the server down";
  EXPECT_TRUE(saved.error().retriable()) << saved.error().ToString();

  restart.Now();
  auto back = store->Load(Key());
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, Full());  // the failed save changed nothing
  ASSERT_TRUE(store->Save(Key(), next));
  EXPECT_EQ(*Open()->Load(Key()), next);
}

}  // namespace kc::testing
