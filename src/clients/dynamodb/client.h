// A DynamoDB client for the JSON 1.0 protocol: the calls the checkpoint store
// and the emitter need. Requests are built with util::JsonWriter, items in
// DynamoDB's typed JSON ({"S": "…"}, {"N": "…"}, …); answers come back as
// JSON text for the caller to read.
//
// Thread-safety: safe for concurrent calls.
#pragma once

#include <map>
#include <stop_token>
#include <string>

#include "base/retry.h"
#include "clients/aws/aws_context.h"
#include "clients/aws/aws_json_client.h"
#include "kc/clock.h"
#include "kc/status.h"

namespace kc::dynamodb {

// What DescribeTable tells about a table.
struct TableDescription {
  std::string status;  // CREATING | ACTIVE | UPDATING | DELETING | ...
  std::string hash_key;
  std::string range_key;                               // empty: none
  std::map<std::string, std::string> attribute_types;  // key attributes: "S" | "N" | "B"
};

// Reads a DescribeTable answer (exposed for tests).
Result<TableDescription> ParseDescribeTable(std::string_view body, const std::string& table);

class DynamoClient {
 public:
  explicit DynamoClient(aws::AwsJsonClient client, Clock* clock = &Clock::Real())
      : client_(std::move(client)), clock_(clock) {}

  // `operation` (e.g. "GetItem") with a JSON request body, retried by the
  // policy; the answer's JSON. A failed condition is ErrorCode::kConflict.
  Result<std::string> Call(const std::string& operation, const std::string& body,
                           std::stop_token stop = {}) const {
    return client_.Call(operation, body, stop);
  }

  // Creates `table` with one string hash key named `hash_key`, billed per
  // request, unless a table of that name exists; then waits until it is no
  // longer CREATING. A table that exists with another key is an error naming both.
  Status EnsureTable(const std::string& table, const std::string& hash_key,
                     std::stop_token stop = {}) const;
  Status DeleteTable(const std::string& table, std::stop_token stop = {}) const;
  // kNotFound when there is no such table.
  Result<TableDescription> DescribeTable(const std::string& table, std::stop_token stop = {}) const;
  // The same, once the table is no longer CREATING (it refuses reads and
  // writes until then); waits up to 5 minutes.
  Result<TableDescription> DescribeActive(const std::string& table,
                                          std::stop_token stop = {}) const;

  // "DynamoDB at <endpoint>", for messages.
  std::string Describe() const { return "DynamoDB at " + client_.options().endpoint; }

 private:
  aws::AwsJsonClient client_;
  Clock* clock_;
};

// A client for the context's DynamoDB endpoint.
DynamoClient MakeDynamoClient(const aws::AwsContext& context, RetryPolicy retry = RetryPolicy());

}  // namespace kc::dynamodb
