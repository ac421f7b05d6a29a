// ShardReader: reads one shard through the pipeline's stages.
//
// Per shard it keeps the delivery promise:
// - resume after the checkpoint (AFTER_SEQUENCE_NUMBER);
// - before a batch is emitted its range is saved as "pending"; after a
//   restart the first batch is cut at exactly that range's end whatever the
//   thresholds say, so the sink sees the same batch again;
// - the checkpoint moves to a batch's end only after the emitter acknowledged
//   it, and never backwards;
// - an expired iterator is replaced by one after the last record read, and
//   records already read are not handed on twice;
// - a closed shard is read to its end and marked shard_end.
//
// Thread-safety: one ShardReader runs on one thread.
#pragma once

#include <atomic>
#include <memory>
#include <stop_token>
#include <string>

#include "core/retry.h"
#include "kc/pipeline.h"
#include "kinesis/client.h"

namespace kc::core {

struct PipelineCounters {
  std::atomic<uint64_t> records_read{0};
  std::atomic<uint64_t> records_emitted{0};
  std::atomic<uint64_t> records_filtered{0};
  std::atomic<uint64_t> bytes_emitted{0};
  std::atomic<uint64_t> batches_emitted{0};
  std::atomic<uint64_t> shards_started{0};
  std::atomic<uint64_t> shards_finished{0};
};

enum class ShardOutcome {
  kShardEnd,  // closed shard read, emitted and checkpointed to its end
  kCaughtUp,  // (once mode) nothing left to read; all read was emitted
  kStopped,   // stop requested; all read was emitted and checkpointed
};

struct ShardReaderContext {
  const PipelineConfig* config;
  const kinesis::KinesisClient* client;
  const PipelineParts* parts;
  Clock* clock;
  PipelineCounters* counters;
  RetryPolicy read_retry;  // GetRecords, and checkpoint loads and saves
  bool once = false;
};

class ShardReader {
 public:
  // `after_parents`: the shard's parents were read by this pipeline, so the
  // shard starts at its beginning rather than at the configured start_at.
  ShardReader(ShardReaderContext context, kinesis::Shard shard, bool after_parents);

  Result<ShardOutcome> Run(std::stop_token stop, std::stop_token abort);

 private:
  Result<std::string> InitialIterator(std::stop_token abort);
  Result<std::string> IteratorAfterLastRead(std::stop_token abort);
  // Takes the buffer's batch, records it as pending, emits it, checkpoints it
  // (the last two in one step when the emitter commits checkpoints).
  Status FlushBatch(std::stop_token abort);
  Status Save(std::stop_token abort);
  // The shard's checkpoint, retried like saves while the store is briefly
  // unreachable; kCancelled when `stop` is requested while waiting.
  Result<ShardCheckpoint> Load(std::stop_token stop);
  // A shard that answers "no more iterators" must be closed; asks the
  // stream's shard list to be sure, so a bad answer never ends an open shard.
  Status ConfirmClosed(std::stop_token abort);
  // A transformer or filter refused the record at `pos`: emits and
  // checkpoints the records read before it when they make a batch of their
  // own, and returns the error that stops the pipeline. Nothing from `pos`
  // on is checkpointed.
  Error StopAtBadRecord(const ShardPosition& pos, const Error& error, std::stop_token abort);
  // Paces GetRecords to the per-shard limit of five calls a second.
  bool PaceCall(std::stop_token stop);

  ShardReaderContext ctx_;
  kinesis::Shard shard_;
  ShardKey key_;
  bool after_parents_;
  std::unique_ptr<Buffer> buffer_;
  ShardCheckpoint state_;
  std::optional<ShardPosition> last_read_;
  std::optional<Clock::TimePoint> last_call_;
};

}  // namespace kc::core
