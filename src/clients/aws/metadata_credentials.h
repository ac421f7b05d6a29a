// Credentials from the machine the process runs on:
//
// - ContainerCredentialsProvider: the endpoint ECS and EKS Pod Identity give
//   a container. AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is a path on
//   http://169.254.170.2 (ECS); AWS_CONTAINER_CREDENTIALS_FULL_URI a whole
//   URL, which must be https or one of the addresses that never leave the
//   machine or the task: a loopback address, 169.254.170.2, 169.254.170.23
//   or fd00:ec2::23 (EKS Pod Identity). The Authorization header comes from
//   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, read at every call (the agent
//   rotates it), else AWS_CONTAINER_AUTHORIZATION_TOKEN.
// - InstanceMetadataProvider: EC2's instance metadata service, IMDSv2 only
//   (a session token from PUT /latest/api/token, then the instance
//   profile's role and its credentials). AWS_EC2_METADATA_DISABLED=true
//   turns it off; AWS_EC2_METADATA_SERVICE_ENDPOINT (or
//   AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6) moves it. IMDSv1, without a
//   token, is not used: it is what server-side request forgery reads, and
//   accounts switch it off.
//
// Both are given a transport with short timeouts (MetadataHttpOptions): on
// a machine outside EC2 the instance metadata address does not answer, and
// the chain must fall through in about a second. A provider whose variables
// are unset, or an instance metadata service that does not answer, is
// kNotFound; an endpoint that answers wrongly is an error naming it.
//
// Answers are untrusted: capped at kMaxMetadataAnswerBytes, every field
// checked, never quoted in errors.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "kc/clock.h"

namespace kc::aws {

inline constexpr uint64_t kMaxMetadataAnswerBytes = 64 * 1024;

// For link-local services: a connection within 1 s, an answer within 2 s,
// and never through a proxy.
HttpOptions MetadataHttpOptions(const HttpOptions& base);

class ContainerCredentialsProvider final : public CredentialsProvider {
 public:
  ContainerCredentialsProvider(GetEnvFn getenv, std::shared_ptr<HttpTransport> transport,
                               Clock* clock = &Clock::Real());
  Result<Credentials> Get() override;
  std::string Describe() const override;

 private:
  const GetEnvFn getenv_;
  const std::shared_ptr<HttpTransport> transport_;
  Clock* const clock_;
};

class InstanceMetadataProvider final : public CredentialsProvider {
 public:
  static constexpr int kTokenTtlSeconds = 21'600;

  InstanceMetadataProvider(GetEnvFn getenv, std::shared_ptr<HttpTransport> transport,
                           Clock* clock = &Clock::Real());
  Result<Credentials> Get() override;
  std::string Describe() const override;

 private:
  // A session token, reused until a minute before it expires.
  Result<std::string> Token(const std::string& endpoint);

  const GetEnvFn getenv_;
  const std::shared_ptr<HttpTransport> transport_;
  Clock* const clock_;
  std::mutex mu_;
  std::string token_;           // guarded by mu_
  int64_t token_until_ms_ = 0;  // guarded by mu_
};

// Exposed for tests and the fuzz target: the credentials in a container
// endpoint's or the instance metadata service's JSON answer (AccessKeyId,
// SecretAccessKey, Token, Expiration; a "Code" other than "Success" is an
// error). `source` names the service in errors.
Result<Credentials> ParseMetadataCredentials(std::string_view json, const std::string& source);

// Whether AWS_CONTAINER_CREDENTIALS_FULL_URI may name `url`: https, or
// http to a loopback or container-agent address.
bool IsAllowedContainerUrl(std::string_view url);

}  // namespace kc::aws
