#include "engine/shard_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/log.h"
#include "clients/kinesis/deaggregate.h"

namespace kc::core {
namespace {

// Kinesis allows five GetRecords calls a second per shard.
constexpr std::chrono::milliseconds kMinCallInterval{200};

std::string Describe(const ShardPosition& p) {
  if (p.sub_sequence_number == 0) return p.sequence_number;
  return p.sequence_number + "/" + std::to_string(p.sub_sequence_number);
}

// Resuming from a position: the record at it is read again and skipped
// (the reader drops what is not after `last_read_`). A position may be a
// user record inside a KPL aggregate, with more of them after it under the
// same sequence number, and AFTER_SEQUENCE_NUMBER would skip those, whatever
// its sub-sequence number (the first user record's is 0, as a plain
// record's).
kinesis::IteratorSpec After(const ShardPosition& p) {
  kinesis::IteratorSpec spec;
  spec.type = kinesis::IteratorType::kAtSequenceNumber;
  spec.sequence_number = p.sequence_number;
  return spec;
}

}  // namespace

ShardReader::ShardReader(ShardReaderContext context, kinesis::Shard shard, bool after_parents)
    : ctx_(context),
      shard_(std::move(shard)),
      key_{ctx_.config->name, ctx_.config->stream, shard_.shard_id},
      after_parents_(after_parents) {
  buffer_ = ctx_.parts->make_buffer ? ctx_.parts->make_buffer()
                                    : std::make_unique<ThresholdBuffer>(ctx_.config->buffer);
}

Result<std::string> ShardReader::InitialIterator(std::stop_token abort) {
  kinesis::IteratorSpec spec;
  const StartAt& start = ctx_.config->start_at;
  if (state_.position) {
    spec = After(*state_.position);
  } else if (!state_.pending.empty()) {
    // Cut before the first checkpoint: read that batch again from its start.
    spec.type = kinesis::IteratorType::kAtSequenceNumber;
    spec.sequence_number = state_.pending.front().first.sequence_number;
  } else if (start.kind == StartAt::Kind::kTimestamp) {
    spec.type = kinesis::IteratorType::kAtTimestamp;
    spec.timestamp_ms = start.timestamp_ms;
  } else if (after_parents_ || start.kind == StartAt::Kind::kTrimHorizon) {
    // A child of shards this pipeline read continues exactly where they ended.
    spec.type = kinesis::IteratorType::kTrimHorizon;
  } else {
    spec.type = kinesis::IteratorType::kLatest;
  }
  auto it = ctx_.client->GetShardIterator(ctx_.config->stream, shard_.shard_id, spec, abort);
  // Kinesis answers InvalidArgumentException for a sequence number that is no
  // longer in the shard; other invalid-argument answers (KMS, validation, a
  // checkpoint of another stream) are real errors and are not hidden.
  if (!it && it.error().code() == ErrorCode::kInvalidArgument && !spec.sequence_number.empty() &&
      it.error().message().find("InvalidArgumentException") != std::string::npos) {
    // The position is no longer in the stream: the data was trimmed past the
    // retention period. Everything still there is newer: start at the oldest.
    const std::string trimmed = spec.sequence_number;  // spec changes below
    const log::Field position(log::Field::kSequenceNumber, trimmed);
    spdlog::warn(
        "[{}] shard {}: position {} is no longer in the stream ({}); it was trimmed past the "
        "retention period, so reading starts at TRIM_HORIZON and the records in between are lost",
        ctx_.config->name, shard_.shard_id, spec.sequence_number, it.error().message());
    spec = kinesis::IteratorSpec{};
    it = ctx_.client->GetShardIterator(ctx_.config->stream, shard_.shard_id, spec, abort);
  }
  if (!it) return Fail(it.error());
  const log::Field position(log::Field::kSequenceNumber, spec.sequence_number);
  spdlog::info("[{}] shard {}: reading from {}{}", ctx_.config->name, shard_.shard_id,
               kinesis::IteratorTypeName(spec.type),
               spec.sequence_number.empty() ? "" : " " + spec.sequence_number);
  return it;
}

Result<std::string> ShardReader::IteratorAfterLastRead(std::stop_token abort) {
  if (!last_read_) return InitialIterator(abort);
  return ctx_.client->GetShardIterator(ctx_.config->stream, shard_.shard_id, After(*last_read_),
                                       abort);
}

Status ShardReader::Save(std::stop_token abort) {
  const std::string what = "saving the checkpoint of shard " + shard_.shard_id;
  auto s = ThroughOutage(
      what, [&] { return ctx_.parts->checkpoints->Save(key_, state_); }, abort);
  if (!s) return Fail(s.error().With(what));
  ctx_.shard_counters->CheckpointCurrent(ctx_.clock->Now());
  return Ok();
}

Status ShardReader::ConfirmClosed(std::stop_token abort) {
  if (shard_.closed()) return Ok();
  auto shards = ctx_.client->ListShards(ctx_.config->stream, abort);
  if (!shards) return Fail(shards.error());
  for (const auto& s : *shards) {
    if (s.shard_id == shard_.shard_id && s.closed()) {
      // Not shard_id: an emit in flight reads it on another thread.
      shard_.ending_sequence_number = s.ending_sequence_number;
      return Ok();
    }
  }
  return Fail(ErrorCode::kParse, "Kinesis gave no next iterator for shard " + shard_.shard_id +
                                     ", which is still open; not treating it as finished");
}

ShardReader::CutWork ShardReader::CutBatch() {
  CutWork work{buffer_->Take(), std::move(letters_)};
  letters_.clear();
  records_buffered_ = 0;
  ctx_.shard_counters->records_buffered.store(0, std::memory_order_relaxed);
  ctx_.shard_counters->bytes_buffered.store(0, std::memory_order_relaxed);
  Batch& batch = work.batch;
  batch.stream = ctx_.config->stream;
  batch.shard_id = shard_.shard_id;
  const BatchRange range{batch.first, batch.last};
  if (replay_ && *replay_ != range) {
    spdlog::warn(
        "[{}] shard {}: the batch recorded as {}..{} could not be cut again (its records "
        "are gone); cutting {}..{} instead",
        ctx_.config->name, shard_.shard_id, Describe(replay_->first), Describe(replay_->last),
        Describe(range.first), Describe(range.last));
  }
  replay_.reset();
  return work;
}

Status ShardReader::EmitBatch(const Batch& batch, std::vector<DeadLetter> letters,
                              std::stop_token abort) {
  const BatchRange range{batch.first, batch.last};
  if (state_.pending.empty() || state_.pending.front() != range) {
    state_.pending.assign(1, range);
    if (auto s = Save(abort); !s) return s;
  }
  if (state_.position && range.last <= *state_.position) {
    return Fail(ErrorCode::kInternal,
                "checkpoint of shard " + shard_.shard_id + " would move backwards from " +
                    Describe(*state_.position) + " to " + Describe(range.last));
  }
  const std::string what = Emitting(batch);
  // The letters of records refused by the transformer or filter first: an
  // emitter that commits checkpoints moves the checkpoint past them.
  if (!letters.empty()) {
    if (auto s = WriteDeadLetters(letters, abort); !s) return Fail(s.error().With(what));
    letters.clear();
  }
  ShardCheckpoint after = state_;
  after.position = range.last;
  after.pending.erase(after.pending.begin());
  // An emitter that commits checkpoints stores the batch and `after` in one
  // transaction; otherwise the checkpoint is saved once the emit succeeded.
  const bool committed = !batch.records.empty() && ctx_.parts->emitter->CommitsCheckpoints();
  if (!batch.records.empty()) {
    std::vector<ShardPosition> delivered;  // by EmitSeparatingBad, before a failure
    Status s;
    if (committed) {
      s = EmitThroughOutage(
          what, [&] { return ctx_.parts->emitter->EmitAndCheckpoint(batch, key_, after, abort); },
          abort);
      if (s) {
        CountEmitted(batch);
        ctx_.shard_counters->CheckpointCurrent(ctx_.clock->Now());
      }
    } else if (DeadLettersOn()) {
      s = EmitSeparatingBad(batch, abort, &letters, &delivered);
    } else {
      s = EmitThroughOutage(
          what, [&] { return ctx_.parts->emitter->Emit(batch, abort); }, abort);
      if (s) CountEmitted(batch);
    }
    if (!s) {
      // A sink that stayed unavailable past the retry budget, or that
      // refused the data of an emitter whose batches are not split (it
      // commits checkpoints): the records not delivered go to the dead
      // letters. Errors of the setup (access, a missing table, a second
      // writer, an answer that cannot be read, shutdown) stop the pipeline,
      // and so does a shutdown during an outage: the next run emits the
      // batch again.
      const bool undeliverable =
          DeadLettersOn() && (s.error().code() == ErrorCode::kInvalidArgument ||
                              (s.error().retriable() && !stop_.stop_requested()));
      if (!undeliverable) return Fail(s.error().With(what));
      // Sorted once: a batch may hold tens of thousands of records.
      std::vector<ShardPosition> handled = std::move(delivered);
      for (const DeadLetter& l : letters) handled.push_back(l.record.position());
      std::sort(handled.begin(), handled.end());
      for (const Record& r : batch.records) {
        if (!std::binary_search(handled.begin(), handled.end(), r.position())) {
          letters.push_back(DeadLetter{ctx_.config->name, ctx_.config->stream, shard_.shard_id,
                                       "emit", ErrorCodeName(s.error().code()), s.error().message(),
                                       r});
        }
      }
    }
    if (!letters.empty()) {
      if (auto written = WriteDeadLetters(letters, abort); !written) {
        return Fail(written.error().With(what));
      }
      const std::string first = Describe(letters.front().record.position());
      const log::Field position(log::Field::kSequenceNumber, first);
      const log::Field code(log::Field::kErrorCode, letters.front().error_code);
      spdlog::warn("[{}] {}: {} record(s) went to the dead letters; the first: {}",
                   ctx_.config->name, what, letters.size(), letters.front().error);
      state_ = std::move(after);
      return Save(abort);  // also after a committing emitter's failure: nothing was committed
    }
  }
  state_ = std::move(after);
  if (committed) return Ok();
  return Save(abort);
}

void ShardReader::CountEmitted(const Batch& batch) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  ctx_.shard_counters->records_emitted.fetch_add(batch.records.size(), kRelaxed);
  ctx_.shard_counters->bytes_emitted.fetch_add(batch.bytes, kRelaxed);
  ctx_.shard_counters->batches_emitted.fetch_add(1, kRelaxed);
}

