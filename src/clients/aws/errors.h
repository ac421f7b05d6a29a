// How AWS answers map to error codes, shared by the service clients (JSON
// protocol, S3): each client reads its own error format to find the error's
// name, then uses these to classify it.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/redact.h"
#include "kc/status.h"

namespace kc::aws {

inline bool IsOneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (name == n) return true;
  }
  return false;
}

using util::RedactSecrets;  // base/redact.h

// Appended to authentication errors: what to check, never a secret.
inline constexpr std::string_view kCredentialsHint =
    " (check the credentials and the region; see the credential chain in the README)";

// For an answer whose error name is missing or unknown: the HTTP status
// decides. 429 and 503 are AWS's "slow down"; other 5xx may pass; 401/403 are
// credentials; the rest is the request's own fault.
inline Error ClassifyByStatus(long status, std::string text) {
  if (status == 429 || status == 503) return Error(ErrorCode::kThrottled, std::move(text));
  if (status >= 500) return Error(ErrorCode::kUnavailable, std::move(text));
  if (status == 404) return Error(ErrorCode::kNotFound, std::move(text));
  if (status == 401 || status == 403) {
    return Error(ErrorCode::kAuth, std::move(text) + std::string(kCredentialsHint));
  }
  return Error(ErrorCode::kInvalidArgument, std::move(text));
}

// For a credentials service that answered: as ClassifyByStatus, except that
// a 404 is kConfig (a wrong address or account), never kNotFound, which a
// chain takes for "no credentials here" and moves on to another identity.
inline Error ClassifyCredentialsAnswer(long status, std::string text) {
  Error e = ClassifyByStatus(status, std::move(text));
  if (e.code() == ErrorCode::kNotFound) return Error(ErrorCode::kConfig, e.message());
  return e;
}

}  // namespace kc::aws
