// AWS credentials and where they come from: the standard chain that the AWS
// CLI and SDKs use, so a machine set up for them works here unchanged.
//
//   1. Environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for
//      temporary credentials, AWS_SESSION_TOKEN.
//   2. Web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, through
//      STS (role_credentials.h).
//   3. The profile in the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
//      else ~/.aws/credentials) and the config file (AWS_CONFIG_FILE, else
//      ~/.aws/config): keys, a role, a credential_process
//      (ProfileCredentialsProvider).
//   4. The container credentials endpoint and EC2 instance metadata.
//
// The profile is the configured one, else AWS_PROFILE, else "default". As in
// the AWS CLI and botocore, a profile named in the configuration skips step
// 1 and 2: whoever wrote `profile = "prod"` means those keys, not whatever happens
// to be exported in the shell. (AWS_PROFILE does not skip it, also as there.)
//
// The environment is read through an injected GetEnvFn, so tests and
// embedders decide what it holds without touching the process environment.
//
// Errors name what was looked at (variable names, file paths, the profile)
// and how to fix it; they never contain a key or token.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/aws/http.h"
#include "kc/clock.h"
#include "kc/status.h"

namespace kc::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  // When temporary credentials expire (Unix ms); nullopt: they do not.
  std::optional<int64_t> expiration_ms = std::nullopt;
};

// Reads one environment variable: nullopt when it is not set. Providers call
// it from whichever thread calls Get, so it must be safe to call concurrently.
using GetEnvFn = std::function<std::optional<std::string>(const std::string&)>;

// The process environment (::getenv).
std::optional<std::string> RealGetEnv(const std::string& name);

// A variable that is set and not empty: the SDKs treat an empty one as
// unset, and so do the providers here.
std::optional<std::string> NonEmptyEnv(const GetEnvFn& getenv, const std::string& name);

// `text` without the spaces, tabs and line breaks around it (a token file's
// final newline, say).
std::string_view TrimWhitespace(std::string_view text);

// A source of credentials.
//
// Get() fails with kNotFound when the source simply has none (a chain then
// asks the next source) and with another code when the source exists but is
// wrong, such as a key without its secret (a chain stops there, because
// quietly using some other identity would be worse).
//
// Thread-safety: implementations are safe for concurrent Get calls.
class CredentialsProvider {
 public:
  CredentialsProvider() = default;
  CredentialsProvider(const CredentialsProvider&) = delete;
  CredentialsProvider& operator=(const CredentialsProvider&) = delete;
  virtual ~CredentialsProvider() = default;

  virtual Result<Credentials> Get() = 0;
  // Where credentials come from, for logs and errors. Never a secret.
  virtual std::string Describe() const = 0;
  // A service refused `used` as expired: a provider that caches renews
  // them at the next Get (once, however many callers report it). Others
  // have nothing to do.
  virtual void Invalidate(const Credentials& used) { (void)used; }
};

// Fixed credentials, e.g. from a caller that has its own source.
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials)
      : credentials_(std::move(credentials)) {}
  Result<Credentials> Get() override { return credentials_; }
  std::string Describe() const override { return "static credentials"; }

 private:
  const Credentials credentials_;
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (or the older
// AWS_SECURITY_TOKEN). Empty variables count as unset. One of the pair
// without the other is an error (kAuth), not "nothing here".
class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentCredentialsProvider(GetEnvFn getenv = RealGetEnv)
      : getenv_(std::move(getenv)) {}
  Result<Credentials> Get() override;
  std::string Describe() const override;

 private:
  const GetEnvFn getenv_;
};

class StsClient;

// What the providers that reach out need. Each may be null: a setting that
// needs a missing one fails saying so.
struct CredentialServices {
  std::shared_ptr<const StsClient> sts;  // roles (role_arn) and web identity
  // credential_source = "EcsContainer" and "Ec2InstanceMetadata".
  std::shared_ptr<CredentialsProvider> container;
  std::shared_ptr<CredentialsProvider> instance_metadata;
  // The SSO portal (GetRoleCredentials); `sso_endpoint` empty: the public
  // one in the profile's sso_region.
  std::shared_ptr<HttpTransport> sso_transport;
  std::string sso_endpoint;
  // The time, for what is checked against it (an SSO token's expiry).
  Clock* clock = &Clock::Real();
};

// The credentials a profile of the shared files describes, resolved as the
// AWS CLI resolves them (config file "[profile NAME]" sections, and
// "[default]", overlaid with the credentials file's "[NAME]" sections):
//
//   1. role_arn: the role assumed through STS with the credentials of
//      source_profile (which may itself assume a role: chains are followed,
//      a loop is an error; a profile that names itself uses its own keys)
//      or of credential_source (Environment, EcsContainer,
//      Ec2InstanceMetadata), or with web_identity_token_file; external_id,
//      role_session_name and duration_seconds apply. mfa_serial is an error:
//      there is no terminal to ask for a code.
//   2. SSO: sso_session (with its [sso-session NAME] section) or the legacy
//      sso_start_url and sso_region, with sso_account_id and sso_role_name
//      (sso_credentials.h).
//   3. Static keys in the credentials file.
//   4. credential_process (process_credentials.h).
//   5. Static keys in the config file.
//
// The files are read on every Get, so a rotated file is picked up; wrap in
// DefaultCredentialsChain for caching.
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  // What a provider answers for. The SDKs put a profile's role assumed
  // with source_profile or credential_source before web identity from the
  // environment, and the rest of the profile after it: the chain holds
  // the profile twice, once for each part.
  enum class Part { kAll, kRoleWithSource };

  // `profile` empty: AWS_PROFILE, else "default".
  explicit ProfileCredentialsProvider(std::string profile = {}, GetEnvFn getenv = RealGetEnv,
                                      CredentialServices services = {}, Part part = Part::kAll);
  ~ProfileCredentialsProvider() override;
  Result<Credentials> Get() override;
  // The files, and once a Get has succeeded, how it got its credentials.
  std::string Describe() const override;

 private:
  const std::string profile_;
  const GetEnvFn getenv_;
  const CredentialServices services_;
  const Part part_;
  mutable std::mutex mu_;
  std::string route_;  // guarded by mu_
};

