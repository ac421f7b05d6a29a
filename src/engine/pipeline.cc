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
#include "engine/lease_coordinator.h"
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
        clock_(clock) {
    if (config_.leases) {
      leases_ = std::make_unique<core::LeaseCoordinator>(config_, parts_.leases, clock_);
      // Each reader gets a store of its own holding (StartWorker); this
      // one saves nothing.
      parts_.checkpoints = leases_->StoreFor("", 0);
    }
  }

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
    // The reader's own stop and abort: the pipeline's, and with leases a
    // handoff (stop) or a lost lease (both).
    std::stop_source stop;
    std::stop_source abort;
    std::optional<std::stop_callback<std::function<void()>>> on_stop;
    std::optional<std::stop_callback<std::function<void()>>> on_abort;
    bool handing_over = false;  // guarded by mu_
    bool lost = false;          // guarded by mu_
    // With leases: the holding it reads for, and its parts, whose store
    // saves for that holding alone.
    core::LeaseCoordinator::Generation generation = 0;
    std::unique_ptr<PipelineParts> parts;
  };

  // The shards that have a reader now.
  std::set<std::string> Reading();
  // A listing of the stream was made: its open and closed shards, for
  // telemetry().
  void NoteListing(const std::vector<kinesis::Shard>& listing);
  // Tells `lineage` the stored state of the closed shards it does not know
  // yet (an earlier run may have finished them), waiting out a store outage
  // as the readers' loads do.
  Status CheckClosedShards(const std::vector<kinesis::Shard>& listing, core::ShardLineage& lineage,
                           std::stop_token stop);
  void StartWorker(const kinesis::Shard& shard, bool after_parents, std::stop_token stop,
                   std::stop_token abort, core::LeaseCoordinator::Generation generation = 0);
  // Waits until a reader ends, the leases change or the discovery interval
  // passes; returns the readers that ended.
  std::vector<std::unique_ptr<Worker>> AwaitReaders(std::stop_token stop);
  // Tells `lineage` how the readers that ended did; returns the first failure.
  std::optional<Error> Ended(std::vector<std::unique_ptr<Worker>> ended,
                             core::ShardLineage& lineage);
  // With leases: stops the readers of leases lost or asked for, and starts
  // readers for the leases held that have none.
  void FollowLeases(const std::vector<kinesis::Shard>& listing, std::stop_token stop,
                    std::stop_token abort);
  // With leases: how the readers that ended did; the leases of shards read
  // to their end are given back, those asked for handed over. A reader
  // whose lease was lost is no failure. Returns the first failure.
  std::optional<Error> EndedLeased(std::vector<std::unique_ptr<Worker>> ended);
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

  bool lease_news_ = false;  // guarded by mu_

  core::Scheduler* scheduler_ = nullptr;  // during Run: reads
  core::Scheduler* emits_ = nullptr;      // during Run: emits

  std::mutex mu_;
  std::condition_variable_any changed_;
  std::map<std::string, std::unique_ptr<Worker>> workers_;  // guarded by mu_
  // With config_.leases. Last: its threads call back into mu_ and changed_.
  std::unique_ptr<core::LeaseCoordinator> leases_;
};

