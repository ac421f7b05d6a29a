// A DynamoDB client for the dynalite stand-in (KC_DYNAMODB_ENDPOINT), signed
// with the stand-ins' secret, making one attempt per call.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "clients/dynamodb/client.h"

namespace kc::testing {

inline std::shared_ptr<aws::HttpTransport> SharedCurlTransport() {
  static std::shared_ptr<aws::HttpTransport> t = aws::MakeCurlTransport(aws::HttpOptions{});
  return t;
}

inline dynamodb::DynamoClient DynaliteClient(
    const std::string& endpoint,
    std::shared_ptr<aws::HttpTransport> transport = SharedCurlTransport(),
    std::string secret = {}) {
  if (secret.empty()) {
    const char* s = std::getenv("KC_STANDIN_SECRET");
    secret = s != nullptr ? s : "kc-test-secret";
  }
  aws::AwsJsonClientOptions options;
  options.endpoint = endpoint;
  options.region = "us-east-1";
  options.service = "dynamodb";
  options.target_prefix = "DynamoDB_20120810";
  options.content_type = "application/x-amz-json-1.0";
  return dynamodb::DynamoClient(aws::AwsJsonClient(
      std::move(options), std::move(transport),
      std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"kc-test", secret, ""}),
      RetryPolicy(RetryOptions{.max_attempts = 1})));
}

}  // namespace kc::testing
