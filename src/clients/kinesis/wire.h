// The Kinesis Data Streams JSON 1.1 protocol on the wire: the types of its
// requests and answers, the request bodies, and the parsers of the answers.
// Apart from the calls (client.h) so that they are tested and fuzzed on
// their own, with no transport.
//
// The parsers never throw; a malformed answer is a kParse error that says
// what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kc/record.h"
#include "kc/status.h"

namespace kc::kinesis {

struct Shard {
  std::string shard_id;
  std::string parent_shard_id;           // empty when none
  std::string adjacent_parent_shard_id;  // empty when none (set for merges)
  std::string starting_sequence_number;
  std::string ending_sequence_number;  // non-empty once the shard is closed
  std::string starting_hash_key;
  std::string ending_hash_key;
  bool closed() const { return !ending_sequence_number.empty(); }
};

struct StreamSummary {
  std::string stream_name;
  std::string stream_arn;
  std::string status;  // CREATING | ACTIVE | UPDATING | DELETING
  int open_shard_count = 0;
  int retention_hours = 24;
};

enum class IteratorType {
  kTrimHorizon,
  kLatest,
  kAtSequenceNumber,
  kAfterSequenceNumber,
  kAtTimestamp
};

struct IteratorSpec {
  IteratorType type = IteratorType::kTrimHorizon;
  std::string sequence_number;  // for kAt/kAfterSequenceNumber
  int64_t timestamp_ms = 0;     // for kAtTimestamp
};

struct GetRecordsResult {
  std::vector<Record> records;
  std::string next_shard_iterator;  // empty: the shard is closed and fully read
  int64_t millis_behind_latest = 0;
  uint64_t bytes = 0;  // sum of decoded data sizes
};

// A partition key has 1 to this many characters, counted as Kinesis counts
// them: UTF-16 code units (see PartitionKeyLength).
inline constexpr size_t kMaxPartitionKeyLength = 256;

// The length of `key`, UTF-8 text, in UTF-16 code units: a character beyond
// the Basic Multilingual Plane counts twice.
size_t PartitionKeyLength(std::string_view key);

struct PutRecordsEntry {
  std::string data;
  std::string partition_key;
  std::string explicit_hash_key;  // optional
};

struct PutRecordsResultEntry {
  std::string sequence_number;  // empty on failure
  std::string shard_id;
  std::string error_code;  // empty on success
  std::string error_message;
};

struct PutRecordsResult {
  int failed_record_count = 0;
  std::vector<PutRecordsResultEntry> records;  // one per entry, in order
};

// --- Request bodies.

// The first page of ListShards, or the page `next_token` names.
std::string ListShardsRequest(const std::string& stream, const std::string& next_token);
// {"StreamName": stream}: DescribeStreamSummary and DeleteStream.
std::string StreamRequest(const std::string& stream);
std::string CreateStreamRequest(const std::string& stream, int shard_count);
std::string GetShardIteratorRequest(const std::string& stream, const std::string& shard_id,
                                    const IteratorSpec& spec);
std::string GetRecordsRequest(const std::string& iterator, uint32_t limit);
std::string PutRecordsRequest(const std::string& stream,
                              const std::vector<PutRecordsEntry>& entries);

// --- Answers.

// A GetRecords page. `capacity`: how many bytes from body.data() may be
// read (a body without simdjson's padding after it is copied first);
// `limit`: the call's Limit if known, else 0; records taken from the back of
// `recycled`, when given, hold the page's records (their storage reused).
Result<GetRecordsResult> ParseGetRecordsPage(std::string_view body, size_t capacity, uint32_t limit,
                                             std::vector<Record>* recycled);
Result<GetRecordsResult> ParseGetRecordsResponse(std::string_view body,
                                                 std::vector<Record>* recycled = nullptr);
Result<std::vector<Shard>> ParseListShardsResponse(std::string_view body, std::string* next_token);
Result<StreamSummary> ParseDescribeStreamSummaryResponse(std::string_view body);
Result<PutRecordsResult> ParsePutRecordsResponse(std::string_view body);
// The iterator; empty when the answer holds none (a closed shard asked for
// a position past its end).
Result<std::string> ParseGetShardIteratorResponse(std::string_view body);

// The error of one record that a PutRecords answer refused, "<ErrorCode>:
// <ErrorMessage>", classified for the retry policy: a shard over its write
// limit is kThrottled; an internal failure, and codes this build does not
// know, kUnavailable (worth sending again); codes that say sending again
// cannot help (access denied, an unusable KMS key of an encrypted stream)
// are final. Every writer to Kinesis classifies refused records with this.
Error PutRecordsEntryError(const PutRecordsResultEntry& entry);

const char* IteratorTypeName(IteratorType type);

}  // namespace kc::kinesis
