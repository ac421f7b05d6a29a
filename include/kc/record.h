// A record read from a Kinesis shard, as it travels through a pipeline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/sequence_number.h"

namespace kc {

struct Record {
  std::string data;  // the payload bytes; binary-safe
  std::string partition_key;
  std::string sequence_number;
  uint64_t sub_sequence_number = 0;    // non-zero only for de-aggregated KPL records
  int64_t approximate_arrival_ms = 0;  // ApproximateArrivalTimestamp, ms since the epoch

  ShardPosition position() const { return {sequence_number, sub_sequence_number}; }
};

// The memory a record holds: its three strings and the Record itself. The
// buffer's byte threshold and the cap on what a page of KPL aggregates may
// expand to count this, so that records with long keys and little data
// cannot hold more than the configuration says.
inline uint64_t HeldBytes(const Record& r) {
  return sizeof(Record) + r.data.size() + r.partition_key.size() + r.sequence_number.size();
}

// A batch cut by a Buffer, handed to an Emitter. Records are in shard order.
// `first` and `last` are the positions of the first and last record *read*
// into the batch, which may differ from records.front()/back() when a filter
// dropped records at either end; they name the batch and bound the checkpoint.
struct Batch {
  std::string stream;
  std::string shard_id;
  ShardPosition first;
  ShardPosition last;
  int64_t first_arrival_ms = 0;  // arrival time of the first record read into the batch
  std::vector<Record> records;
  uint64_t bytes = 0;  // sum of records[i].data.size()
};

}  // namespace kc
