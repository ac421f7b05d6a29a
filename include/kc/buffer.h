// Buffer: collects a shard's records until a threshold says "flush".
//
// The pipeline adds every record it reads, kept or dropped by the filter, so
// the batch's range covers dropped records too and the checkpoint can move
// past them. Only kept records are stored and counted by the thresholds.
//
// Thread-safety: one buffer belongs to one shard reader; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "kc/clock.h"
#include "kc/record.h"

namespace kc {

// Defaults: a batch is cut by size (4 MiB) or age (30 s), as Firehose cuts
// by size and time. The size is the memory the batch holds (HeldBytes: data,
// partition key, sequence number and the Record itself, some 170 bytes
// beyond data and key), so records that are mostly key or bookkeeping count
// for what they cost; batches of records of 1 KB and more hold close to
// max_bytes of data. Each batch costs a file or object and two durable
// checkpoint writes; the record count bounds how many records a batch of
// tiny records holds when max_bytes is raised. A busy shard holds up to two
// batches: the one being written and the next.
struct BufferConfig {
  uint64_t max_records = 50'000;
  uint64_t max_bytes = 4ull << 20;
  std::chrono::milliseconds max_age{30'000};
};

class Buffer {
 public:
  virtual ~Buffer() = default;

  // `now` is the reader's clock when the record was read; age counts from the
  // first record added after a Take.
  virtual void Add(Record record, bool keep, Clock::TimePoint now) = 0;
  // True when a threshold is reached: record count, byte count or age.
  virtual bool ShouldFlush(Clock::TimePoint now) const = 0;
  // When the age threshold fires; nullopt while empty.
  virtual std::optional<Clock::TimePoint> Deadline() const = 0;
  // Nothing was added since the last Take.
  virtual bool Empty() const = 0;
  // The memory the batch holds so far, as the byte threshold counts it.
  virtual uint64_t Bytes() const = 0;
  // The batch so far (stream and shard left for the caller). REQUIRES: !Empty()
  virtual Batch Take() = 0;
};

// Flushes at whichever of max_records, max_bytes and max_age comes first.
class ThresholdBuffer final : public Buffer {
 public:
  explicit ThresholdBuffer(const BufferConfig& config) : config_(config) {}

  void Add(Record record, bool keep, Clock::TimePoint now) override;
  bool ShouldFlush(Clock::TimePoint now) const override;
  std::optional<Clock::TimePoint> Deadline() const override;
  bool Empty() const override { return !started_.has_value(); }
  uint64_t Bytes() const override { return held_; }
  Batch Take() override;

 private:
  BufferConfig config_;
  Batch batch_;
  std::optional<Clock::TimePoint> started_;
  uint64_t held_ = 0;      // HeldBytes of the kept records
  size_t last_count_ = 0;  // records in the last batch taken: the next one's likely size
};

}  // namespace kc
