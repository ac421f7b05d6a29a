// Sinks in memory for tests of the pipeline: an emitter that keeps every
// batch (refusing some, or committing checkpoints, when a test asks it to)
// and a dead-letter destination that keeps every letter.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kc/checkpoint.h"
#include "kc/dead_letter.h"
#include "kc/emitter.h"
#include "support/memory_store.h"

namespace kc::testing {

// Keeps every batch; `fail` may refuse one (the batch is then not kept).
class CollectingEmitter final : public Emitter {
 public:
  Status Emit(const Batch& batch, std::stop_token) override {
    std::lock_guard lock(mu_);
    if (fail && fail(batch)) return Fail(fail_code, "sink refused the batch");
    if (fail_with) {
      if (auto code = fail_with(batch)) return Fail(*code, "sink refused the batch");
    }
    batches.push_back(batch);
    if (on_emit) on_emit(batch);
    return Ok();
  }
  std::string Describe() const override { return "collector"; }

  // The data of `shard`'s records, in the order they were emitted.
  std::vector<std::string> Data(const std::string& shard) {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& b : batches) {
      if (b.shard_id != shard) continue;
      for (const auto& r : b.records) out.push_back(r.data);
    }
    return out;
  }
  // How many records were emitted, of every shard.
  size_t records() {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& b : batches) n += b.records.size();
    return n;
  }

  // With `commits_into`, the emitter commits checkpoints: each batch and the
  // state after it go into that store together, as a transaction would.
  bool CommitsCheckpoints() const override { return commits_into != nullptr; }
  Status EmitAndCheckpoint(const Batch& batch, const ShardKey& key, const ShardCheckpoint& after,
                           std::stop_token) override {
    std::lock_guard lock(mu_);
    if (fail && fail(batch)) return Fail(ErrorCode::kInvalidArgument, "sink refused the batch");
    batches.push_back(batch);
    commits.emplace_back(key, after);
    commits_into->Commit(key, after);
    return Ok();
  }

  std::mutex mu_;
  std::vector<Batch> batches;
  std::function<bool(const Batch&)> fail;
  ErrorCode fail_code = ErrorCode::kInvalidArgument;
  std::function<std::optional<ErrorCode>(const Batch&)> fail_with;
  std::function<void(const Batch&)> on_emit;
  MemoryStore* commits_into = nullptr;
  std::vector<std::pair<ShardKey, ShardCheckpoint>> commits;
};

// Keeps every dead letter; with `refuse`, refuses them all as a bucket
// without write access would.
class MemoryDeadLetters final : public DeadLetterSink {
 public:
  Status Write(const std::vector<DeadLetter>& l, std::stop_token) override {
    std::lock_guard lock(mu_);
    if (refuse) return Fail(ErrorCode::kAuth, "AccessDenied on the dead-letter bucket");
    letters.insert(letters.end(), l.begin(), l.end());
    return Ok();
  }
  std::string Describe() const override { return "memory dead letters"; }
  // "stage:data" of every letter, in the order they came.
  std::vector<std::string> Data() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& l : letters) out.push_back(l.stage + ":" + l.record.data);
    return out;
  }

  std::mutex mu_;
  std::vector<DeadLetter> letters;
  bool refuse = false;
};

}  // namespace kc::testing
