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
//
// Thread-safety: Emit may be called concurrently for different shards.
#pragma once

#include <stop_token>
#include <string>

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
  // Where batches go, for logs and the run summary (e.g. "files under out/").
  virtual std::string Describe() const = 0;
};

}  // namespace kc
