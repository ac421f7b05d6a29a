// One signed call to an AWS service speaking the JSON protocol (Kinesis's
// 1.1, DynamoDB's 1.0): POST / with X-Amz-Target, SigV4, error
// classification from the `__type` field, and the shared retry policy.
//
// Thread-safety: safe for concurrent calls.
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

#include "base/retry.h"
#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "clients/aws/signed_request.h"
#include "kc/clock.h"
#include "kc/status.h"

namespace kc::aws {

struct AwsJsonClientOptions {
  std::string endpoint;  // URL
  std::string region;
  std::string service;        // signing name, e.g. "kinesis"
  std::string target_prefix;  // e.g. "Kinesis_20131202"
  std::string content_type = "application/x-amz-json-1.1";
};

class AwsJsonClient {
 public:
  AwsJsonClient(AwsJsonClientOptions options, std::shared_ptr<HttpTransport> transport,
                std::shared_ptr<CredentialsProvider> credentials, RetryPolicy retry,
                Clock* clock = &Clock::Real());

  // Calls `operation` with the JSON `body`, retrying what the policy retries.
  // Returns the response body of a 2xx answer.
  Result<std::string> Call(const std::string& operation, const std::string& body,
                           std::stop_token stop = {}) const;
  // One attempt, no retry: for callers that must react to specific errors
  // between attempts (e.g. an expired iterator).
  // `response_storage` and `max_response_bytes`: see HttpRequest.
  Result<std::string> CallOnce(const std::string& operation, const std::string& body,
                               std::string* response_storage = nullptr,
                               uint64_t max_response_bytes = 0) const;

  const AwsJsonClientOptions& options() const { return options_; }

 private:
  AwsJsonClientOptions options_;
  SignedSender sender_;
  RetryPolicy retry_;
};

// Maps an AWS error answer (HTTP status and `__type`) to an Error whose code
// the retry policy understands. Exposed for tests.
Error ClassifyAwsError(long http_status, std::string_view body, const std::string& operation);

}  // namespace kc::aws
