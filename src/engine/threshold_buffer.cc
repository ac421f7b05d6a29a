#include "kc/buffer.h"

#include <algorithm>
#include <utility>

namespace kc {

void ThresholdBuffer::Add(Record record, bool keep, Clock::TimePoint now) {
  if (!started_) {
    started_ = now;
    batch_.first = record.position();
    batch_.first_arrival_ms = record.approximate_arrival_ms;
    // Batches of a steady stream are alike: room for as many records as
    // the last one saves growing the vector record by record.
    batch_.records.reserve(std::min<uint64_t>(last_count_, config_.max_records));
  }
  batch_.last.sequence_number.assign(record.sequence_number);
  batch_.last.sub_sequence_number = record.sub_sequence_number;
  if (keep) {
    batch_.bytes += record.data.size();
    held_ += HeldBytes(record);
    batch_.records.push_back(std::move(record));
  }
}

bool ThresholdBuffer::ShouldFlush(Clock::TimePoint now) const {
  if (!started_) return false;
  return batch_.records.size() >= config_.max_records || held_ >= config_.max_bytes ||
         now - *started_ >= config_.max_age;
}

std::optional<Clock::TimePoint> ThresholdBuffer::Deadline() const {
  if (!started_) return std::nullopt;
  return *started_ + config_.max_age;
}

Batch ThresholdBuffer::Take() {
  Batch out = std::move(batch_);
  batch_ = Batch{};
  last_count_ = out.records.size();
  held_ = 0;
  started_.reset();
  return out;
}

}  // namespace kc
