// Credentials for an IAM role, through STS:
//
// - AssumeRoleProvider: the role assumed with another provider's
//   credentials (a profile's source_profile or credential_source, or the
//   `role_arn` under [aws] on top of the whole chain).
// - WebIdentityProvider: the role assumed with a web identity token from a
//   file (EKS service accounts: AWS_WEB_IDENTITY_TOKEN_FILE and
//   AWS_ROLE_ARN, or a profile's web_identity_token_file). The file is read
//   again at every renewal: Kubernetes rotates it.
//
// Neither caches: they sit under the process's CachedCredentials, which asks
// them again only ahead of expiry.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <memory>
#include <string>

#include "clients/aws/credentials.h"
#include "clients/aws/sts.h"

namespace kc::aws {

class AssumeRoleProvider final : public CredentialsProvider {
 public:
  AssumeRoleProvider(AssumeRoleRequest request, std::shared_ptr<CredentialsProvider> source,
                     std::shared_ptr<const StsClient> sts);
  // The source's own error as it is (its kNotFound becomes kAuth: a role
  // with no credentials to assume it is a setup error, not "nothing here").
  Result<Credentials> Get() override;
  std::string Describe() const override;

 private:
  const AssumeRoleRequest request_;
  const std::shared_ptr<CredentialsProvider> source_;
  const std::shared_ptr<const StsClient> sts_;
};

// The longest web identity token file read (real tokens are 1-2 KiB).
inline constexpr size_t kMaxWebIdentityTokenBytes = 64 * 1024;

class WebIdentityProvider final : public CredentialsProvider {
 public:
  // `origin` says where the settings came from, for messages ("the
  // environment variables AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN",
  // "profile 'x'").
  WebIdentityProvider(std::string token_file, AssumeRoleRequest request, std::string origin,
                      std::shared_ptr<const StsClient> sts);

  // From AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME,
  // read at every Get: kNotFound while the token file variable is unset,
  // kAuth when it is set without AWS_ROLE_ARN.
  static std::unique_ptr<CredentialsProvider> FromEnvironment(GetEnvFn getenv,
                                                              std::shared_ptr<const StsClient> sts);

  // Fails with kAuth naming the file and the fix when it cannot be read or
  // is empty; with STS's error otherwise.
  Result<Credentials> Get() override;
  std::string Describe() const override;

 private:
  const std::string token_file_;
  const AssumeRoleRequest request_;
  const std::string origin_;
  const std::shared_ptr<const StsClient> sts_;
};

// The web identity token in `path`, trimmed: kAuth naming the file (and
// `origin`) when it is missing, unreadable, empty or over the limit.
Result<std::string> ReadWebIdentityToken(const std::string& path, const std::string& origin);

}  // namespace kc::aws
