// AWS STS, the two calls that turn one identity into a role's temporary
// credentials: AssumeRole (signed with the source credentials) and
// AssumeRoleWithWebIdentity (unsigned: the web identity token is the proof).
// STS speaks the query protocol: a form-encoded POST, an XML answer, XML
// errors (<ErrorResponse><Error><Code>).
//
// Answers are untrusted: the body is capped, every field is checked (an
// answer without a key, a secret, a session token or a valid expiration is
// kParse), and error messages quote no token, secret or signature even when
// the server echoes them.
//
// Thread-safety: immutable after construction; calls may run concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "kc/clock.h"
#include "kc/status.h"

namespace kc::aws {

struct AssumeRoleRequest {
  std::string role_arn;
  std::string session_name;  // empty: "kinesis-connect-<unix seconds>"
  std::string external_id;   // AssumeRole only; empty: none
  // 900..43200; nullopt: the role's default (one hour).
  std::optional<int> duration_seconds;
};

class StsClient {
 public:
  // `endpoint`: scheme://host[:port] of STS; `region` signs AssumeRole.
  StsClient(std::string endpoint, std::string region, std::shared_ptr<HttpTransport> transport,
            Clock* clock = &Clock::Real());

  // The role's credentials, signed with `source`. Errors (kAuth for a
  // refusal such as AccessDenied or ExpiredToken, kThrottled, kUnavailable,
  // kConnection, kParse) start with "STS AssumeRole of <role>".
  Result<Credentials> AssumeRole(const AssumeRoleRequest& request, const Credentials& source) const;
  // The role's credentials for the holder of `web_identity_token`.
  // InvalidIdentityToken and ExpiredTokenException are kAuth;
  // IDPCommunicationError (the identity provider did not answer) passes.
  Result<Credentials> AssumeRoleWithWebIdentity(const AssumeRoleRequest& request,
                                                const std::string& web_identity_token) const;

  const std::string& endpoint() const { return endpoint_; }

 private:
  Result<Credentials> Call(const std::string& what, std::string_view action, std::string body,
                           const Credentials* source, const std::string& secret) const;

  const std::string endpoint_;
  const std::string region_;
  const std::shared_ptr<HttpTransport> transport_;
  Clock* const clock_;
};

// The largest STS answer read (real ones are about 2 KiB).
inline constexpr uint64_t kMaxStsAnswerBytes = 64 * 1024;

// Exposed for tests and the fuzz target: the credentials in a successful
// answer to `action` ("AssumeRole", "AssumeRoleWithWebIdentity"); kParse
// naming what is missing or malformed, never quoting a value.
Result<Credentials> ParseStsCredentials(std::string_view body, std::string_view action);
// An STS error answer as an Error whose code the retry policy understands.
Error ClassifyStsError(long status, std::string_view body, const std::string& what);

// The session name for a role without one: "kinesis-connect-<unix seconds>".
std::string DefaultRoleSessionName(int64_t unix_millis);

}  // namespace kc::aws
