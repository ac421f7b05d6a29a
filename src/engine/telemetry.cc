#include "engine/telemetry.h"

#include <algorithm>
#include <chrono>

namespace kc::core {

void ShardCounters::CountError(ErrorCode code) {
  if (code == ErrorCode::kThrottled) get_records_throttled.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  ++errors_[ErrorCodeName(code)];
}

void ShardCounters::CountDeadLetter(const std::string& stage, const std::string& code, uint64_t n) {
  std::lock_guard lock(mu_);
  dead_lettered_[{stage, code}] += n;
}

ShardTelemetry ShardCounters::Snapshot(Clock::TimePoint now) const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  ShardTelemetry t;
  t.shard_id = shard_id;
  // Before `reading` (see PipelineImpl::RunStep), both in the one order of
  // sequentially consistent operations.
  const int64_t at = checkpoint_current_at.load();
  t.reading = reading.load();
  t.finished = finished.load(kRelaxed);
  t.records_read = records_read.load(kRelaxed);
  t.bytes_read = bytes_read.load(kRelaxed);
  t.records_filtered = records_filtered.load(kRelaxed);
  t.records_emitted = records_emitted.load(kRelaxed);
  t.bytes_emitted = bytes_emitted.load(kRelaxed);
  t.batches_emitted = batches_emitted.load(kRelaxed);
  t.get_records_calls = get_records_calls.load(kRelaxed);
  t.get_records_throttled = get_records_throttled.load(kRelaxed);
  if (const int64_t behind = millis_behind_latest.load(kRelaxed); behind >= 0) {
    t.millis_behind_latest = behind;
  }
  if (t.reading && at != 0) {
    const Clock::Duration since = now.time_since_epoch() - Clock::Duration(at);
    t.seconds_since_checkpoint = std::max(0.0, std::chrono::duration<double>(since).count());
  }
  t.records_buffered = records_buffered.load(kRelaxed);
  t.bytes_buffered = bytes_buffered.load(kRelaxed);
  std::lock_guard lock(mu_);
  t.get_records_errors = errors_;
  t.dead_lettered = dead_lettered_;
  return t;
}

ShardTally::~ShardTally() {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  if (records_read_ != 0) {
    counters_->records_read.fetch_add(records_read_, kRelaxed);
    counters_->bytes_read.fetch_add(bytes_read_, kRelaxed);
  }
  if (records_filtered_ != 0) counters_->records_filtered.fetch_add(records_filtered_, kRelaxed);
  counters_->records_buffered.store(*records_buffered_, kRelaxed);
  counters_->bytes_buffered.store(buffer_->Bytes(), kRelaxed);
}

void DurationBuckets::Observe(Clock::Duration d) {
  const double seconds = std::chrono::duration<double>(d).count();
  const auto* bucket = std::lower_bound(kUpperBounds.begin(), kUpperBounds.end(), seconds);
  counts_[static_cast<size_t>(bucket - kUpperBounds.begin())].fetch_add(1,
                                                                        std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, d.count())),
                       std::memory_order_relaxed);
}

DurationHistogram DurationBuckets::Snapshot() const {
  DurationHistogram h;
  h.upper_bounds.assign(kUpperBounds.begin(), kUpperBounds.end());
  uint64_t running = 0;
  for (const auto& c : counts_) {
    running += c.load(std::memory_order_relaxed);
    h.counts.push_back(running);
  }
  h.sum_seconds = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return h;
}

}  // namespace kc::core
