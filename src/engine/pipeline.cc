#include "kc/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/log.h"
#include "clients/kinesis/kinesis_factory.h"
#include "engine/discovery.h"
#include "engine/lineage.h"
#include "engine/pipeline_internal.h"
#include "engine/scheduler.h"
#include "engine/shard_reader.h"

namespace kc {
namespace {

// Reads of a shard retry through an outage for about two minutes before the
// pipeline gives up; throttling counts as well, at its capped backoff.
constexpr RetryOptions kReadRetry{.max_attempts = 20,
                                  .base = std::chrono::milliseconds(100),
                                  .cap = std::chrono::milliseconds(10'000)};

// Shards are read by steps on a pool of reader threads (core/scheduler.h),
// started as steps are ready to run, up to this many unless `reader_threads`
// says otherwise. A step mostly waits on the network: a GetRecords answer
// takes some 10 to 50 ms, so one thread makes 20 to 100 calls a second.
// Sixteen threads poll about a thousand idle shards every second (or run 80
// to 300 busy shards at the five calls a second Kinesis allows) while a
// thread costs a stack reservation, some tens of KiB resident and a JSON
// parser as large as the largest page it parsed; machines with many cores
// get two threads per core for the CPU-bound part (parsing, transformers).
// Sinks do not hold these threads: batches are written on the emit pool.
size_t ReaderThreads(const PipelineOptions& config) {
  if (config.reader_threads > 0) return config.reader_threads;
  return std::max<size_t>(16, 2 * size_t{std::thread::hardware_concurrency()});
}

// Batches are written on a pool of their own (see Run), by default as large
// as the readers': every reader thread may have cut a batch for the sink.
// Sinks with few connections to spare want fewer (`emit_threads`).
size_t EmitThreads(const PipelineOptions& config) {
  if (config.emit_threads > 0) return config.emit_threads;
  return ReaderThreads(config);
}

class PipelineImpl final : public Pipeline {
 public:
  PipelineImpl(PipelineOptions config, PipelineParts parts, kinesis::KinesisClient client,
               bool once, Clock* clock)
      : config_(std::move(config)),
        parts_(std::move(parts)),
        client_(std::move(client)),
        once_(once),
        clock_(clock) {}

  Status Run(std::stop_token stop, std::stop_token abort) override;
  PipelineStats stats() const override;
  PipelineTelemetry telemetry() const override;
  const PipelineOptions& options() const override { return config_; }

  // Checkpoint loads wait out a store outage for sink_retry_for, as saves
  // do. With sink_retry_for = 0 (give up on the sink at once, e.g. for dead
  // letters) a load still gets the read policy's attempts: a store blip at
  // start-up is not a reason to stop.
  RetryPolicy LoadRetry() const {
    if (config_.sink_retry_for.count() == 0) return RetryPolicy(kReadRetry, clock_);
    return core::OutageRetry(config_.sink_retry_for, clock_);
  }

 private:
  // A shard being read: its reader's steps run on the scheduler, one at a time.
  struct Worker {
    std::string shard_id;
    core::ShardCounters* counters = nullptr;
    std::unique_ptr<core::ShardReader> reader;          // released by the last step
    bool done = false;                                  // guarded by mu_
    std::optional<Result<core::ShardOutcome>> outcome;  // guarded by mu_
  };

  // The shards that have a reader now.
  std::set<std::string> Reading();
  // Tells `lineage` the stored state of the closed shards it does not know
  // yet (an earlier run may have finished them), waiting out a store outage
  // as the readers' loads do.
  Status CheckClosedShards(const std::vector<kinesis::Shard>& listing, core::ShardLineage& lineage,
                           std::stop_token stop);
  void StartWorker(const kinesis::Shard& shard, bool after_parents, std::stop_token stop,
                   std::stop_token abort);
  // Waits until a reader ends or the discovery interval passes, then tells
  // `lineage` how the readers that ended did; returns the first failure.
  std::optional<Error> AwaitReaders(core::ShardLineage& lineage, std::stop_token stop);
  // Runs the next step of `w` and schedules the one after it, or records
  // how the shard ended.
  void RunStep(Worker* w, std::stop_token stop, std::stop_token abort);

  PipelineOptions config_;
  PipelineParts parts_;
  kinesis::KinesisClient client_;
  bool once_;
  Clock* clock_;
  core::PipelineCounters counters_;
  core::DurationBuckets emit_durations_;
  // For telemetry(): the shards read in this run, kept once their reader
  // ends so that their counts stay.
  mutable std::mutex telemetry_mu_;
  std::map<std::string, std::unique_ptr<core::ShardCounters>> shard_counters_;  // guarded
  std::atomic<bool> running_{false};  // Run is reading: not before, not once stopping
  std::atomic<bool> listed_{false};   // the stream was listed once
  std::atomic<uint64_t> shards_open_{0};
  std::atomic<uint64_t> shards_closed_{0};

  core::Scheduler* scheduler_ = nullptr;  // during Run: reads
  core::Scheduler* emits_ = nullptr;      // during Run: emits

  std::mutex mu_;
  std::condition_variable_any changed_;
  std::map<std::string, std::unique_ptr<Worker>> workers_;  // guarded by mu_
};

std::set<std::string> PipelineImpl::Reading() {
  std::set<std::string> reading;
  std::lock_guard lock(mu_);
  for (const auto& [id, w] : workers_) reading.insert(id);
  return reading;
}

Status PipelineImpl::CheckClosedShards(const std::vector<kinesis::Shard>& listing,
                                       core::ShardLineage& lineage, std::stop_token stop) {
  for (const kinesis::Shard* s : lineage.ToCheck(listing, Reading())) {
    const std::string what = "loading the checkpoint of closed shard " + s->shard_id + " from " +
                             parts_.checkpoints->Describe();
    auto state = LoadRetry().Run(what, stop, [&] {
      return parts_.checkpoints->Load(ShardKey{config_.name, config_.stream, s->shard_id});
    });
    if (!state) return Fail(state.error().retriable() ? state.error() : state.error().With(what));
    lineage.Checked(s->shard_id, state->shard_end);
  }
  return Ok();
}

void PipelineImpl::StartWorker(const kinesis::Shard& shard, bool after_parents,
                               std::stop_token stop, std::stop_token abort) {
  auto worker = std::make_unique<Worker>();
  Worker* w = worker.get();
  w->shard_id = shard.shard_id;
  {
    std::lock_guard lock(telemetry_mu_);
    auto& counters = shard_counters_[shard.shard_id];
    if (!counters) counters = std::make_unique<core::ShardCounters>(shard.shard_id);
    w->counters = counters.get();
  }
  w->counters->reading.store(true);
  core::ShardReaderContext ctx{&config_,
                               &client_,
                               &parts_,
                               clock_,
                               &counters_,
                               w->counters,
                               &emit_durations_,
                               RetryPolicy(kReadRetry, clock_),
                               core::OutageRetry(config_.sink_retry_for, clock_),
                               LoadRetry(),
                               once_,
                               emits_};
  w->reader = std::make_unique<core::ShardReader>(ctx, shard, after_parents);
  w->reader->OnResume([this, w, stop, abort] {
    scheduler_->Post([this, w, stop, abort] { RunStep(w, stop, abort); });
  });
  {
    std::lock_guard lock(mu_);
    workers_[shard.shard_id] = std::move(worker);
  }
  scheduler_->Post([this, w, stop, abort] { RunStep(w, stop, abort); });
}

void PipelineImpl::RunStep(Worker* w, std::stop_token stop, std::stop_token abort) {
  core::ShardReader::Step step = w->reader->Next(stop, abort);
  if (step.parked) return;  // the end of its batch in flight resumes it
  if (!step.outcome) {
    auto next = [this, w, stop, abort] { RunStep(w, stop, abort); };
    if (step.at) {
      scheduler_->PostAt(*step.at, std::move(next));
    } else {
      scheduler_->Post(std::move(next));
    }
    return;
  }
  w->reader.reset();  // its buffer and iterator are no longer needed
  if (*step.outcome && **step.outcome == core::ShardOutcome::kShardEnd) {
    w->counters->finished.store(true);
  }
  // In this order, which Snapshot reads backwards: a reader seen without
  // its checkpoint time is one still loading, never one that just ended.
  w->counters->reading.store(false);
  w->counters->checkpoint_current_at.store(0);
  std::lock_guard lock(mu_);
  w->outcome = std::move(*step.outcome);
  w->done = true;
  changed_.notify_all();
}

std::optional<Error> PipelineImpl::AwaitReaders(core::ShardLineage& lineage, std::stop_token stop) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, stop, config_.shard_discovery_interval, [&] {
    return std::ranges::any_of(workers_, [](const auto& entry) { return entry.second->done; });
  });
  std::optional<Error> failure;
  for (auto it = workers_.begin(); it != workers_.end();) {
    Worker& w = *it->second;
    if (!w.done) {
      ++it;
      continue;
    }
    if (!*w.outcome) {
      if (!failure) failure = w.outcome->error();
    } else {
      lineage.Ended(it->first, **w.outcome);
    }
    it = workers_.erase(it);
  }
  return failure;
}

Status PipelineImpl::Run(std::stop_token user_stop, std::stop_token abort) {
  const log::Scope fields(config_.name, config_.stream);
  // Workers stop on the user's request or when one of them fails.
  std::stop_source stop_all;
  std::stop_callback forward(user_stop, [&] { stop_all.request_stop(); });
  std::stop_token stop = stop_all.get_token();
  // Emits have their own pool: a slow sink holds emit threads while the
  // shards go on reading (up to one batch in flight and one buffered per
  // shard), and every shard's batches keep their turn (the pool runs ready
  // tasks first come, first served).
  core::Scheduler emits(EmitThreads(config_), clock_);
  emits_ = &emits;
  core::Scheduler scheduler(ReaderThreads(config_), clock_);
  scheduler_ = &scheduler;
  // Shards waiting for their next poll or backoff must emit and checkpoint
  // what they read now; the pipeline is no longer ready.
  running_.store(true);
  std::stop_callback hurry(stop, [&] {
    running_.store(false);
    scheduler.Hurry();
  });

  core::ShardDiscovery discovery(config_, client_);
  core::ShardLineage lineage;
  std::optional<Error> failure;

  while (!stop.stop_requested()) {
    auto shards = discovery.List(stop);
    if (!shards) {
      if (shards.error().code() != ErrorCode::kCancelled) failure = shards.error();
      break;
    }
    if (auto s = CheckClosedShards(*shards, lineage, stop); !s) {
      if (!(s.error().code() == ErrorCode::kCancelled && stop.stop_requested())) {
        failure = s.error();
      }
      break;
    }
    if (stop.stop_requested()) break;
    uint64_t open = 0;
    for (const auto& s : *shards) open += s.closed() ? 0 : 1;
    shards_open_.store(open);
    shards_closed_.store(shards->size() - open);
    listed_.store(true);

    core::ShardLineage::Plan plan = lineage.Next(*shards, Reading());
    for (const auto& start : plan.start) {
      StartWorker(*start.shard, start.after_parents, stop, abort);
    }
    if (once_ && plan.all_done && plan.start.empty()) break;

    if (auto failed = AwaitReaders(lineage, stop)) {
      failure = std::move(failed);
      stop_all.request_stop();
    }
  }

  // Stop: every worker emits and checkpoints what it read, then ends.
  stop_all.request_stop();
  running_.store(false);
  std::map<std::string, std::unique_ptr<Worker>> remaining;
  {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] {
      return std::ranges::all_of(workers_, [](const auto& entry) { return entry.second->done; });
    });
    remaining.swap(workers_);
  }
  for (auto& [id, w] : remaining) {
    if (w->outcome && !*w->outcome && !failure &&
        w->outcome->error().code() != ErrorCode::kCancelled) {
      failure = w->outcome->error();
    }
  }
  if (failure) return Fail(failure->With("pipeline " + config_.name));
  return Ok();
}

