// Pipeline: one Kinesis stream into one sink, one reader per shard.
//
//   shard ──GetRecords──▶ Transformer ──▶ Filter ──▶ Buffer ──▶ Emitter ──▶ CheckpointStore
//
// Delivery: at least once. A shard's checkpoint moves only past records the
// emitter acknowledged, never backwards. Each batch's range is recorded in
// the checkpoint store before it is emitted, so a restart cuts exactly the
// same batches again and an idempotent sink (files, S3 keys, transactions)
// ends up with every record exactly once.
//
// Shards: every shard of the stream is read, including shards created by
// resharding while running; a child shard is read only once all its parents
// were read to their end, emitted and checkpointed, so per-key order holds.
//
// Threads: Run blocks the calling thread; it reads every shard on a pool of
// at most `reader_threads` threads plus one timer thread and writes batches
// on a pool of at most `emit_threads`, however many shards the stream has
// (see src/core/scheduler.h and src/core/shard_reader.h). stats() may be
// called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "kc/buffer.h"
#include "kc/checkpoint.h"
#include "kc/clock.h"
#include "kc/config.h"
#include "kc/dead_letter.h"
#include "kc/emitter.h"
#include "kc/filter.h"
#include "kc/status.h"
#include "kc/transformer.h"

namespace kc {

struct PipelineParts {
  std::shared_ptr<Transformer> transformer = std::make_shared<StringTransformer>();
  std::shared_ptr<Filter> filter = std::make_shared<AllPassFilter>();
  std::shared_ptr<Emitter> emitter;              // required
  std::shared_ptr<CheckpointStore> checkpoints;  // required
  // Where undeliverable records go with on_error = kDeadLetter; without one,
  // a bad record stops the pipeline.
  std::shared_ptr<DeadLetterSink> dead_letter;
  // Makes one buffer per shard; default: ThresholdBuffer with config.buffer.
  std::function<std::unique_ptr<Buffer>()> make_buffer;
};

struct PipelineStats {
  uint64_t records_read = 0;
  uint64_t records_emitted = 0;
  uint64_t records_filtered = 0;
  uint64_t records_dead_lettered = 0;  // written to the dead-letter destination
  uint64_t bytes_emitted = 0;
  uint64_t batches_emitted = 0;
  uint64_t shards_started = 0;
  uint64_t shards_finished = 0;  // closed shards read, emitted and checkpointed to their end
};

class Pipeline {
 public:
  // `once`: stop by itself when every shard is caught up (or finished) and
  // everything read was emitted and checkpointed.
  static Result<std::unique_ptr<Pipeline>> Create(const AwsConfig& aws,
                                                  const PipelineConfig& config, PipelineParts parts,
                                                  bool once, Clock* clock = &Clock::Real());
  virtual ~Pipeline() = default;

  // Runs until `stop` is requested (then: stop reading, emit and checkpoint
  // what was read, return), until `once` is done, or until a shard fails (the
  // other shards then stop the same graceful way and the error is returned).
  // `abort` abandons in-flight work at once (a second signal).
  virtual Status Run(std::stop_token stop, std::stop_token abort) = 0;
  virtual PipelineStats stats() const = 0;
  virtual const PipelineConfig& config() const = 0;
};

}  // namespace kc
