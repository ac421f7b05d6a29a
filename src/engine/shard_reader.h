// ShardReader: reads one shard through the pipeline's stages.
//
// Per shard it keeps the delivery promise:
// - resume after the checkpoint (AT_SEQUENCE_NUMBER, skipping what is not
//   after it: the checkpoint may be inside a KPL aggregate);
// - split KPL aggregates into their user records (config `deaggregate`);
// - before a batch is emitted its range is saved as "pending"; after a
//   restart the first batch is cut at exactly that range's end whatever the
//   thresholds say, so the sink sees the same batch again;
// - the checkpoint moves to a batch's end only after the emitter acknowledged
//   it, and never backwards;
// - an expired iterator is replaced by one after the last record read, and
//   records already read are not handed on twice;
// - a closed shard is read to its end and marked shard_end.
//
// Steps: the reader does not own a thread. Next() does one unit of work (the
// first one loads the checkpoint and gets an iterator; each one after makes
// at most one GetRecords call and hands its records through the stages) and
// says when the next step is due, so that a pipeline runs thousands of
// shards on a few threads (see core/scheduler.h). Waiting between steps:
// - an empty page at the tip of the shard: `poll_interval`, or less when the
//   buffer's age threshold fires earlier;
// - records, or an empty page further back: at once, but a GetRecords call
//   never starts less than 200 ms after the previous one's answer came back.
//   Measured from the answer, the spacing holds however Kinesis times the
//   calls between request and answer: never more than five a second;
// - a throttled or failed call: the retry policy's backoff (and the 200 ms),
//   without holding a thread.
// Checkpoint loads block the step (only the first one, and the ends).
//
// Emits: a cut batch is emitted and checkpointed on the emit pool
// (`ShardReaderContext::emits`) while the reader goes on reading the next
// one: GetRecords overlaps with the sink. One batch per shard is in flight
// at most: when the next one is due before the last one is acknowledged the
// reader parks (Next returns `parked`, keeping the rest of its page) and the
// emit's end resumes it (OnResume). So a shard holds at most one batch being
// emitted, one buffer and one page, whatever the backlog; and a slow sink or
// checkpoint store holds emit threads, never reader threads. The emit task
// saves the batch's range as pending first, once the batch before it is
// checkpointed, so the store never holds more than one pending range, as
// before, and a restart cuts the same batch.
//
// Thread-safety: one step at a time; consecutive steps may run on different
// threads (the scheduler orders them). The emit of a batch runs beside the
// steps; it alone touches the stored state while it is in flight.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "base/retry.h"
#include "clients/kinesis/client.h"
#include "engine/scheduler.h"
#include "engine/telemetry.h"
#include "kc/pipeline.h"

namespace kc::core {

// The pipeline's own counts; what is counted per shard is in ShardCounters.
struct PipelineCounters {
  std::atomic<uint64_t> shards_started{0};
  std::atomic<uint64_t> shards_finished{0};
  std::atomic<uint64_t> aggregates_split{0};
  std::atomic<uint64_t> aggregates_malformed{0};
};

enum class ShardOutcome {
  kShardEnd,  // closed shard read, emitted and checkpointed to its end
  kCaughtUp,  // (once mode) nothing left to read; all read was emitted
  kStopped,   // stop requested; all read was emitted and checkpointed
};

// How an unavailable sink or checkpoint store is waited out: retriable
// failures are tried again with a backoff of up to 30 s, for `retry_for`
// (the pipeline's sink_retry_for) from the first failure.
RetryPolicy OutageRetry(std::chrono::milliseconds retry_for, Clock* clock);

struct ShardReaderContext {
  const PipelineOptions* config;
  const kinesis::KinesisClient* client;
  const PipelineParts* parts;
  Clock* clock;
  PipelineCounters* counters;
  ShardCounters* shard_counters;    // this shard's
  DurationBuckets* emit_durations;  // the pipeline's
  RetryPolicy read_retry;           // GetRecords, the other Kinesis reads, dead-letter writes
  RetryPolicy outage_retry;         // emits and checkpoint saves (OutageRetry)
  RetryPolicy load_retry;           // checkpoint loads (the pipeline's LoadRetry)
  bool once = false;
  Scheduler* emits = nullptr;  // where batches are emitted
};

// The Limit of a GetRecords call: about `bytes_per_call` of records of
// `average_record_bytes` each, at least 1 and at most `records_per_call`.
uint32_t PageLimitFor(uint32_t records_per_call, uint64_t bytes_per_call,
                      uint64_t average_record_bytes);

class ShardReader {
 public:
  // `after_parents`: the shard's parents were read by this pipeline, so the
  // shard starts at its beginning rather than at the configured start_at.
  ShardReader(ShardReaderContext context, kinesis::Shard shard, bool after_parents);

