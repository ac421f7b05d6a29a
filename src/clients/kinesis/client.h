// A Kinesis Data Streams client for the JSON 1.1 protocol: the calls a
// consumer needs, and the few that tools and tests use to make streams. What
// goes over the wire (request bodies, answer parsers) is wire.h.
//
// Thread-safety: safe for concurrent calls.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "clients/aws/aws_json_client.h"
#include "clients/kinesis/wire.h"

namespace kc::kinesis {

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

}  // namespace kc::kinesis
