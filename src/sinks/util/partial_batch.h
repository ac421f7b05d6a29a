// The one way emitters write to sinks whose batch calls may accept part of a
// request: Kinesis PutRecords (failed entries) and DynamoDB BatchWriteItem
// (UnprocessedItems). Items are sent in requests of at most `max_items`
// items and `max_bytes` bytes; what a request did not accept is sent again,
// and only that, after a backoff of the shared retry policy, until every
// item is in, the retry budget is spent by rounds that got nothing in (a
// round that got some items in starts the count again), or `stop` is
// requested.
//
// Items are named by their index in the caller's array and are sent in
// index order. A sink that refuses items one by one may accept a later item
// while an earlier one waits for its retry; with `order_key`, a request holds
// at most one item per key and an item is sent only once every earlier item
// with its key was accepted, so items with the same key land in order.
//
// Thread-safety: a PartialBatchWriter is immutable; Write may be called
// concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/retry.h"
#include "kc/clock.h"
#include "kc/status.h"

namespace kc::emitter {

struct PartialBatchLimits {
  size_t max_items = 500;
  uint64_t max_bytes = 5'000'000;
};

// What a request left undone: the positions (in the span the request was
// given) of the items to send again, and the error that refused them (for
// the retry log and the final error; kThrottled when empty and retriable).
struct Refused {
  std::vector<size_t> positions;
  Error error{ErrorCode::kThrottled, "some items were not accepted"};
};

class PartialBatchWriter {
 public:
  // `send` writes the items at the given indices, in that order, in one
  // request. It returns what the sink refused (empty when it took them all),
  // or an error for the whole request: a retriable one sends the request's
  // items again, any other ends Write with it.
  using Send = std::function<Result<Refused>(std::span<const size_t> indices)>;

  PartialBatchWriter(PartialBatchLimits limits, RetryPolicy retry, Clock* clock = &Clock::Real())
      : limits_(limits), retry_(retry), clock_(clock) {}

  // Writes items 0..count-1. `size_of(i)` is the bytes item i counts for
  // against max_bytes (an item above it is sent alone; reject those first);
  // `order_key(i)`, when given, the key whose items must land in order.
  // `what` ("writing 1,200 items to table t") goes into logs and errors.
  Status Write(std::string_view what, size_t count, const std::function<uint64_t(size_t)>& size_of,
               const Send& send, std::stop_token stop,
               const std::function<std::string_view(size_t)>& order_key = {}) const;

 private:
  PartialBatchLimits limits_;
  RetryPolicy retry_;
  Clock* clock_;
};

}  // namespace kc::emitter
