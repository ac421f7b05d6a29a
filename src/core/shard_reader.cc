#include "core/shard_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace kc::core {
namespace {

// Kinesis allows five GetRecords calls a second per shard.
constexpr std::chrono::milliseconds kMinCallInterval{200};

std::string Describe(const ShardPosition& p) {
  if (p.sub_sequence_number == 0) return p.sequence_number;
  return p.sequence_number + "/" + std::to_string(p.sub_sequence_number);
}

// Resuming from a position: with a sub-sequence number the aggregated record
// holding it must be read again (and its earlier user records skipped).
kinesis::IteratorSpec After(const ShardPosition& p) {
  kinesis::IteratorSpec spec;
  spec.type = p.sub_sequence_number > 0 ? kinesis::IteratorType::kAtSequenceNumber
                                        : kinesis::IteratorType::kAfterSequenceNumber;
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
    spdlog::warn(
        "[{}] shard {}: position {} is no longer in the stream ({}); it was trimmed past the "
        "retention period, so reading starts at TRIM_HORIZON and the records in between are lost",
        ctx_.config->name, shard_.shard_id, spec.sequence_number, it.error().message());
    spec = kinesis::IteratorSpec{};
    it = ctx_.client->GetShardIterator(ctx_.config->stream, shard_.shard_id, spec, abort);
  }
  if (!it) return Fail(it.error());
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
  auto s = ctx_.read_retry.Run("saving the checkpoint of shard " + shard_.shard_id, abort,
                               [&] { return ctx_.parts->checkpoints->Save(key_, state_); });
  if (!s) return Fail(s.error().With("saving the checkpoint of shard " + shard_.shard_id));
  return Ok();
}

Result<ShardCheckpoint> ShardReader::Load(std::stop_token stop) {
  // A store that is briefly unreachable (a restart, a failover) answers
  // kUnavailable or kConnection: wait and ask again, as saves do.
  const std::string what = "loading the checkpoint of shard " + shard_.shard_id + " from " +
                           ctx_.parts->checkpoints->Describe();
  auto loaded =
      ctx_.read_retry.Run(what, stop, [&] { return ctx_.parts->checkpoints->Load(key_); });
  if (loaded) return loaded;
  const Error& e = loaded.error();
  // The retry policy names the operation when it gave up or was stopped.
  if (e.retriable() || (e.code() == ErrorCode::kCancelled && stop.stop_requested())) {
    return Fail(e);
  }
  return Fail(e.With(what));
}

Status ShardReader::ConfirmClosed(std::stop_token abort) {
  if (shard_.closed()) return Ok();
  auto shards = ctx_.client->ListShards(ctx_.config->stream, abort);
  if (!shards) return Fail(shards.error());
  for (const auto& s : *shards) {
    if (s.shard_id == shard_.shard_id && s.closed()) {
      shard_ = s;
      return Ok();
    }
  }
  return Fail(ErrorCode::kParse, "Kinesis gave no next iterator for shard " + shard_.shard_id +
                                     ", which is still open; not treating it as finished");
}

Status ShardReader::FlushBatch(std::stop_token abort) {
  Batch batch = buffer_->Take();
  batch.stream = ctx_.config->stream;
  batch.shard_id = shard_.shard_id;
  const BatchRange range{batch.first, batch.last};
  if (state_.pending.empty() || state_.pending.front() != range) {
    if (!state_.pending.empty()) {
      spdlog::warn(
          "[{}] shard {}: the batch recorded as {}..{} could not be cut again (its records "
          "are gone); cutting {}..{} instead",
          ctx_.config->name, shard_.shard_id, Describe(state_.pending.front().first),
          Describe(state_.pending.front().last), Describe(range.first), Describe(range.last));
    }
    state_.pending.assign(1, range);
    if (auto s = Save(abort); !s) return s;
  }
  if (state_.position && range.last <= *state_.position) {
    return Fail(ErrorCode::kInternal,
                "checkpoint of shard " + shard_.shard_id + " would move backwards from " +
                    Describe(*state_.position) + " to " + Describe(range.last));
  }
  ShardCheckpoint after = state_;
  after.position = range.last;
  after.pending.erase(after.pending.begin());
  // An emitter that commits checkpoints stores the batch and `after` in one
  // transaction; otherwise the checkpoint is saved once the emit succeeded.
  const bool committed = !batch.records.empty() && ctx_.parts->emitter->CommitsCheckpoints();
  if (!batch.records.empty()) {
    auto s = committed ? ctx_.parts->emitter->EmitAndCheckpoint(batch, key_, after, abort)
                       : ctx_.parts->emitter->Emit(batch, abort);
    if (!s) {
      return Fail(s.error().With("emitting shard " + shard_.shard_id + " records " +
                                 Describe(range.first) + ".." + Describe(range.last)));
    }
    ctx_.counters->records_emitted += batch.records.size();
    ctx_.counters->bytes_emitted += batch.bytes;
    ctx_.counters->batches_emitted += 1;
  }
  state_ = std::move(after);
  if (committed) return Ok();
  return Save(abort);
}

Error ShardReader::StopAtBadRecord(const ShardPosition& pos, const Error& error,
                                   std::stop_token abort) {
  std::string delivered;
  if (buffer_->Empty()) {
    delivered = "the records before it were already emitted and checkpointed";
  } else if (state_.pending.empty()) {
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
  return ShardReader::Step{.outcome = std::move(outcome), .at = std::nullopt};
}
ShardReader::Step AtOnce() { return ShardReader::Step{}; }
ShardReader::Step At(Clock::TimePoint when) {
  return ShardReader::Step{.outcome = std::nullopt, .at = when};
}

}  // namespace

