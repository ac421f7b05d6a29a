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
// (see src/core/scheduler.h and src/core/shard_reader.h). stats() and
// telemetry() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "kc/aws.h"
#include "kc/buffer.h"
#include "kc/checkpoint.h"
#include "kc/clock.h"
#include "kc/dead_letter.h"
#include "kc/emitter.h"
#include "kc/filter.h"
#include "kc/lease.h"
#include "kc/status.h"
#include "kc/transformer.h"

namespace kc {

struct StartAt {
  enum class Kind { kTrimHorizon, kLatest, kTimestamp };
  Kind kind = Kind::kTrimHorizon;
  int64_t timestamp_ms = 0;  // for kTimestamp
};

// What a record that cannot be delivered does: stop the pipeline (nothing
// skipped, the next run stops at it again) or go to the dead letters.
enum class OnError { kStop, kDeadLetter };

// Several processes share the pipeline's shards through a lease table
// (kc/lease.h): each holds about its share, a dead one's leases are taken
// over after `failover_time`.
struct LeaseOptions {
  // This process's name in the table; unique among the processes sharing it.
  std::string worker_id;
  // A lease whose counter has not moved for this long, as this process sees
  // it, belongs to a worker that is gone. Held leases are renewed every
  // third of it; the table is read every tenth (at least every second).
  std::chrono::milliseconds failover_time{10'000};
  uint32_t max_leases_per_worker = 0;  // 0: no limit
  uint32_t max_leases_to_steal = 1;    // handoffs asked for per round
};

// What the engine needs to know of a pipeline; the daemon's config adds the
// components to it. Defaults are the daemon's.
struct PipelineOptions {
  std::string name;    // in logs and checkpoint keys
  std::string stream;  // the Kinesis stream read
  StartAt start_at;    // where a shard without a checkpoint starts
  BufferConfig buffer;
  // GetRecords tuning. Kinesis allows 5 calls/s per shard, shared by all
  // consumers: an idle shard is polled every `poll_interval`.
  uint32_t records_per_call = 10'000;
  // About how much record data one GetRecords page may bring: each call's
  // Limit is this divided by the average record size of the shard's last
  // page (at most records_per_call). A page, its records and the parser's
  // copy are a reader's memory; Kinesis serves at most 2 MB/s per shard, so
  // five calls a second of 1 MiB never hold a shard back.
  uint64_t bytes_per_call = 1ull << 20;
  std::chrono::milliseconds poll_interval{1'000};
  std::chrono::milliseconds shard_discovery_interval{10'000};
  // The most threads reading this pipeline's shards, however many shards
  // there are; 0: automatic (16, or two per core on larger machines).
  uint32_t reader_threads = 0;
  // The most batches written at once (each shard has one at most);
  // 0: as many as reader threads.
  uint32_t emit_threads = 0;
  // How long a batch the sink cannot take for a passing reason (unavailable,
  // throttled, unreachable: a retriable error, after the sink client's own
  // retries) is tried again, holding the shard's checkpoint, before the
  // pipeline gives up on it: it stops, or with dead letters the batch goes
  // there. Checkpoint saves and loads wait out the store's outages as long.
  // 0: only the clients' own retries.
  std::chrono::milliseconds sink_retry_for{std::chrono::hours(1)};
  // Records in the KPL's aggregated format are split into their user
  // records (each with its partition key and sub-sequence number); false
  // hands them on as Kinesis stored them.
  bool deaggregate = true;
  // kDeadLetter needs PipelineParts::dead_letter; kStop stops the pipeline
  // at a record that cannot be delivered.
  OnError on_error = OnError::kStop;
  // Set: shards are shared with other processes through
  // PipelineParts::leases; unset: this process reads every shard.
  std::optional<LeaseOptions> leases;
};

struct PipelineParts {
  std::shared_ptr<Transformer> transformer = std::make_shared<StringTransformer>();
  std::shared_ptr<Filter> filter = std::make_shared<AllPassFilter>();
  std::shared_ptr<Emitter> emitter;  // required
  // Required, unless `leases` is set: the lease table keeps the checkpoints then.
  std::shared_ptr<CheckpointStore> checkpoints;
  // Required with PipelineOptions::leases.
  std::shared_ptr<LeaseTable> leases;
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

// What a pipeline did with one shard since it started, for metrics. The
// counts only grow; a shard stays listed once it was read.
struct ShardTelemetry {
  std::string shard_id;
  bool reading = false;   // a reader is on it now
  bool finished = false;  // read, emitted and checkpointed to its end
  uint64_t records_read = 0;
  uint64_t bytes_read = 0;  // record data as Kinesis gave it
  uint64_t records_filtered = 0;
  uint64_t records_emitted = 0;
  uint64_t bytes_emitted = 0;
  uint64_t batches_emitted = 0;
  uint64_t get_records_calls = 0;
  uint64_t get_records_throttled = 0;
  // Failed GetRecords calls by error code (ErrorCodeName), throttling included.
  std::map<std::string, uint64_t> get_records_errors;
  // Records written to the dead letters, by stage ("transform", "filter",
  // "emit") and error code.
  std::map<std::pair<std::string, std::string>, uint64_t> dead_lettered;
  // MillisBehindLatest of the last GetRecords answer; nullopt before one.
  std::optional<int64_t> millis_behind_latest;
  // Since the shard's checkpoint was last loaded or saved, or the shard was
  // last found at its tip with nothing left to save; nullopt while it is
  // not being read.
  std::optional<double> seconds_since_checkpoint;
  // In the buffer, not yet cut into a batch.
  uint64_t records_buffered = 0;
  uint64_t bytes_buffered = 0;
};

// How long something took, in buckets as Prometheus keeps them.
struct DurationHistogram {
  std::vector<double> upper_bounds;  // seconds, ascending; +Inf is implied
  // counts[i]: observations of at most upper_bounds[i] seconds (cumulative);
  // one more entry at the end holds them all (+Inf).
  std::vector<uint64_t> counts;
  double sum_seconds = 0;
};

// What this process did with the pipeline's leases since it started.
struct LeaseTelemetry {
  std::string worker_id;
  std::string table;  // LeaseTable::Describe()
  uint64_t held = 0;  // now
  // Leases got: free or expired ones taken, and handoffs from a live
  // worker (asked for, or taken when the handoff did not come in time).
  uint64_t taken = 0;
  uint64_t stolen = 0;
  uint64_t lost = 0;         // taken away from this worker, or unrenewed too long
  uint64_t handed_over = 0;  // given to a worker that asked
  uint64_t renewals_failed = 0;
};

struct PipelineTelemetry {
  std::vector<ShardTelemetry> shards;  // by shard id
  DurationHistogram emit_seconds;      // each call of the emitter
  // In the last shard listing.
  uint64_t shards_open = 0;
  uint64_t shards_closed = 0;
  // Running, the stream listed, and every shard being read has its
  // checkpoint loaded.
  bool ready = false;
  std::optional<LeaseTelemetry> leases;  // with PipelineOptions::leases
};

class Pipeline {
 public:
  // `once`: stop by itself when every shard is caught up (or finished) and
  // everything read was emitted and checkpointed.
  static Result<std::unique_ptr<Pipeline>> Create(const AwsConfig& aws,
                                                  const PipelineOptions& options,
                                                  PipelineParts parts, bool once,
                                                  Clock* clock = &Clock::Real());
  virtual ~Pipeline() = default;

  // Runs until `stop` is requested (then: stop reading, emit and checkpoint
  // what was read, return), until `once` is done, or until a shard fails (the
  // other shards then stop the same graceful way and the error is returned).
  // `abort` abandons in-flight work at once (a second signal).
  virtual Status Run(std::stop_token stop, std::stop_token abort) = 0;
  virtual PipelineStats stats() const = 0;
  // Per-shard figures; safe to call from any thread, at any time.
  virtual PipelineTelemetry telemetry() const = 0;
  virtual const PipelineOptions& options() const = 0;
};

}  // namespace kc
