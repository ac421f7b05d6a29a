// A DynamoDB client for the JSON 1.0 protocol: the calls the checkpoint store
// and the emitter need. Requests are built with util::JsonWriter, items in
// DynamoDB's typed JSON ({"S": "…"}, {"N": "…"}, …); answers come back as
// JSON text for the caller to read.
//
// Thread-safety: safe for concurrent calls.
#pragma once

#include <stop_token>
#include <string>

#include "aws/aws_context.h"
#include "aws/aws_json_client.h"
#include "core/retry.h"
#include "kc/clock.h"
#include "kc/status.h"

namespace kc::dynamodb {

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
  // request, unless a table of that name exists; then waits until it is
  // ACTIVE. A table that exists with another key is an error naming both.
  Status EnsureTable(const std::string& table, const std::string& hash_key,
                     std::stop_token stop = {}) const;
  Status DeleteTable(const std::string& table, std::stop_token stop = {}) const;

  // "DynamoDB at <endpoint>", for messages.
  std::string Describe() const { return "DynamoDB at " + client_.options().endpoint; }

 private:
  aws::AwsJsonClient client_;
  Clock* clock_;
};

// A client for the context's DynamoDB endpoint.
DynamoClient MakeDynamoClient(const aws::AwsContext& context, RetryPolicy retry = RetryPolicy());

}  // namespace kc::dynamodb