ShardReader::Step ShardReader::Next(std::stop_token stop, std::stop_token abort) {
  if (!started_) {
    started_ = true;
    return Start(stop, abort);
  }
  return Read(stop, abort);
}

ShardReader::Step ShardReader::Start(std::stop_token stop, std::stop_token abort) {
  auto loaded = Load(stop);
  if (!loaded) {
    // Stopped while waiting to load again: nothing was read, nothing is owed.
    if (loaded.error().code() == ErrorCode::kCancelled && stop.stop_requested()) {
      return Done(ShardOutcome::kStopped);
    }
    return Done(Fail(loaded.error()));
  }
  state_ = std::move(*loaded);
  if (state_.shard_end) return Done(ShardOutcome::kShardEnd);
  last_read_ = state_.position;
  ctx_.counters->shards_started += 1;

  auto iterator = InitialIterator(abort);
  if (!iterator) return Done(Fail(iterator.error().With("shard " + shard_.shard_id)));
  iterator_ = std::move(*iterator);
  return Read(stop, abort);
}

ShardReader::Step ShardReader::Read(std::stop_token stop, std::stop_token abort) {
  const std::string& name = ctx_.config->name;
  std::string& it = iterator_;
  if (stop.stop_requested()) {
    if (!state_.pending.empty()) {
      // Replaying a batch cut before a crash: emitting part of it would
      // name a different batch and duplicate its records when the rest is
      // cut later. Drop it; the checkpoint has not moved past it, so the
      // next run reads it again and cuts the recorded batch whole.
      if (!buffer_->Empty()) buffer_->Take();
      return Done(ShardOutcome::kStopped);
    }
    if (!buffer_->Empty()) {
      if (auto s = FlushBatch(abort); !s) return Done(Fail(s.error()));
    }
    return Done(ShardOutcome::kStopped);
  }
  if (it.empty()) {
    // A closed shard's last page has no next iterator: everything is read.
    if (auto s = ConfirmClosed(abort); !s) return Done(Fail(s.error()));
    if (!buffer_->Empty()) {
      if (auto s = FlushBatch(abort); !s) return Done(Fail(s.error()));
    }
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

  auto page = ctx_.client->GetRecordsOnce(it, ctx_.config->records_per_call);
  const Clock::TimePoint answered = ctx_.clock->Now();
  last_answer_ = answered;
  if (!page) {
    const Error& e = page.error();
    if (e.code() == ErrorCode::kCancelled) return AtOnce();
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
      it = std::move(*fresh);
      return AtOnce();
    }
    return Done(Fail(e.With("shard " + shard_.shard_id)));
  }
  failed_calls_ = 0;

  for (Record& rec : page->records) {
    // A stop ends reading here: the rest of the page lies after the last
    // record handed on, so the next run reads it again.
    if (stop.stop_requested()) break;
    ShardPosition pos = rec.position();
    if (last_read_ && pos <= *last_read_) continue;  // handed on before an iterator refresh
    if (!state_.pending.empty() && pos > state_.pending.front().last && !buffer_->Empty()) {
      if (auto s = FlushBatch(abort); !s) return Done(Fail(s.error()));
    }
    ctx_.counters->records_read += 1;
    if (auto t = ctx_.parts->transformer->Transform(rec); !t) {
      return Done(Fail(StopAtBadRecord(pos, t.error(), abort)));
    }
    auto kept = ctx_.parts->filter->Keep(rec);
    if (!kept) return Done(Fail(StopAtBadRecord(pos, kept.error(), abort)));
    const bool keep = *kept;
    if (!keep) ctx_.counters->records_filtered += 1;
    buffer_->Add(std::move(rec), keep, ctx_.clock->Now());
    last_read_ = pos;
    bool cut = state_.pending.empty() ? buffer_->ShouldFlush(ctx_.clock->Now())
                                      : pos == state_.pending.front().last;
    if (cut) {
      if (auto s = FlushBatch(abort); !s) return Done(Fail(s.error()));
    }
  }
  if (stop.stop_requested()) return AtOnce();  // emit what was read, then end
  it = std::move(page->next_shard_iterator);
  const bool caught_up = page->records.empty() && page->millis_behind_latest == 0;

  if (!state_.pending.empty() && caught_up && !buffer_->Empty()) {
    // The recorded batch cannot be completed: its last records are gone.
    if (auto s = FlushBatch(abort); !s) return Done(Fail(s.error()));
  }
  if (caught_up) state_.pending.clear();
  if (state_.pending.empty() && buffer_->ShouldFlush(ctx_.clock->Now())) {
    if (auto s = FlushBatch(abort); !s) return Done(Fail(s.error()));  // the age threshold
  }
  if (ctx_.once && caught_up && !it.empty()) {
    if (!buffer_->Empty()) {
      if (auto s = FlushBatch(abort); !s) return Done(Fail(s.error()));
    }
    return Done(ShardOutcome::kCaughtUp);
  }
  if (caught_up && !it.empty()) {
    // Idle at the tip: poll again after poll_interval, but wake in time for
    // the age threshold. An empty page further back (Kinesis returns those
    // while skipping over gaps) is followed at once, paced only by the
    // spacing between calls.
    const Clock::TimePoint now = ctx_.clock->Now();
    auto wait = std::chrono::duration_cast<Clock::Duration>(ctx_.config->poll_interval);
    if (auto deadline = buffer_->Deadline()) {
      wait = std::clamp<Clock::Duration>(*deadline - now, Clock::Duration::zero(), wait);
    }
    return At(now + wait);
  }
  return AtOnce();
}

}  // namespace kc::core
