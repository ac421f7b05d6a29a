#include "clients/aws/role_credentials.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/files.h"

namespace kc::aws {
namespace {

constexpr char kTokenFileVar[] = "AWS_WEB_IDENTITY_TOKEN_FILE";
constexpr char kRoleArnVar[] = "AWS_ROLE_ARN";
constexpr char kSessionNameVar[] = "AWS_ROLE_SESSION_NAME";

// The web identity settings of the environment, read at each Get so that
// the provider follows the process environment as the SDKs do.
class EnvironmentWebIdentityProvider final : public CredentialsProvider {
 public:
  EnvironmentWebIdentityProvider(GetEnvFn getenv, std::shared_ptr<const StsClient> sts)
      : getenv_(std::move(getenv)), sts_(std::move(sts)) {}

  Result<Credentials> Get() override {
    auto provider = Make();
    if (!provider) return Fail(provider.error());
    return (*provider)->Get();
  }

  std::string Describe() const override {
    std::string out = std::string("web identity from ") + kTokenFileVar + " and " + kRoleArnVar;
    if (auto role = NonEmptyEnv(getenv_, kRoleArnVar)) out += " (role " + *role + ")";
    return out;
  }

 private:
  Result<std::unique_ptr<WebIdentityProvider>> Make() const {
    auto file = NonEmptyEnv(getenv_, kTokenFileVar);
    if (!file) {
      return Fail(ErrorCode::kNotFound,
                  std::string("the environment variable ") + kTokenFileVar + " is not set");
    }
    auto role = NonEmptyEnv(getenv_, kRoleArnVar);
    if (!role) {
      return Fail(ErrorCode::kAuth, std::string("the environment variable ") + kTokenFileVar +
                                        " is set but " + kRoleArnVar +
                                        " is not; set the ARN of the role to assume with the "
                                        "token, or unset " +
                                        kTokenFileVar);
    }
    if (!sts_) {
      return Fail(ErrorCode::kAuth, std::string("web identity credentials (") + kTokenFileVar +
                                        ") need STS, which this program was not given");
    }
    AssumeRoleRequest request{.role_arn = *role,
                              .session_name = NonEmptyEnv(getenv_, kSessionNameVar).value_or(""),
                              .external_id = {},
                              .duration_seconds = std::nullopt};
    return std::make_unique<WebIdentityProvider>(
        *file, std::move(request),
        std::string("the environment variables ") + kTokenFileVar + " and " + kRoleArnVar, sts_);
  }

  const GetEnvFn getenv_;
  const std::shared_ptr<const StsClient> sts_;
};

}  // namespace

// --- AssumeRoleProvider -------------------------------------------------------

AssumeRoleProvider::AssumeRoleProvider(AssumeRoleRequest request,
                                       std::shared_ptr<CredentialsProvider> source,
                                       std::shared_ptr<const StsClient> sts)
    : request_(std::move(request)), source_(std::move(source)), sts_(std::move(sts)) {}

Result<Credentials> AssumeRoleProvider::Get() {
  if (!sts_) {
    return Fail(ErrorCode::kAuth, "assuming role " + request_.role_arn +
                                      " needs STS, and this program was not given a way to "
                                      "reach it");
  }
  auto source = source_->Get();
  if (!source) {
    const Error& e = source.error();
    const ErrorCode code = e.code() == ErrorCode::kNotFound ? ErrorCode::kAuth : e.code();
    return Fail(Error(
        code, "no credentials to assume role " + request_.role_arn + " with: " + e.message()));
  }
  return sts_->AssumeRole(request_, *source);
}

std::string AssumeRoleProvider::Describe() const {
  return "role " + request_.role_arn + " assumed through STS" +
         (sts_ ? " at " + sts_->endpoint() : std::string()) + " with " + source_->Describe();
}

// --- WebIdentityProvider ------------------------------------------------------

Result<std::string> ReadWebIdentityToken(const std::string& path, const std::string& origin) {
  const std::string fix = " (named by " + origin +
                          "; on EKS it is mounted by the pod's service account: check the "
                          "volume, or point the setting at the token)";
  auto text = util::ReadFile(path, kMaxWebIdentityTokenBytes);
  if (!text) {
    return Fail(ErrorCode::kAuth, "cannot read the web identity token file " + path + ": " +
                                      text.error().message() + fix);
  }
  const std::string_view token = TrimWhitespace(*text);
  if (token.empty()) {
    return Fail(ErrorCode::kAuth, "the web identity token file " + path + " is empty" + fix);
  }
  return std::string(token);
}

WebIdentityProvider::WebIdentityProvider(std::string token_file, AssumeRoleRequest request,
                                         std::string origin, std::shared_ptr<const StsClient> sts)
    : token_file_(std::move(token_file)),
      request_(std::move(request)),
      origin_(std::move(origin)),
      sts_(std::move(sts)) {}

std::unique_ptr<CredentialsProvider> WebIdentityProvider::FromEnvironment(
    GetEnvFn getenv, std::shared_ptr<const StsClient> sts) {
  return std::make_unique<EnvironmentWebIdentityProvider>(std::move(getenv), std::move(sts));
}

Result<Credentials> WebIdentityProvider::Get() {
  auto token = ReadWebIdentityToken(token_file_, origin_);
  if (!token) return Fail(token.error());
  return sts_->AssumeRoleWithWebIdentity(request_, *token);
}

std::string WebIdentityProvider::Describe() const {
  return "web identity token " + token_file_ + " for role " + request_.role_arn +
         " through STS at " + sts_->endpoint();
}

}  // namespace kc::aws
