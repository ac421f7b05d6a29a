#include "clients/aws/aws_json_client.h"

#include <simdjson.h>

#include "clients/aws/errors.h"
#include "clients/aws/sigv4.h"

namespace kc::aws {
Error ClassifyAwsError(long http_status, std::string_view body, const std::string& operation) {
  std::string type;
  std::string message;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!body.empty() && parser.parse(body.data(), body.size()).get(doc) == simdjson::SUCCESS &&
      doc.is_object()) {
    std::string_view v;
    if (doc["__type"].get(v) == simdjson::SUCCESS) type = std::string(v);
    if (doc["message"].get(v) == simdjson::SUCCESS || doc["Message"].get(v) == simdjson::SUCCESS) {
      message = std::string(v);
    }
  }
  // "com.amazonaws.kinesis.v20131202#ExpiredIteratorException" → the name after '#'.
  if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  std::string text =
      operation + ": " + (type.empty() ? "HTTP " + std::to_string(http_status) : type);
  if (!message.empty()) text += ": " + message;

  if (IsOneOf(type, {"ProvisionedThroughputExceededException", "LimitExceededException",
                     "ThrottlingException", "Throttling", "RequestLimitExceeded",
                     "KMSThrottlingException", "TooManyRequestsException"})) {
    return Error(ErrorCode::kThrottled, text);
  }
  if (type == "ExpiredIteratorException") return Error(ErrorCode::kExpiredIterator, text);
  if (type == "ResourceNotFoundException") return Error(ErrorCode::kNotFound, text);
  if (type == "ConditionalCheckFailedException") return Error(ErrorCode::kConflict, text);
  if (IsOneOf(type, {"InternalFailure", "InternalFailureException", "ServiceUnavailable",
                     "ServiceUnavailableException", "InternalServerError"})) {
    return Error(ErrorCode::kUnavailable, text);
  }
  if (IsOneOf(type,
              {"UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
               "MissingAuthenticationToken", "AccessDeniedException", "ExpiredTokenException",
               "InvalidClientTokenId", "SignatureDoesNotMatch", "KMSAccessDeniedException"})) {
    return Error(ErrorCode::kAuth, text + std::string(kCredentialsHint));
  }
  // Unknown or missing names: a 5xx is still worth retrying.
  return ClassifyByStatus(http_status, std::move(text));
}

namespace {

// The JSON protocol signs the body's hash and the path encoded twice (the
// SigV4 defaults); the hash is not sent as a header.
SigningOptions JsonSigning(const AwsJsonClientOptions& options) {
  SigningOptions signing;
  signing.region = options.region;
  signing.service = options.service;
  return signing;
}

}  // namespace

AwsJsonClient::AwsJsonClient(AwsJsonClientOptions options, std::shared_ptr<HttpTransport> transport,
                             std::shared_ptr<CredentialsProvider> credentials, RetryPolicy retry,
                             Clock* clock)
    : options_(std::move(options)),
      sender_(JsonSigning(options_), ClassifyAwsError, std::move(transport), std::move(credentials),
              clock),
      retry_(retry) {}

Result<std::string> AwsJsonClient::CallOnce(const std::string& operation, const std::string& body,
                                            std::string* response_storage,
                                            uint64_t max_response_bytes) const {
  HttpRequest request;
  request.response_storage = response_storage;
  request.max_response_bytes = max_response_bytes;
  request.method = "POST";
  request.url = options_.endpoint;
  if (!request.url.ends_with('/')) request.url += "/";
  request.body = body;
  request.SetHeader("Content-Type", options_.content_type);
  request.SetHeader("X-Amz-Target", options_.target_prefix + "." + operation);
  auto response = sender_.Send(operation, request);
  if (!response) return Fail(response.error());
  return std::move(response->body);
}

Result<std::string> AwsJsonClient::Call(const std::string& operation, const std::string& body,
                                        std::stop_token stop) const {
  return retry_.Run(operation, stop, [&] { return CallOnce(operation, body); });
}

}  // namespace kc::aws