  struct Step {
    // Set when the shard is done: how it ended. Nothing is in flight then,
    // and the reader may be destroyed.
    std::optional<Result<ShardOutcome>> outcome;
    // Otherwise the next step is due at this time on the clock; nullopt: now.
    std::optional<Clock::TimePoint> at;
    // Otherwise: no step is due until the resume callback runs.
    bool parked = false;
  };

  // `stop`: emit and checkpoint what was read, then end with kStopped (a
  // step due later should then be run at once). `abort`: abandon
  // in-flight emits and saves. Exceptions from the user's components end
  // the shard with an error naming it.
  Step Next(std::stop_token stop, std::stop_token abort);

  // Called (from an emit thread) when a parked reader may take its next
  // step. Set before the first step.
  void OnResume(std::function<void()> resume) { resume_ = std::move(resume); }

  const std::string& shard_id() const { return shard_.shard_id; }

 private:
  struct BadRecord {
    ShardPosition pos;
    Error error;
  };

  // A record its transformer or filter refused: with on_error = dead_letter
  // its letter goes with the batch it is read into (written by that batch's
  // emit, before its checkpoint) and the record is handed on as filtered
  // out (nullopt: read on); otherwise the step that stops.
  std::optional<Step> BadRecordAt(Record& rec, const ShardPosition& pos, const char* stage,
                                  const Error& error, Clock::TimePoint page_now);
  // Emits `batch`; a batch the sink refuses for its data (kInvalidArgument,
  // kParse) is split in halves until the records it refuses are alone,
  // which are appended to `letters`. Other errors are returned.
  // `delivered` gets the positions of the records the sink took.
  Status EmitSeparatingBad(const Batch& batch, std::stop_token abort,
                           std::vector<DeadLetter>* letters, std::vector<ShardPosition>* delivered);
  void CountEmitted(const Batch& batch);
  // ThroughOutage for a call of the emitter: each attempt is timed for the
  // emit-duration histogram.
  Status EmitThroughOutage(const std::string& what, const std::function<Status()>& call,
                           std::stop_token abort);
  // "emitting shard <id> records <first>..<last>", for messages.
  std::string Emitting(const Batch& batch) const;
  // Runs `op` (one call of the emitter or the checkpoint store) under the
  // retry policy for outages: while it fails for a passing reason (a
  // retriable error: the service unavailable, throttling, no connection), it
  // is run again after a backoff of up to 30 s, for `sink_retry_for` from the
  // first failure. Holds the batch, and so the shard's checkpoint and reads,
  // meanwhile. A shutdown ends the wait with the last error.
  Status ThroughOutage(const std::string& what, const std::function<Status()>& op,
                       std::stop_token abort);
  // `e`, a retriable error that outlasted sink_retry_for, saying so.
  Error SinkRetryForSpent(const Error& e) const;
  // Writes `letters` to the dead-letter destination, retried like reads.
  Status WriteDeadLetters(const std::vector<DeadLetter>& letters, std::stop_token abort);
  bool DeadLettersOn() const {
    return ctx_.config->on_error == OnError::kDeadLetter && ctx_.parts->dead_letter != nullptr;
  }
  Result<std::string> InitialIterator(std::stop_token abort);
  Result<std::string> IteratorAfterLastRead(std::stop_token abort);
  // A cut batch and the dead letters of the records read into it.
  struct CutWork {
    Batch batch;
    std::vector<DeadLetter> letters;
  };
  // Takes the buffer's batch. REQUIRES: nothing in flight.
  CutWork CutBatch();
  // Saves a cut batch's range as pending, writes its letters, emits the
  // batch and checkpoints it (the last two in one step when the emitter
  // commits checkpoints).
  Status EmitBatch(const Batch& batch, std::vector<DeadLetter> letters, std::stop_token abort);
  // CutBatch and EmitBatch on the calling thread. REQUIRES: nothing in flight.
  Status FlushBatch(std::stop_token abort);
  // Stores state_, waiting out an outage of the store (ThroughOutage).
  Status Save(std::stop_token abort);
  // A shard that answers "no more iterators" must be closed; asks the
  // stream's shard list to be sure, so a bad answer never ends an open shard.
  Status ConfirmClosed(std::stop_token abort);
  // A transformer or filter refused the record at `pos`: emits and
  // checkpoints the records read before it when they make a batch of their
  // own, and returns the error that stops the pipeline. Nothing from `pos`
  // on is checkpointed. REQUIRES: nothing in flight.
  Error StopAtBadRecord(const ShardPosition& pos, const Error& error, std::stop_token abort);

