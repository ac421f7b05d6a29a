// Records written by the Kinesis Producer Library in its aggregated format
// (magic F3 89 9A C2, a protobuf AggregatedRecord, the 16-byte MD5 of the
// protobuf) are split into the user records they carry, each with its own
// partition key and data, the aggregate's sequence number and arrival time,
// and its index in the aggregate as sub-sequence number. A record that only
// looks aggregated (the magic, but a wrong MD5, a protobuf that does not
// parse, a partition key index out of range or a key over 256 bytes) passes
// through unchanged, as the KCL does: it is the producer's data, and losing
// it is worse.
//
// Thread-safety: the functions may run concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/record.h"

namespace kc::kinesis {

inline constexpr char kKplMagic[] = "\xF3\x89\x9A\xC2";

// The longest partition key a user record may have: Kinesis's 256
// characters, counted here in bytes, which bounds what a key costs. An
// aggregate with a longer key is malformed.
inline constexpr size_t kMaxUserPartitionKeyBytes = 256;

enum class Aggregation {
  kPlain,      // no magic: an ordinary record
  kMalformed,  // the magic, but not a well-formed aggregate (`why` says what)
  kAggregate,  // user records were appended
};

// Appends the user records of `record` to `out` when it is an aggregate;
// otherwise leaves `out` as it was. `why` (optional) gets the reason for kMalformed.
Aggregation DeaggregateInto(const Record& record, std::vector<Record>& out,
                            std::string* why = nullptr);

struct DeaggregateCounts {
  uint64_t aggregates = 0;
  uint64_t user_records = 0;
  uint64_t malformed = 0;
  std::string first_malformed;  // "<sequence number>: <why>", for the log
};

// Replaces every aggregate in `records` by its user records, in place and
// in order. A page without aggregates is left untouched (one comparison of
// four bytes per record).
DeaggregateCounts Deaggregate(std::vector<Record>& records);

// Builds an aggregate of (partition key, data) pairs: for tests, benchmarks
// and the fuzz target's seeds.
std::string Aggregate(const std::vector<std::pair<std::string, std::string>>& user_records);

}  // namespace kc::kinesis