PipelineStats PipelineImpl::stats() const {
  PipelineStats s;
  for (const ShardTelemetry& shard : telemetry().shards) {
    s.records_read += shard.records_read;
    s.records_emitted += shard.records_emitted;
    s.records_filtered += shard.records_filtered;
    for (const auto& [why, n] : shard.dead_lettered) s.records_dead_lettered += n;
    s.bytes_emitted += shard.bytes_emitted;
    s.batches_emitted += shard.batches_emitted;
  }
  s.shards_started = counters_.shards_started.load();
  s.shards_finished = counters_.shards_finished.load();
  return s;
}

PipelineTelemetry PipelineImpl::telemetry() const {
  PipelineTelemetry t;
  const Clock::TimePoint now = clock_->Now();
  bool loaded = true;
  {
    std::lock_guard lock(telemetry_mu_);
    t.shards.reserve(shard_counters_.size());
    for (const auto& [id, counters] : shard_counters_) {
      t.shards.push_back(counters->Snapshot(now));
      // A reader whose checkpoint is not loaded yet has no checkpoint time.
      if (t.shards.back().reading && !t.shards.back().seconds_since_checkpoint) loaded = false;
    }
  }
  t.emit_seconds = emit_durations_.Snapshot();
  t.shards_open = shards_open_.load();
  t.shards_closed = shards_closed_.load();
  t.ready = running_.load() && listed_.load() && loaded;
  return t;
}

}  // namespace

Result<std::unique_ptr<Pipeline>> Pipeline::Create(const AwsConfig& aws,
                                                   const PipelineOptions& config,
                                                   PipelineParts parts, bool once, Clock* clock) {
  if (!parts.emitter)
    return Fail(ErrorCode::kInvalidArgument, "pipeline " + config.name + ": no emitter");
  if (!parts.checkpoints) {
    return Fail(ErrorCode::kInvalidArgument, "pipeline " + config.name + ": no checkpoint store");
  }
  auto client = kinesis::MakeKinesisClient(aws, RetryPolicy(RetryOptions{}, clock));
  if (!client) return Fail(client.error());
  return core::MakePipeline(config, std::move(parts), std::move(*client), once, clock);
}

namespace core {

std::unique_ptr<Pipeline> MakePipeline(PipelineOptions config, PipelineParts parts,
                                       kinesis::KinesisClient client, bool once, Clock* clock) {
  if (!parts.transformer) parts.transformer = std::make_shared<StringTransformer>();
  if (!parts.filter) parts.filter = std::make_shared<AllPassFilter>();
  return std::make_unique<PipelineImpl>(std::move(config), std::move(parts), std::move(client),
                                        once, clock);
}

}  // namespace core
}  // namespace kc
