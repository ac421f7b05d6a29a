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
// Steps: the reader does not own a thread. Step() does one unit of work (the
// first one loads the checkpoint and gets an iterator; each one after makes
// at most one GetRecords call and hands its records through the stages,
// emitting when the buffer says so) and says when the next step is due, so
// that a pipeline runs thousands of shards on a few threads (see
// core/scheduler.h). Waiting between steps:
// - an empty page at the tip of the shard: `poll_interval`, or less when the
//   buffer's age threshold fires earlier;
// - records, or an empty page further back: at once, but a GetRecords call
//   never starts less than 200 ms after the previous one's answer came back.
//   Measured from the answer, the spacing holds however Kinesis times the
//   calls between request and answer: never more than five a second;
// - a throttled or failed call: the retry policy's backoff (and the 200 ms),
//   without holding a thread.
// Emits, checkpoint loads and saves still block the step that makes them.
//
// Thread-safety: one step at a time; consecutive steps may run on different
// threads (the scheduler orders them).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
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

  struct Step {
    // Set when the shard is done: how it ended.
    std::optional<Result<ShardOutcome>> outcome;
    // Otherwise the next step is due at this time on the clock; nullopt: now.
    std::optional<Clock::TimePoint> at;
  };

  // `stop`: emit and checkpoint what was read, then end with kStopped (a
  // step due later should then be run at once). `abort`: abandon
  // in-flight emits and saves.
  Step Next(std::stop_token stop, std::stop_token abort);

  const std::string& shard_id() const { return shard_.shard_id; }

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
  Step Start(std::stop_token stop, std::stop_token abort);
  Step Read(std::stop_token stop, std::stop_token abort);

  ShardReaderContext ctx_;
  kinesis::Shard shard_;
  ShardKey key_;
  bool after_parents_;
  std::unique_ptr<Buffer> buffer_;
  ShardCheckpoint state_;
  std::optional<ShardPosition> last_read_;
  bool started_ = false;
  std::string iterator_;
  // When the answer to the last GetRecords call came back.
  std::optional<Clock::TimePoint> last_answer_;
  int failed_calls_ = 0;  // GetRecords failures in a row, for the retry policy
};

}  // namespace kc::core
