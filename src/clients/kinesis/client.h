// A Kinesis Data Streams client for the JSON 1.1 protocol: the calls a
// consumer needs, and the few that tools and tests use to make streams.
//
// Thread-safety: safe for concurrent calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "clients/aws/aws_json_client.h"
#include "kc/record.h"

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

class KinesisClient {
 public:
  explicit KinesisClient(aws::AwsJsonClient client) : client_(std::move(client)) {}

  // Every shard of the stream, following NextToken pages.
  Result<std::vector<Shard>> ListShards(const std::string& stream, std::stop_token stop = {}) const;
  Result<StreamSummary> DescribeStreamSummary(const std::string& stream,
                                              std::stop_token stop = {}) const;
  Result<std::string> GetShardIterator(const std::string& stream, const std::string& shard_id,
                                       const IteratorSpec& spec, std::stop_token stop = {}) const;
  // One attempt: the reader handles expired iterators and throttling itself,
  // because both change what it does next. Records taken from the back of
  // `recycled`, when given, hold the page's records: their strings' storage
  // is reused instead of allocated afresh.
  Result<GetRecordsResult> GetRecordsOnce(const std::string& iterator, uint32_t limit,
                                          std::vector<Record>* recycled = nullptr) const;
  Result<PutRecordsResult> PutRecords(const std::string& stream,
                                      const std::vector<PutRecordsEntry>& entries,
                                      std::stop_token stop = {}) const;
  Status CreateStream(const std::string& stream, int shard_count, std::stop_token stop = {}) const;
  Status DeleteStream(const std::string& stream, std::stop_token stop = {}) const;

  const aws::AwsJsonClient& raw() const { return client_; }

 private:
  aws::AwsJsonClient client_;
};

// Response parsers, exposed for unit and fuzz tests. They never throw; a
// malformed response is a kParse error that says what was wrong.
Result<GetRecordsResult> ParseGetRecordsResponse(std::string_view body,
                                                 std::vector<Record>* recycled = nullptr);
Result<std::vector<Shard>> ParseListShardsResponse(std::string_view body, std::string* next_token);
Result<StreamSummary> ParseDescribeStreamSummaryResponse(std::string_view body);
Result<PutRecordsResult> ParsePutRecordsResponse(std::string_view body);

// The error of one record that a PutRecords answer refused, "<ErrorCode>:
// <ErrorMessage>", classified for the retry policy: a shard over its write
// limit is kThrottled; an internal failure, and codes this build does not
// know, kUnavailable (worth sending again); codes that say sending again
// cannot help (access denied, an unusable KMS key of an encrypted stream)
// are final. Every writer to Kinesis classifies refused records with this.
Error PutRecordsEntryError(const PutRecordsResultEntry& entry);

const char* IteratorTypeName(IteratorType type);

}  // namespace kc::kinesis
