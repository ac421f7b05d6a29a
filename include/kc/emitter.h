// Emitter: writes a batch to a sink.
//
// Contract (what every emitter must do, and what the pipeline relies on):
// - Emit returns success only when the whole batch is durably in the sink;
//   the shard's checkpoint moves past the batch only after that.
// - The same batch may be emitted again after a crash (same stream, shard,
//   first and last position, same records). A sink that can should make that
//   idempotent (deterministic object names, transactions).
// - Transient failures are retried inside Emit with the shared retry policy;
//   an error returned means the retry budget is spent or the error is final.
// - Emit returns promptly with kCancelled once `stop` is requested and it is
//   between attempts.
// - A record the sink cannot take for its data fails the batch with
//   kInvalidArgument naming the record's sequence number, and nothing of the
//   batch lands (the pipeline then splits the batch to set the record apart).
// - A batch without records succeeds and writes nothing.
// tests/support/sink_conformance.h checks this contract for every sink.
//
// Exactly once through a shared transaction: an emitter whose sink is also
// where the pipeline's checkpoint store keeps its states (a database) may
// say so with CommitsCheckpoints(). The pipeline then calls
// EmitAndCheckpoint instead of Emit followed by CheckpointStore::Save, and
// the emitter must store the batch and `after` (the shard's state once the
// batch is in: position = batch.last, the batch's range no longer pending)
// atomically, in the store the pipeline loads from: after a crash at any
// instant either both are there or neither. A batch whose range `after`
// already covers in the store (an earlier attempt whose answer was lost)
// must be acknowledged without being stored again. Ranges are still saved
// as pending through the store before the call, and batches with no records
// (all filtered) are checkpointed through the store as usual.
//
// Thread-safety: Emit may be called concurrently for different shards.
#pragma once

#include <stop_token>
#include <string>

#include "kc/checkpoint.h"
#include "kc/record.h"
#include "kc/status.h"

namespace kc {

class Emitter {
 public:
  virtual ~Emitter() = default;
  Emitter() = default;
  Emitter(const Emitter&) = delete;
  Emitter& operator=(const Emitter&) = delete;

  virtual Status Emit(const Batch& batch, std::stop_token stop) = 0;

  // True when this emitter commits checkpoints with the batches (above).
  virtual bool CommitsCheckpoints() const { return false; }
  // Stores `batch` and `after` as the state of `key`, atomically. Called
  // only when CommitsCheckpoints() is true.
  virtual Status EmitAndCheckpoint(const Batch& batch, const ShardKey& key,
                                   const ShardCheckpoint& after, std::stop_token stop) {
    (void)batch, (void)key, (void)after, (void)stop;
    return Fail(ErrorCode::kInternal, Describe() + " does not commit checkpoints");
  }
  // Where batches go, for logs and the run summary (e.g. "files under out/").
  virtual std::string Describe() const = 0;
};

}  // namespace kc
