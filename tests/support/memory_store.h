// A CheckpointStore in memory for tests of the pipeline: loads and saves
// that fail on demand, and every save kept for a test to look at. It passes
// the checkpoint conformance suite (tests/unit/checkpoint_conformance_test.cc),
// so that what the pipeline's tests learn with it holds for a real store.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kc/checkpoint.h"

namespace kc::testing {

class MemoryStore final : public CheckpointStore {
 public:
  // What the stores on one shelf have saved. Stores made on the same shelf
  // see each other's saves, as processes that share a real store's server
  // do; each store keeps its own failures and counts.
  struct Shelf {
    std::mutex mu;
    std::map<std::tuple<std::string, std::string, std::string>, ShardCheckpoint> states;
  };

  MemoryStore() : MemoryStore(std::make_shared<Shelf>()) {}
  explicit MemoryStore(std::shared_ptr<Shelf> shelf) : shelf_(std::move(shelf)) {}

  Result<ShardCheckpoint> Load(const ShardKey& key) override {
    std::lock_guard lock(shelf_->mu);
    ++loads_;
    if (!load_failures_.empty()) {
      Error e = load_failures_.front();
      load_failures_.erase(load_failures_.begin());
      if (on_failed_load_) on_failed_load_();
      return Fail(std::move(e));
    }
    if (auto it = shard_failures_.find(key.shard); it != shard_failures_.end()) {
      if (it->second > 0) {
        --it->second;
        return Fail(ErrorCode::kUnavailable, "store briefly unreachable");
      }
      if (on_shard_loaded_) on_shard_loaded_();
      shard_failures_.erase(it);
    }
    auto it = shelf_->states.find(Slot(key));
    return it != shelf_->states.end() ? it->second : ShardCheckpoint{};
  }

  Status Save(const ShardKey& key, const ShardCheckpoint& state) override {
    std::lock_guard lock(shelf_->mu);
    if (save_failures_ > 0) {
      --save_failures_;
      return Fail(ErrorCode::kConnection, "store unreachable");
    }
    shelf_->states[Slot(key)] = state;
    saved_.push_back(state);
    return Ok();
  }

  std::string Describe() const override { return "memory"; }

  // The next `failures` loads of `shard` fail as retriable; `then` runs when
  // its load goes through at last.
  void FailLoadsOf(const std::string& shard, int failures, std::function<void()> then) {
    std::lock_guard lock(shelf_->mu);
    shard_failures_[shard] = failures;
    on_shard_loaded_ = std::move(then);
  }
  // The next loads fail with these errors, one each; `then` runs after each.
  void FailLoads(std::vector<Error> errors, std::function<void()> then = {}) {
    std::lock_guard lock(shelf_->mu);
    load_failures_ = std::move(errors);
    on_failed_load_ = std::move(then);
  }
  // The next `failures` saves fail as retriable (the store unreachable).
  void FailSaves(int failures) {
    std::lock_guard lock(shelf_->mu);
    save_failures_ = failures;
  }

  // What an emitter that commits checkpoints writes (not a Save call).
  void Commit(const ShardKey& key, const ShardCheckpoint& state) {
    std::lock_guard lock(shelf_->mu);
    shelf_->states[Slot(key)] = state;
  }

  int loads() {
    std::lock_guard lock(shelf_->mu);
    return loads_;
  }
  // Every state this store saved, in order.
  std::vector<ShardCheckpoint> saved() {
    std::lock_guard lock(shelf_->mu);
    return saved_;
  }
  // The state of `shard` on the shelf, whatever its pipeline and stream: for
  // tests that run one pipeline on one stream, which is checked.
  ShardCheckpoint Get(const std::string& shard) {
    std::lock_guard lock(shelf_->mu);
    ShardCheckpoint found;
    int matches = 0;
    for (const auto& [slot, state] : shelf_->states) {
      if (std::get<2>(slot) != shard) continue;
      found = state;
      ++matches;
    }
    EXPECT_LE(matches, 1) << "shard " << shard << " has states on several pipelines or streams";
    return found;
  }

 private:
  static std::tuple<std::string, std::string, std::string> Slot(const ShardKey& key) {
    return {key.pipeline, key.stream, key.shard};
  }

  std::shared_ptr<Shelf> shelf_;
  int loads_ = 0;
  std::vector<Error> load_failures_;
  std::function<void()> on_failed_load_;
  std::map<std::string, int> shard_failures_;
  std::function<void()> on_shard_loaded_;
  int save_failures_ = 0;
  std::vector<ShardCheckpoint> saved_;
};

}  // namespace kc::testing