  // Loads the checkpoint, asking again on the scheduler (not on a thread)
  // while the store is briefly unreachable, then gets the first iterator.
  Step Start(std::stop_token stop, std::stop_token abort);
  Step Read(std::stop_token stop, std::stop_token abort);
  // Hands the rest of page_ through the stages.
  Step ReadPage(std::stop_token stop, std::stop_token abort);
  // Moves the next part of unexpanded_ into page_, its KPL aggregates split
  // (at most kinesis::kMaxExpandedBytes of user records at once); false when
  // nothing is left.
  bool ExpandNextPart();
  void DropPage();
  uint32_t PageLimit() const;
  // nullopt when nothing is in flight and no emit failed; else the step to
  // return: parked until the batch in flight is done, or the emit's error.
  std::optional<Step> WaitForEmit();
  // Cuts the buffer's batch and hands it to the emit pool; nullopt when it
  // was handed over, else what WaitForEmit or the cut said.
  std::optional<Step> Cut(std::stop_token abort);
  // Hands over what the buffer holds and waits until everything is
  // acknowledged; nullopt once it is.
  std::optional<Step> Drain(std::stop_token abort);
  // On the emit pool.
  void Deliver(Batch batch, std::vector<DeadLetter> letters, std::stop_token abort);
  // recycled_, taken whole (the lock is not held while it is used or freed).
  std::vector<Record> TakeRecycled();

  ShardReaderContext ctx_;
  kinesis::Shard shard_;
  ShardKey key_;
  bool after_parents_;
  std::unique_ptr<Buffer> buffer_;
  ShardCheckpoint state_;
  std::optional<ShardPosition> last_read_;
  ShardPosition pos_;  // of the record being handed on; kept to reuse its storage
  // The range recorded as pending before a restart, until it is cut again
  // (or found impossible to cut, its last records gone).
  std::optional<BatchRange> replay_;
  // Letters of the records in the buffer the transformer or filter refused.
  std::vector<DeadLetter> letters_;
  bool started_ = false;  // the checkpoint is loaded
  std::stop_token stop_;  // the pipeline's, set by the first step
  int failed_loads_ = 0;  // checkpoint loads that failed in a row
  std::optional<Clock::TimePoint> first_load_failure_;
  std::optional<Result<ShardOutcome>> outcome_;  // once decided, given when nothing is in flight
  std::string iterator_;
  std::optional<kinesis::GetRecordsResult> page_;  // being handed on
  size_t page_index_ = 0;                          // the next record of page_
  // A page with aggregates, as read: page_ holds one part of it expanded,
  // and unexpanded_next_ is the first record not yet in a part.
  std::vector<Record> unexpanded_;
  size_t unexpanded_next_ = 0;
  bool caught_up_ = false;  // page_ was empty at the tip
  // Average data size of the records of the last page that had any; before
  // the first, an assumed 1 KiB, so a shard's first page is not 10,000
  // records of unknown size.
  uint64_t average_record_bytes_ = 1024;
  bool cut_due_ = false;           // a batch is due, waiting for the one in flight
  uint64_t records_buffered_ = 0;  // added to buffer_ since its last Take
  std::optional<BadRecord> bad_;
  // When the answer to the last GetRecords call came back.
  std::optional<Clock::TimePoint> last_answer_;
  int failed_calls_ = 0;  // GetRecords failures in a row, for the retry policy
  // Pages in a row that gave back the iterator they were asked with and
  // only records already read; at kMaxStalledPages the shard fails.
  static constexpr int kMaxStalledPages = 10;
  int stalled_pages_ = 0;
  std::function<void()> resume_;

  std::mutex mu_;
  bool in_flight_ = false;           // guarded by mu_
  bool parked_ = false;              // guarded by mu_
  std::optional<Error> emit_error_;  // guarded by mu_
  // Records of the last emitted batch, their strings kept for the pages read
  // next to fill: allocating two strings a record and freeing them on
  // another thread took an eighth of the CPU with 100-byte records. Only the
  // last batch's are kept (a string far larger than its next record is let
  // go when it is filled), none once the shard is idle. Guarded by mu_.
  std::vector<Record> recycled_;
};

}  // namespace kc::core
