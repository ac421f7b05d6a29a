#include "kc/buffer.h"

#include <utility>

namespace kc {

void ThresholdBuffer::Add(Record record, bool keep, Clock::TimePoint now) {
  if (!started_) {
    started_ = now;
    batch_.first = record.position();
    batch_.first_arrival_ms = record.approximate_arrival_ms;
  }
  batch_.last = record.position();
  if (keep) {
    batch_.bytes += record.data.size();
    batch_.records.push_back(std::move(record));
  }
}

bool ThresholdBuffer::ShouldFlush(Clock::TimePoint now) const {
  if (!started_) return false;
  return batch_.records.size() >= config_.max_records || batch_.bytes >= config_.max_bytes ||
         now - *started_ >= config_.max_age;
}

std::optional<Clock::TimePoint> ThresholdBuffer::Deadline() const {
  if (!started_) return std::nullopt;
  return *started_ + config_.max_age;
}

Batch ThresholdBuffer::Take() {
  Batch out = std::move(batch_);
  batch_ = Batch{};
  started_.reset();
  return out;
}

}  // namespace kc
