// Checkpoint stores: where a pipeline remembers how far each shard is done.
//
// A shard's state is the position of the last record emitted (the checkpoint),
// whether the shard was read to its end, and the ranges of batches that were
// cut but not yet acknowledged by the emitter ("pending"). Recording a batch's
// range before it is emitted lets a restart cut exactly the same batch again,
// so a sink with deterministic names overwrites instead of duplicating.
//
// Thread-safety: implementations are safe for concurrent use; a pipeline
// saves each shard from one thread at a time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kc/sequence_number.h"
#include "kc/status.h"

namespace kc {

// Which shard's state: pipelines that read the same stream keep separate
// states, since each moves at the pace of its own sink.
struct ShardKey {
  std::string pipeline;
  std::string stream;
  std::string shard;
};

struct BatchRange {
  ShardPosition first;
  ShardPosition last;
  friend bool operator==(const BatchRange&, const BatchRange&) = default;
};

struct ShardCheckpoint {
  std::optional<ShardPosition> position;  // last record emitted; empty: nothing yet
  bool shard_end = false;                 // the closed shard was read and emitted to its end
  std::vector<BatchRange> pending;        // cut, not yet acknowledged, oldest first
  friend bool operator==(const ShardCheckpoint&, const ShardCheckpoint&) = default;
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  CheckpointStore() = default;
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  // The saved state; an empty ShardCheckpoint when the shard was never saved.
  virtual Result<ShardCheckpoint> Load(const ShardKey& key) = 0;
  // Replaces the state atomically: after a crash at any instant, Load returns
  // either the old or the new state, never a mix.
  virtual Status Save(const ShardKey& key, const ShardCheckpoint& state) = 0;
  // For logs and `status`, e.g. "file store under state/".
  virtual std::string Describe() const = 0;
};

}  // namespace kc