// Asks each provider in turn and returns the first credentials found. A
// provider's kNotFound moves on to the next; any other error is returned at
// once. When none has credentials, the error is kAuth listing what every
// provider looked at, followed by `fix_hint`.
class CredentialsChain : public CredentialsProvider {
 public:
  CredentialsChain(std::vector<std::unique_ptr<CredentialsProvider>> providers,
                   std::string fix_hint = {});
  Result<Credentials> Get() override;
  std::string Describe() const override;

  // Describe() of the provider the last successful Get used; empty before.
  std::string LastSource() const;

 private:
  const std::vector<std::unique_ptr<CredentialsProvider>> providers_;
  const std::string fix_hint_;
  mutable std::mutex mu_;
  std::string last_source_;  // guarded by mu_
};

class CachedCredentials;

// How the process finds its credentials: the standard chain (see the top of
// this file) and what it needs to reach STS and the metadata services.
struct CredentialsChainOptions {
  std::string profile;  // the configured profile; empty for AWS_PROFILE or "default"
  GetEnvFn getenv = RealGetEnv;
  Clock* clock = &Clock::Real();
  Clock::Duration refresh_interval = std::chrono::minutes(5);
  CredentialServices services;
  // A role assumed with whatever the chain finds ([aws] role_arn), and its
  // settings; empty: none.
  std::string role_arn;
  std::string external_id;
  std::string role_session_name;
};

// The standard chain, cached by CachedCredentials (credentials_cache.h):
// clients call Get for every request, and the chain is asked again only
// every `refresh_interval` (long-term keys, so rotated keys in the files are
// picked up) or ahead of expiry (temporary ones). If that lookup fails while
// good credentials are cached, the cached ones are kept (a file caught half
// written must not stop a pipeline) and the lookup is retried after a
// backoff.
//
// The chain, in the AWS SDKs' order: the environment's keys, web identity
// from the environment (both skipped when a profile is configured), the
// profile (ProfileCredentialsProvider), the container endpoint and the EC2
// instance metadata (when given in `services`). With `role_arn`, the role
// is assumed with the first credentials found.
class DefaultCredentialsChain final : public CredentialsProvider {
 public:
  static constexpr std::chrono::minutes kDefaultRefreshInterval{5};

  explicit DefaultCredentialsChain(CredentialsChainOptions options);
  // `profile` is the configured profile; empty for AWS_PROFILE or "default".
  explicit DefaultCredentialsChain(std::string profile = {}, GetEnvFn getenv = RealGetEnv,
                                   Clock* clock = &Clock::Real(),
                                   Clock::Duration refresh_interval = kDefaultRefreshInterval);
  ~DefaultCredentialsChain() override;
  Result<Credentials> Get() override;
  std::string Describe() const override;
  void Invalidate(const Credentials& used) override;
  // When the credentials held now expire (Unix ms), if they do.
  std::optional<int64_t> Expiration() const;

 private:
  CredentialsChain* chain_;  // owned by cache_ (or by the role on top of it)
  std::string role_;         // the role on top, for Describe
  std::unique_ptr<CachedCredentials> cache_;
};

// The region to use: `configured_region` when set, else AWS_REGION, else
// AWS_DEFAULT_REGION, else `region` of the profile in the config file (the
// profile chosen as for credentials: `profile`, AWS_PROFILE, "default").
// Fails with kConfig naming every place looked at.
Result<std::string> ResolveRegion(const std::string& configured_region, const std::string& profile,
                                  const GetEnvFn& getenv = RealGetEnv);

// ---------------------------------------------------------------------------
// The INI dialect of the AWS shared files, exposed for tests.
//
//   - "[section]" lines; the name is trimmed and case-sensitive.
//   - "key = value" or "key: value"; keys are trimmed and lowercased, values
//     trimmed. A later duplicate replaces an earlier one.
//   - '#' and ';' start a comment at the start of a line or after whitespace
//     ("region = us-east-1  # main"), so values such as URLs keep a '#'
//     that follows a non-blank.
//   - A line indented deeper than the key line before it continues that
//     value (the files' nested settings: "s3 =\n  addressing_style = path");
//     the continuation is kept after a '\n'.
struct IniFile {
  // section -> key -> value
  std::map<std::string, std::map<std::string, std::string>> sections;

  // The value, or nullptr when the section or key is missing.
  const std::string* Find(const std::string& section, const std::string& key) const;
};

// `source` names the text in errors (kConfig, "<source>:<line>: ..."), which
// never quote the line itself: it could hold a secret.
Result<IniFile> ParseIni(std::string_view text, const std::string& source);

}  // namespace kc::aws