Status ShardReader::EmitThroughOutage(const std::string& what, const std::function<Status()>& call,
                                      std::stop_token abort) {
  return ThroughOutage(
      what,
      [&] {
        const Clock::TimePoint started = ctx_.clock->Now();
        Status s = call();
        ctx_.emit_durations->Observe(ctx_.clock->Now() - started);
        return s;
      },
      abort);
}

std::string ShardReader::Emitting(const Batch& batch) const {
  return "emitting shard " + shard_.shard_id + " records " + Describe(batch.first) + ".." +
         Describe(batch.last);
}

RetryPolicy OutageRetry(std::chrono::milliseconds retry_for, Clock* clock) {
  // Attempt n waits up to min(30 s, 1 s·2^n): a service back within seconds
  // is found within seconds, one down for an hour is asked twice a minute.
  // No time at all (sink_retry_for = 0s) means one attempt.
  return RetryPolicy(RetryOptions{.max_attempts = retry_for.count() == 0 ? 1 : 0,
                                  .base = std::chrono::milliseconds(1'000),
                                  .cap = std::chrono::milliseconds(30'000),
                                  .give_up_after = retry_for},
                     clock);
}

Status ShardReader::ThroughOutage(const std::string& what, const std::function<Status()>& op,
                                  std::stop_token abort) {
  // A hard abort abandons the call; a stop ends the wait with the last error,
  // the checkpoint unmoved, so the next run emits the batch again.
  Status s = ctx_.outage_retry.Run(what, RetryStops{.cancel = abort, .give_up = stop_}, op);
  if (!s && s.error().retriable()) {
    if (stop_.stop_requested()) {
      return Fail(Error(s.error().code(), s.error().message() +
                                              "; the checkpoint did not move, so the next run "
                                              "emits these records"));
    }
    return Fail(SinkRetryForSpent(s.error()));
  }
  return s;
}

Error ShardReader::SinkRetryForSpent(const Error& e) const {
  if (ctx_.config->sink_retry_for.count() == 0) return e;
  return Error(e.code(), e.message() + " (sink_retry_for)");
}

Status ShardReader::EmitSeparatingBad(const Batch& batch, std::stop_token abort,
                                      std::vector<DeadLetter>* letters,
                                      std::vector<ShardPosition>* delivered) {
  auto s = EmitThroughOutage(
      Emitting(batch), [&] { return ctx_.parts->emitter->Emit(batch, abort); }, abort);
  if (s) {
    CountEmitted(batch);
    for (const Record& r : batch.records) delivered->push_back(r.position());
    return Ok();
  }
  if (s.error().code() != ErrorCode::kInvalidArgument) return s;
  if (batch.records.size() == 1) {
    letters->push_back(DeadLetter{ctx_.config->name, ctx_.config->stream, shard_.shard_id, "emit",
                                  ErrorCodeName(s.error().code()), s.error().message(),
                                  batch.records.front()});
    return Ok();
  }
  // Refused for its data: halves, until the records the sink refuses are
  // alone. The halves are the same on a replay, so idempotent sinks get the
  // same pieces again.
  const size_t mid = batch.records.size() / 2;
  for (auto [begin, end] : {std::pair{size_t{0}, mid}, std::pair{mid, batch.records.size()}}) {
    Batch half;
    half.stream = batch.stream;
    half.shard_id = batch.shard_id;
    half.records.assign(batch.records.begin() + static_cast<std::ptrdiff_t>(begin),
                        batch.records.begin() + static_cast<std::ptrdiff_t>(end));
    half.first = half.records.front().position();
    half.last = half.records.back().position();
    half.first_arrival_ms = half.records.front().approximate_arrival_ms;
    for (const Record& r : half.records) half.bytes += r.data.size();
    if (auto r = EmitSeparatingBad(half, abort, letters, delivered); !r) return r;
  }
  return Ok();
}

Status ShardReader::FlushBatch(std::stop_token abort) {
  CutWork work = CutBatch();
  return EmitBatch(work.batch, std::move(work.letters), abort);
}

Status ShardReader::WriteDeadLetters(const std::vector<DeadLetter>& letters,
                                     std::stop_token abort) {
  const std::string what = "writing " + std::to_string(letters.size()) +
                           " dead letter(s) of shard " + shard_.shard_id +
                           " (the first for the record at sequence number " +
                           Describe(letters.front().record.position()) + ": " +
                           letters.front().error + ") to " + ctx_.parts->dead_letter->Describe();
  auto s = ctx_.read_retry.Run(what, abort,
                               [&] { return ctx_.parts->dead_letter->Write(letters, abort); });
  if (!s) return Fail(s.error().With(what));
  for (const DeadLetter& l : letters)
    ctx_.shard_counters->CountDeadLetter(l.stage, l.error_code, 1);
  return Ok();
}

std::optional<ShardReader::Step> ShardReader::BadRecordAt(Record& rec, const ShardPosition& pos,
                                                          const char* stage, const Error& error,
                                                          Clock::TimePoint page_now) {
  if (!DeadLettersOn()) {
    bad_ = BadRecord{pos, error};
    return ShardReader::Step{};
  }
  // Written by the emit of the batch the record is read into, before that
  // batch's checkpoint: the reader never waits on the destination.
  letters_.push_back(DeadLetter{ctx_.config->name, ctx_.config->stream, shard_.shard_id, stage,
                                ErrorCodeName(error.code()), error.message(), rec});
  buffer_->Add(std::move(rec), false, page_now);
  ++records_buffered_;
  last_read_ = pos;
  cut_due_ = replay_ ? pos == replay_->last : buffer_->ShouldFlush(page_now);
  return std::nullopt;
}

Error ShardReader::StopAtBadRecord(const ShardPosition& pos, const Error& error,
                                   std::stop_token abort) {
  std::string delivered;
  if (buffer_->Empty()) {
    delivered = "the records before it were already emitted and checkpointed";
  } else if (!replay_) {
    // The records before the bad one form a batch of their own; the next
    // run starts right at the bad record, so it cuts no other batch.
    if (auto s = FlushBatch(abort); !s) {
      return s.error().With("bad record in stream " + ctx_.config->stream + " shard " +
                            shard_.shard_id + " at sequence number " + Describe(pos) + " (" +
                            error.message() + "); emitting the records before it failed");
    }
    delivered = "the records before it were emitted and checkpointed";
  } else {
    // Inside a batch recorded before a restart: emitting part of it would
    // name a different batch, so it is left to be cut whole once the record
    // is fixed, as after a stop.
    buffer_->Take();
    letters_.clear();
    delivered = "the batch it belongs to was left unemitted, as recorded before the restart";
  }
  return Error(ErrorCode::kParse,
               "bad record in stream " + ctx_.config->stream + " shard " + shard_.shard_id +
                   " at sequence number " + Describe(pos) + ": " + error.message() + "; " +
                   delivered +
                   ", and the pipeline stopped so that no record is skipped: the "
                   "next run stops at this record again");
}

namespace {

ShardReader::Step Done(Result<ShardOutcome> outcome) {
  return ShardReader::Step{.outcome = std::move(outcome), .at = std::nullopt, .parked = false};
}
ShardReader::Step AtOnce() { return ShardReader::Step{}; }
ShardReader::Step At(Clock::TimePoint when) {
  return ShardReader::Step{.outcome = std::nullopt, .at = when, .parked = false};
}
ShardReader::Step Parked() {
  return ShardReader::Step{.outcome = std::nullopt, .at = std::nullopt, .parked = true};
}

}  // namespace

ShardReader::Step ShardReader::Next(std::stop_token stop, std::stop_token abort) {
  const log::Scope fields(ctx_.config->name, ctx_.config->stream, shard_.shard_id);
  if (!outcome_) {
    Step step;
    try {
      if (!started_) {
        step = Start(stop, abort);
      } else {
        step = Read(stop, abort);
      }
    } catch (const std::exception& e) {
      // A user's transformer, filter or store threw: stop this pipeline like
      // any other failure, naming the shard, instead of terminating the
      // process.
      step = Done(Fail(ErrorCode::kInternal,
                       "shard " + shard_.shard_id + ": unexpected exception: " + e.what()));
    } catch (...) {
      step =
          Done(Fail(ErrorCode::kInternal, "shard " + shard_.shard_id + ": unexpected exception"));
    }
    if (!step.outcome) return step;
    outcome_ = std::move(step.outcome);
  }
  // The reader may be destroyed once it gives its outcome: a batch still in
  // flight (on an error path) is waited for first.
  {
    std::lock_guard lock(mu_);
    if (in_flight_) {
      parked_ = true;
      return Parked();
    }
  }
  return Done(std::move(*outcome_));
}

std::optional<ShardReader::Step> ShardReader::WaitForEmit() {
  std::lock_guard lock(mu_);
  if (in_flight_) {
    parked_ = true;
    return Parked();
  }
  if (emit_error_) return Done(Fail(*emit_error_));
  return std::nullopt;
}

std::optional<ShardReader::Step> ShardReader::Cut(std::stop_token abort) {
  if (auto wait = WaitForEmit()) return wait;
  CutWork work = CutBatch();
  {
    std::lock_guard lock(mu_);
    in_flight_ = true;
  }
  ctx_.emits->Post([this, w = std::move(work), abort]() mutable {
    Deliver(std::move(w.batch), std::move(w.letters), abort);
  });
  return std::nullopt;
}

std::optional<ShardReader::Step> ShardReader::Drain(std::stop_token abort) {
  if (auto wait = WaitForEmit()) return wait;
  if (buffer_->Empty()) return std::nullopt;
  if (auto wait = Cut(abort)) return wait;
  return Drain(abort);
}

void ShardReader::Deliver(Batch batch, std::vector<DeadLetter> letters, std::stop_token abort) {
  const log::Scope fields(ctx_.config->name, ctx_.config->stream, shard_.shard_id);
  Status s;
  try {
    s = EmitBatch(batch, std::move(letters), abort);
  } catch (const std::exception& e) {
    s = Fail(ErrorCode::kInternal,
             "shard " + shard_.shard_id + ": unexpected exception: " + e.what());
  } catch (...) {
    s = Fail(ErrorCode::kInternal, "shard " + shard_.shard_id + ": unexpected exception");
  }
  std::vector<Record> spent = std::move(batch.records);
  batch = Batch{};
  std::function<void()> resume;
  {
    std::lock_guard lock(mu_);
    // These replace what the reader has left to reuse: batches are seldom a
    // whole number of pages, and keeping the leftovers of the last one
    // instead would free every other batch; keeping both would hold more
    // than a batch.
    recycled_.swap(spent);
    in_flight_ = false;
    if (!s) emit_error_ = s.error();
    if (parked_) {
      parked_ = false;
      resume = resume_;
    }
  }
  std::vector<Record>().swap(spent);  // what was not kept is freed before the reader reads on
  // Nothing of the reader is touched from here on: once resumed, it may end
  // and be destroyed.
  if (resume) resume();
}

std::vector<Record> ShardReader::TakeRecycled() {
  std::vector<Record> out;
  std::lock_guard lock(mu_);
  out.swap(recycled_);
  return out;
}

ShardReader::Step ShardReader::Start(std::stop_token stop, std::stop_token abort) {
  // Stopped before the checkpoint was loaded: nothing was read, nothing is
  // owed.
  if (stop.stop_requested()) return Done(ShardOutcome::kStopped);
  stop_ = stop;  // before any emit is posted
  auto loaded = ctx_.parts->checkpoints->Load(key_);
  if (!loaded) {
    const Error& e = loaded.error();
    const std::string what = "loading the checkpoint of shard " + shard_.shard_id + " from " +
                             ctx_.parts->checkpoints->Describe();
    if (!e.retriable()) return Done(Fail(e.With(what)));
    // A store that is unreachable (a restart, a failover, an outage) is
    // waited out like one during writes, for sink_retry_for: asked again
    // after the outage backoff, waiting on the scheduler, not on a thread,
    // so that the shards whose loads went through keep being read.
    if (!first_load_failure_) first_load_failure_ = ctx_.clock->Now();
    auto wait = ctx_.load_retry.NextWait(what, e, failed_loads_++, first_load_failure_);
    if (!wait) return Done(Fail(SinkRetryForSpent(wait.error())));
    return At(ctx_.clock->Now() + *wait);
  }
  started_ = true;
  ctx_.shard_counters->CheckpointCurrent(ctx_.clock->Now());
  state_ = std::move(*loaded);
  if (state_.shard_end) return Done(ShardOutcome::kShardEnd);
  last_read_ = state_.position;
  if (!state_.pending.empty()) replay_ = state_.pending.front();
  ctx_.counters->shards_started += 1;

  auto iterator = InitialIterator(abort);
  if (!iterator) return Done(Fail(iterator.error().With("shard " + shard_.shard_id)));
  iterator_ = std::move(*iterator);
  return Read(stop, abort);
}

ShardReader::Step ShardReader::Read(std::stop_token stop, std::stop_token abort) {
  const std::string& name = ctx_.config->name;
  {
    std::lock_guard lock(mu_);
    if (emit_error_) return Done(Fail(*emit_error_));
  }
  if (bad_) {
    if (auto wait = WaitForEmit()) return *wait;
    return Done(Fail(StopAtBadRecord(bad_->pos, bad_->error, abort)));
  }
  if (stop.stop_requested()) {
    // The rest of the page lies after the last record handed on, so the
    // next run reads it again.
    DropPage();
    if (replay_) {
      // Replaying a batch cut before a crash: emitting part of it would
      // name a different batch and duplicate its records when the rest is
      // cut later. Drop it; the checkpoint has not moved past it, so the
      // next run reads it again and cuts the recorded batch whole.
      if (!buffer_->Empty()) buffer_->Take();
      letters_.clear();  // read again, and written again, by the next run
      return Done(ShardOutcome::kStopped);
    }
    if (auto wait = Drain(abort)) return *wait;
    return Done(ShardOutcome::kStopped);
  }
  if (page_) return ReadPage(stop, abort);
  if (iterator_.empty()) {
    // A closed shard's last page has no next iterator: everything is read.
    if (auto s = ConfirmClosed(abort); !s) return Done(Fail(s.error()));
    if (auto wait = Drain(abort)) return *wait;
    state_.shard_end = true;
    state_.pending.clear();
    if (auto s = Save(abort); !s) return Done(Fail(s.error()));
    ctx_.counters->shards_finished += 1;
    spdlog::info("[{}] shard {}: read to its end and checkpointed", name, shard_.shard_id);
    return Done(ShardOutcome::kShardEnd);
  }
  // Kinesis allows five GetRecords calls a second per shard.
  if (last_answer_ && ctx_.clock->Now() - *last_answer_ < kMinCallInterval) {
    return At(*last_answer_ + kMinCallInterval);
  }

  std::vector<Record> spare = TakeRecycled();
  auto page = ctx_.client->GetRecordsOnce(iterator_, PageLimit(), &spare);
  if (!spare.empty()) {
    std::lock_guard lock(mu_);
    if (recycled_.empty()) recycled_.swap(spare);  // else a newer batch's records are there
  }
  const Clock::TimePoint answered = ctx_.clock->Now();
  last_answer_ = answered;
  ctx_.shard_counters->get_records_calls.fetch_add(1, std::memory_order_relaxed);
  if (!page) {
    const Error& e = page.error();
    if (e.code() == ErrorCode::kCancelled) return AtOnce();
    ctx_.shard_counters->CountError(e.code());
    if (e.retriable()) {
      // Throttled or briefly unreachable: wait the policy's backoff on the
      // scheduler, not on a thread.
      auto wait =
          ctx_.read_retry.NextWait("GetRecords on shard " + shard_.shard_id, e, failed_calls_++);
      if (!wait) return Done(Fail(wait.error().With("shard " + shard_.shard_id)));
      return At(answered + *wait);
    }
    failed_calls_ = 0;
    if (e.code() == ErrorCode::kExpiredIterator) {
      spdlog::info("[{}] shard {}: iterator expired; asking for one after the last record read",
                   name, shard_.shard_id);
      auto fresh = IteratorAfterLastRead(abort);
      if (!fresh) return Done(Fail(fresh.error().With("shard " + shard_.shard_id)));
      iterator_ = std::move(*fresh);
      return AtOnce();
    }
    return Done(Fail(e.With("shard " + shard_.shard_id)));
  }
  failed_calls_ = 0;
  // A server answering the same iterator again with records already read
  // would hold the shard where it is for ever, a page at a time.
  if (!page->records.empty() && page->next_shard_iterator == iterator_ && last_read_ &&
      ShardPosition{page->records.back().sequence_number, 0} <= *last_read_) {
    if (++stalled_pages_ == kMaxStalledPages) {
      return Done(Fail(
          Error(ErrorCode::kParse,
                "GetRecords answered " + std::to_string(kMaxStalledPages) +
                    " times in a row with records already read and the iterator it was given: the "
                    "server does not move the shard forward (shard " +
                    shard_.shard_id + ")")));
    }
  } else {
    stalled_pages_ = 0;
  }
  if (!page->records.empty()) {
    // The next page is sized by this one's records: ceil so that a page
    // never overshoots bytes_per_call by rounding.
    average_record_bytes_ =
        std::max<uint64_t>(1, (page->bytes + page->records.size() - 1) / page->records.size());
  }
  iterator_ = std::move(page->next_shard_iterator);
  caught_up_ = page->records.empty() && page->millis_behind_latest == 0;
  ctx_.shard_counters->millis_behind_latest.store(page->millis_behind_latest,
                                                  std::memory_order_relaxed);
  page_ = std::move(*page);
  page_index_ = 0;
  if (ctx_.config->deaggregate && kinesis::HasAggregates(page_->records)) {
    unexpanded_.swap(page_->records);
    unexpanded_next_ = 0;
    ExpandNextPart();
  }
  return ReadPage(stop, abort);
}

bool ShardReader::ExpandNextPart() {
  if (unexpanded_next_ >= unexpanded_.size()) {
    unexpanded_.clear();
    unexpanded_next_ = 0;
    return false;
  }
  const kinesis::DeaggregateCounts counts =
      kinesis::DeaggregatePart(unexpanded_, unexpanded_next_, page_->records);
  page_index_ = 0;
  ctx_.counters->aggregates_split += counts.aggregates;
  if (counts.malformed > 0) {
    ctx_.counters->aggregates_malformed += counts.malformed;
    spdlog::warn(
        "[{}] shard {}: {} record(s) start like a KPL aggregate but are not one ({}); handed "
        "on unchanged",
        ctx_.config->name, shard_.shard_id, counts.malformed, counts.first_malformed);
  }
  return true;
}

void ShardReader::DropPage() {
  page_.reset();
  unexpanded_.clear();
  unexpanded_next_ = 0;
}

uint32_t PageLimitFor(uint32_t records_per_call, uint64_t bytes_per_call,
                      uint64_t average_record_bytes) {
  const uint64_t fit = bytes_per_call / std::max<uint64_t>(1, average_record_bytes);
  return static_cast<uint32_t>(
      std::clamp<uint64_t>(fit, 1, std::max<uint32_t>(1, records_per_call)));
}

uint32_t ShardReader::PageLimit() const {
  return PageLimitFor(ctx_.config->records_per_call, ctx_.config->bytes_per_call,
                      average_record_bytes_);
}

ShardReader::Step ShardReader::ReadPage(std::stop_token stop, std::stop_token abort) {
  std::vector<Record>& records = page_->records;
  // One reading for the page: handing a page on takes milliseconds, and the
  // age threshold is measured in seconds.
  const Clock::TimePoint page_now = ctx_.clock->Now();
  ShardTally tally(ctx_.shard_counters, buffer_.get(), &records_buffered_);
  for (;;) {
    if (cut_due_) {
      if (auto wait = Cut(abort)) return *wait;
      cut_due_ = false;
    }
    if (page_index_ == records.size() && !ExpandNextPart()) break;
    // A stop ends reading here; the next step emits what was read.
    if (stop.stop_requested()) return AtOnce();
    Record& rec = records[page_index_];
    ShardPosition& pos = pos_;
    pos.sequence_number.assign(rec.sequence_number);
    pos.sub_sequence_number = rec.sub_sequence_number;
    if (last_read_ && pos <= *last_read_) {  // handed on before an iterator refresh
      ++page_index_;
      continue;
    }
    if (replay_ && pos > replay_->last && !buffer_->Empty()) {
      cut_due_ = true;  // the recorded batch ends before this record
      continue;
    }
    ++page_index_;
    tally.Read(rec.data.size());
    if (auto t = ctx_.parts->transformer->Transform(rec); !t) {
      if (auto step = BadRecordAt(rec, pos, "transform", t.error(), page_now)) return *step;
      continue;
    }
    auto kept = ctx_.parts->filter->Keep(rec);
    if (!kept) {
      if (auto step = BadRecordAt(rec, pos, "filter", kept.error(), page_now)) return *step;
      continue;
    }
    const bool keep = *kept;
    if (!keep) tally.Filtered();
    buffer_->Add(std::move(rec), keep, page_now);
    ++records_buffered_;
    last_read_ = pos;
    cut_due_ = replay_ ? pos == replay_->last : buffer_->ShouldFlush(page_now);
  }

  // The whole page was handed on. The steps below may park and run again:
  // each is done only while its condition holds.
  if (replay_ && caught_up_ && !buffer_->Empty()) {
    // The recorded batch cannot be completed: its last records are gone.
    if (auto wait = Cut(abort)) return *wait;
  }
  if (caught_up_ && replay_) {
    replay_.reset();
    state_.pending.clear();
  }
  if (!replay_ && buffer_->ShouldFlush(ctx_.clock->Now())) {
    if (auto wait = Cut(abort)) return *wait;  // the age threshold, read afresh
  }
  if (ctx_.once && caught_up_ && !iterator_.empty()) {
    if (auto wait = Drain(abort)) return *wait;
    return Done(ShardOutcome::kCaughtUp);
  }
  if (caught_up_ && !iterator_.empty()) {
    // Idle at the tip: the batch in flight is waited for first (there is
    // nothing to read meanwhile, and an emit error ends the shard at once),
    // then the shard polls again after poll_interval, but wakes in time for
    // the age threshold. An empty page further back (Kinesis returns those
    // while skipping over gaps) is followed at once, paced only by the
    // spacing between calls.
    if (auto wait = WaitForEmit()) return *wait;
    DropPage();
    TakeRecycled();  // freed: an idle shard holds no batch's worth of strings
    const Clock::TimePoint now = ctx_.clock->Now();
    if (buffer_->Empty()) ctx_.shard_counters->CheckpointCurrent(now);  // nothing left to save
    auto wait = std::chrono::duration_cast<Clock::Duration>(ctx_.config->poll_interval);
    if (auto deadline = buffer_->Deadline()) {
      wait = std::clamp<Clock::Duration>(*deadline - now, Clock::Duration::zero(), wait);
    }
    return At(now + wait);
  }
  DropPage();
  return AtOnce();
}

}  // namespace kc::core
