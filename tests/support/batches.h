// Batches for emitter unit tests: records with 56-digit sequence numbers
// that sort in the order given, one arrival time, and the batch's range and
// byte count filled in as the pipeline fills them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/record.h"

namespace kc::testing {

// Record i of `data` gets sequence number ...(1000 + first_index + i).
inline Batch BatchOf(const std::string& shard, const std::vector<std::string>& data,
                     int first_index = 0, int64_t arrival_ms = 1795642616123) {
  Batch b;
  b.stream = "events";
  b.shard_id = shard;
  for (size_t i = 0; i < data.size(); ++i) {
    Record r;
    r.sequence_number = "4960000000000000000000000000000000000000000000000000" +
                        std::to_string(1000 + first_index + static_cast<int>(i));
    r.data = data[i];
    r.approximate_arrival_ms = arrival_ms;
    b.bytes += r.data.size();
    b.records.push_back(r);
  }
  b.first = b.records.front().position();
  b.last = b.records.back().position();
  b.first_arrival_ms = arrival_ms;
  return b;
}

}  // namespace kc::testing
