// The engine's counters behind Pipeline::stats() and telemetry().
//
// Each shard has its own counters, written by its reader (one step at a
// time) and its emits, so that shards on different threads never write the
// same cache line; the pipeline's totals are their sums. A reader adds up a
// page's counts locally and publishes them once per page (ShardTally), so a
// record costs no atomic operation. Rare events (errors, dead letters) go
// through a mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "kc/buffer.h"
#include "kc/clock.h"
#include "kc/pipeline.h"
#include "kc/status.h"

namespace kc::core {

struct ShardCounters {
  explicit ShardCounters(std::string id) : shard_id(std::move(id)) {}

  const std::string shard_id;
  std::atomic<bool> reading{false};
  std::atomic<bool> finished{false};
  std::atomic<uint64_t> records_read{0};
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> records_filtered{0};
  std::atomic<uint64_t> records_emitted{0};
  std::atomic<uint64_t> bytes_emitted{0};
  std::atomic<uint64_t> batches_emitted{0};
  std::atomic<uint64_t> get_records_calls{0};
  std::atomic<uint64_t> get_records_throttled{0};
  std::atomic<int64_t> millis_behind_latest{-1};  // -1: no answer yet
  // Clock::Now() in nanoseconds since its epoch; 0: not being read.
  std::atomic<int64_t> checkpoint_current_at{0};
  std::atomic<uint64_t> records_buffered{0};
  std::atomic<uint64_t> bytes_buffered{0};

  void CountError(ErrorCode code);
  void CountDeadLetter(const std::string& stage, const std::string& code, uint64_t n);
  // Now is a moment the stored checkpoint covers all that was read.
  void CheckpointCurrent(Clock::TimePoint now) {
    checkpoint_current_at.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  }

  ShardTelemetry Snapshot(Clock::TimePoint now) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> errors_;                                 // guarded by mu_
  std::map<std::pair<std::string, std::string>, uint64_t> dead_lettered_;  // guarded by mu_
};

// A reader's counts for one page, published to its ShardCounters with what
// its buffer holds when it goes out of scope.
class ShardTally {
 public:
  // `buffer` and `records_buffered` (the records in it) are read at the end.
  ShardTally(ShardCounters* counters, const Buffer* buffer, const uint64_t* records_buffered)
      : counters_(counters), buffer_(buffer), records_buffered_(records_buffered) {}
  ShardTally(const ShardTally&) = delete;
  ShardTally& operator=(const ShardTally&) = delete;
  ~ShardTally();

  void Read(uint64_t bytes) {
    ++records_read_;
    bytes_read_ += bytes;
  }
  void Filtered() { ++records_filtered_; }

 private:
  ShardCounters* counters_;
  const Buffer* buffer_;
  const uint64_t* records_buffered_;
  uint64_t records_read_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t records_filtered_ = 0;
};

// Durations in fixed buckets, from a millisecond to a minute.
class DurationBuckets {
 public:
  static constexpr std::array<double, 14> kUpperBounds{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                       0.5,   1,     2.5,  5,     10,   30,  60};
  void Observe(Clock::Duration d);
  DurationHistogram Snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kUpperBounds.size() + 1> counts_{};  // not cumulative
  std::atomic<uint64_t> sum_nanos_{0};
};

}  // namespace kc::core
