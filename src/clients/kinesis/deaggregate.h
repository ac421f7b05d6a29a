// Records written by the Kinesis Producer Library in its aggregated format
// (magic F3 89 9A C2, a protobuf AggregatedRecord, the 16-byte MD5 of the
// protobuf) are split into the user records they carry, each with its own
// partition key and data, the aggregate's sequence number and arrival time,
// and its index in the aggregate as sub-sequence number. A record that only
// looks aggregated (the magic, but a wrong MD5, a protobuf that does not
// parse, a partition key index out of range, a key over 256 bytes, or user
// records that would hold more than a page may expand to) passes through
// unchanged, as the KCL does: it is the producer's data, and losing it is
// worse.
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

// What the user records expanded from one page may hold at once (HeldBytes).
// A page whose aggregates expand to more is expanded in parts; one
// aggregate whose user records alone would hold more is malformed. A
// 1 MiB aggregate of empty records with keys of 15 bytes holds about
// 32 MiB: twice that is no legitimate aggregate.
inline constexpr uint64_t kMaxExpandedBytes = 64ull << 20;

enum class Aggregation {
  kPlain,      // no magic: an ordinary record
  kMalformed,  // the magic, but not a well-formed aggregate (`why` says what)
  kAggregate,  // user records were appended
  kOverLimit,  // an aggregate whose user records would hold more than `limit`
};

// Appends the user records of `record` to `out` when it is an aggregate
// whose user records hold at most `limit` bytes (HeldBytes); otherwise
// leaves `out` as it was. `why` (optional) gets the reason for kMalformed.
Aggregation DeaggregateInto(const Record& record, std::vector<Record>& out,
                            std::string* why = nullptr, uint64_t limit = kMaxExpandedBytes);

struct DeaggregateCounts {
  uint64_t aggregates = 0;
  uint64_t user_records = 0;
  uint64_t malformed = 0;
  std::string first_malformed;  // "<sequence number>: <why>", for the log
};

// True when some record of `records` starts with the aggregate magic (one
// comparison of four bytes per record).
bool HasAggregates(const std::vector<Record>& records);

// Moves records from `page`, starting at `next`, into `out` (cleared
// first), each aggregate replaced by its user records, and advances `next`
// past the records taken. It stops once `out` holds `limit` bytes, or before
// an aggregate whose user records do not fit in what is left; the first
// record is always taken, so a page ends after some calls, and an aggregate
// that alone would hold more than `limit` is malformed.
DeaggregateCounts DeaggregatePart(std::vector<Record>& page, size_t& next, std::vector<Record>& out,
                                  uint64_t limit = kMaxExpandedBytes);

// Replaces every aggregate in `records` by its user records, in place and
// in order, with no limit on what the page expands to. A page without
// aggregates is left untouched.
DeaggregateCounts Deaggregate(std::vector<Record>& records);

// Builds an aggregate of (partition key, data) pairs: for tests, benchmarks
// and the fuzz target's seeds.
std::string Aggregate(const std::vector<std::pair<std::string, std::string>>& user_records);

}  // namespace kc::kinesis