void PipelineImpl::NoteListing(const std::vector<kinesis::Shard>& listing) {
  uint64_t open = 0;
  for (const auto& s : listing) open += s.closed() ? 0 : 1;
  shards_open_.store(open);
  shards_closed_.store(listing.size() - open);
  listed_.store(true);
}

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
                               std::stop_token stop, std::stop_token abort,
                               core::LeaseCoordinator::Generation generation) {
  auto worker = std::make_unique<Worker>();
  Worker* w = worker.get();
  w->shard_id = shard.shard_id;
  w->generation = generation;
  const PipelineParts* parts = &parts_;
  if (leases_) {
    w->parts = std::make_unique<PipelineParts>(parts_);
    w->parts->checkpoints = leases_->StoreFor(shard.shard_id, generation);
    parts = w->parts.get();
  }
  {
    std::lock_guard lock(telemetry_mu_);
    auto& counters = shard_counters_[shard.shard_id];
    if (!counters) counters = std::make_unique<core::ShardCounters>(shard.shard_id);
    w->counters = counters.get();
  }
  w->counters->reading.store(true);
  core::ShardReaderContext ctx{&config_,
                               &client_,
                               parts,
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
  w->on_stop.emplace(stop, std::function<void()>([w] { w->stop.request_stop(); }));
  w->on_abort.emplace(abort, std::function<void()>([w] { w->abort.request_stop(); }));
  std::stop_token own_stop = w->stop.get_token();
  std::stop_token own_abort = w->abort.get_token();
  w->reader->OnResume([this, w, own_stop, own_abort] {
    scheduler_->Post([this, w, own_stop, own_abort] { RunStep(w, own_stop, own_abort); });
  });
  {
    std::lock_guard lock(mu_);
    workers_[shard.shard_id] = std::move(worker);
  }
  scheduler_->Post([this, w, own_stop, own_abort] { RunStep(w, own_stop, own_abort); });
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

std::vector<std::unique_ptr<PipelineImpl::Worker>> PipelineImpl::AwaitReaders(
    std::stop_token stop) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, stop, config_.shard_discovery_interval, [&] {
    return lease_news_ ||
           std::ranges::any_of(workers_, [](const auto& entry) { return entry.second->done; });
  });
  lease_news_ = false;
  std::vector<std::unique_ptr<Worker>> ended;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (!it->second->done) {
      ++it;
      continue;
    }
    ended.push_back(std::move(it->second));
    it = workers_.erase(it);
  }
  return ended;
}

std::optional<Error> PipelineImpl::Ended(std::vector<std::unique_ptr<Worker>> ended,
                                         core::ShardLineage& lineage) {
  std::optional<Error> failure;
  for (const auto& w : ended) {
    if (!*w->outcome) {
      if (!failure) failure = w->outcome->error();
    } else {
      lineage.Ended(w->shard_id, **w->outcome);
    }
  }
  return failure;
}

void PipelineImpl::FollowLeases(const std::vector<kinesis::Shard>& listing, std::stop_token stop,
                                std::stop_token abort) {
  const auto lost = leases_->TakeLost();
  const auto asked = leases_->Asked();
  {
    std::lock_guard lock(mu_);
    for (auto& [id, w] : workers_) {
      auto l = lost.find(id);
      auto a = asked.find(id);
      if (l != lost.end() && l->second == w->generation && !w->lost) {
        // Another worker reads it now: nothing more is emitted from here.
        w->lost = true;
        w->abort.request_stop();
        w->stop.request_stop();
      } else if (a != asked.end() && a->second == w->generation && !w->handing_over) {
        w->handing_over = true;
        w->stop.request_stop();
      }
    }
  }
  if (stop.stop_requested()) return;
  const std::set<std::string> reading = Reading();
  for (const auto& [id, generation] : leases_->Held()) {
    if (reading.contains(id)) continue;  // a new holding waits for the old reader to end
    if (asked.contains(id)) {
      leases_->HandOver(id, generation);  // asked for before its reader started
      continue;
    }
    auto shard = std::ranges::find(listing, id, &kinesis::Shard::shard_id);
    if (shard == listing.end()) continue;  // not listed (yet): read once it is
    StartWorker(*shard, leases_->AfterParents(id), stop, abort, generation);
  }
}

