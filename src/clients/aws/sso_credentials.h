// IAM Identity Center (SSO) credentials, as the AWS CLI leaves them: `aws sso
// login` writes an access token to ~/.aws/sso/cache/<sha1 of the key>.json
// (the key is the sso_session name, or the start URL for the legacy
// profile keys), and the SSO portal's GetRoleCredentials trades it for an
// account role's temporary credentials.
//
// The token is not renewed here: an expired or refused token is an error
// telling the user to run `aws sso login` again. Tokens and credentials
// never appear in messages.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "kc/clock.h"

namespace kc::aws {

struct SsoSettings {
  std::string start_url;
  std::string region;  // the portal's region (sso_region)
  std::string account_id;
  std::string role_name;
  std::string cache_key;   // the sso_session name; the start URL for legacy profiles
  std::string origin;      // "profile 'dev'", for messages
  std::string login_hint;  // "aws sso login --profile dev"
};

inline constexpr size_t kMaxSsoCacheFileBytes = 1 << 20;
inline constexpr uint64_t kMaxSsoAnswerBytes = 64 * 1024;

class SsoCredentialsProvider final : public CredentialsProvider {
 public:
  // `cache_dir`: ~/.aws/sso/cache, expanded. `endpoint`: the portal; empty:
  // https://portal.sso.<region>.amazonaws.com.
  SsoCredentialsProvider(SsoSettings settings, std::string cache_dir, std::string endpoint,
                         std::shared_ptr<HttpTransport> transport, Clock* clock = &Clock::Real());
  Result<Credentials> Get() override;
  std::string Describe() const override;

  // The cache file the CLI writes for `cache_key`.
  static std::string CacheFile(const std::string& cache_dir, const std::string& cache_key);

 private:
  const SsoSettings settings_;
  const std::string cache_dir_;
  const std::string endpoint_;
  const std::shared_ptr<HttpTransport> transport_;
  Clock* const clock_;
};

// Exposed for tests and the fuzz target.
struct SsoToken {
  std::string access_token;
  int64_t expires_at_ms = 0;
};
// The CLI's cache file: accessToken and expiresAt. kParse naming the field.
Result<SsoToken> ParseSsoCacheFile(std::string_view json);
// GetRoleCredentials' answer: roleCredentials {accessKeyId, secretAccessKey,
// sessionToken, expiration (Unix ms)}.
Result<Credentials> ParseSsoRoleCredentials(std::string_view json);

}  // namespace kc::aws