std::optional<Error> PipelineImpl::EndedLeased(std::vector<std::unique_ptr<Worker>> ended) {
  std::optional<Error> failure;
  for (const auto& w : ended) {
    bool lost;
    bool handing_over;
    {
      std::lock_guard lock(mu_);
      lost = w->lost;
      handing_over = w->handing_over;
    }
    if (lost || !leases_->Holds(w->shard_id, w->generation)) {
      if (!*w->outcome && w->outcome->error().code() != ErrorCode::kCancelled) {
        spdlog::info("pipeline {}: shard {} stopped with its lease: {}", config_.name, w->shard_id,
                     w->outcome->error().ToString());
      }
      continue;
    }
    if (!*w->outcome) {
      const Error& e = w->outcome->error();
      if (handing_over && (e.retriable() || e.code() == ErrorCode::kCancelled)) {
        // The sink or the table was out of reach when the handoff cut the
        // wait short: the batch's range is in the lease, and the next owner
        // emits it.
        spdlog::warn(
            "pipeline {}: shard {} handed over with its last batch not delivered "
            "(the next owner delivers it): {}",
            config_.name, w->shard_id, e.ToString());
        leases_->HandOver(w->shard_id, w->generation);
        continue;
      }
      if (!failure && e.code() != ErrorCode::kCancelled) failure = e;
      continue;
    }
    if (**w->outcome == core::ShardOutcome::kShardEnd) {
      leases_->Finished(w->shard_id, w->generation);
    } else if (handing_over) {
      leases_->HandOver(w->shard_id, w->generation);
    }
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
  if (leases_) {
    leases_->Start([this] {
      std::lock_guard lock(mu_);
      lease_news_ = true;
      changed_.notify_all();
    });
  }
  std::stop_callback stop_taking(stop, [&] {
    if (leases_) leases_->StopTaking();
  });

  while (!stop.stop_requested()) {
    auto shards = discovery.List(stop);
    if (!shards) {
      if (shards.error().code() != ErrorCode::kCancelled) failure = shards.error();
      break;
    }
    if (leases_) {
      if (auto s = leases_->Sync(*shards); !s) {
        if (!s.error().retriable()) {
          failure = s.error().With("the leases of stream " + config_.stream);
          break;
        }
        spdlog::warn(
            "pipeline {}: giving the stream's new shards leases failed, tried again "
            "next round: {}",
            config_.name, s.error().ToString());
      }
      NoteListing(*shards);
      // Leases change between listings: follow them at every wake-up.
      const Clock::TimePoint next_listing = clock_->Now() + config_.shard_discovery_interval;
      do {
        FollowLeases(*shards, stop, abort);
        if (auto failed = EndedLeased(AwaitReaders(stop))) {
          failure = std::move(failed);
          stop_all.request_stop();
        }
      } while (!stop.stop_requested() && clock_->Now() < next_listing);
      continue;
    }
    if (auto s = CheckClosedShards(*shards, lineage, stop); !s) {
      if (!(s.error().code() == ErrorCode::kCancelled && stop.stop_requested())) {
        failure = s.error();
      }
      break;
    }
    if (stop.stop_requested()) break;
    NoteListing(*shards);

    core::ShardLineage::Plan plan = lineage.Next(*shards, Reading());
    for (const auto& start : plan.start) {
      StartWorker(*start.shard, start.after_parents, stop, abort);
    }
    if (once_ && plan.all_done && plan.start.empty()) break;

    if (auto failed = Ended(AwaitReaders(stop), lineage)) {
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
  if (leases_) {
    std::vector<std::unique_ptr<Worker>> ended;
    for (auto& [id, w] : remaining) ended.push_back(std::move(w));
    if (auto failed = EndedLeased(std::move(ended)); failed && !failure) failure = failed;
    // Everything read was emitted and checkpointed: the leases go back at
    // once, for the other workers to take at their next round (once no
    // take of this worker's is under way).
    leases_->Stop();
    leases_->ReleaseAll();
  } else {
    for (auto& [id, w] : remaining) {
      if (w->outcome && !*w->outcome && !failure &&
          w->outcome->error().code() != ErrorCode::kCancelled) {
        failure = w->outcome->error();
      }
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
  if (leases_) t.leases = leases_->telemetry();
  return t;
}

}  // namespace

Result<std::unique_ptr<Pipeline>> Pipeline::Create(const AwsConfig& aws,
                                                   const PipelineOptions& config,
                                                   PipelineParts parts, bool once, Clock* clock) {
  if (!parts.emitter)
    return Fail(ErrorCode::kInvalidArgument, "pipeline " + config.name + ": no emitter");
  if (config.leases) {
    if (!parts.leases) {
      return Fail(ErrorCode::kInvalidArgument, "pipeline " + config.name + ": no lease table");
    }
    if (config.leases->worker_id.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "pipeline " + config.name + ": no worker id");
    }
    if (config.leases->failover_time < std::chrono::seconds(1)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "pipeline " + config.name + ": a failover time under a second");
    }
    if (parts.emitter->CommitsCheckpoints()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "pipeline " + config.name + ": " + parts.emitter->Describe() +
                      " commits checkpoints with its batches, which leases do not do yet");
    }
    if (once) {
      return Fail(ErrorCode::kConfig,
                  "pipeline " + config.name +
                      ": run --once reads every shard in one process, so it takes no leases; "
                      "leave out [leases] for a one-off run");
    }
  } else if (!parts.checkpoints) {
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
