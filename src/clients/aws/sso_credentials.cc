#include "clients/aws/sso_credentials.h"

#include <charconv>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/json_fields.h"
#include "base/retry.h"
#include "base/time_format.h"
#include "base/units.h"
#include "clients/aws/crypto.h"
#include "clients/aws/endpoint.h"
#include "clients/aws/errors.h"
#include "clients/aws/sigv4.h"

namespace kc::aws {
namespace {

std::vector<util::JsonPath> Paths(std::initializer_list<const char*> names) {
  std::vector<util::JsonPath> out;
  for (const char* name : names) out.push_back(*util::JsonPath::Parse(name));
  return out;
}

}  // namespace

Result<SsoToken> ParseSsoCacheFile(std::string_view json) {
  static const std::vector<util::JsonPath> paths = Paths({"accessToken", "expiresAt"});
  std::vector<util::JsonField> fields;
  if (Status s = util::ReadJsonFields(json, paths, fields); !s) {
    return Fail(ErrorCode::kParse, "it is not a JSON object (" + s.error().message() + ")");
  }
  using Kind = util::JsonField::Kind;
  if (fields[0].kind != Kind::kString || fields[0].text.empty()) {
    return Fail(ErrorCode::kParse, "it has no \"accessToken\" string");
  }
  if (fields[1].kind != Kind::kString) {
    return Fail(ErrorCode::kParse, "it has no \"expiresAt\" string");
  }
  std::string when = fields[1].text;
  // Older CLIs wrote "...UTC" instead of "Z".
  if (when.ends_with("UTC")) when.replace(when.size() - 3, 3, "Z");
  auto expires = ParseRfc3339(when);
  if (!expires) {
    return Fail(ErrorCode::kParse,
                "its \"expiresAt\" is not an RFC 3339 time (" + expires.error().message() + ")");
  }
  return SsoToken{fields[0].text, *expires};
}

Result<Credentials> ParseSsoRoleCredentials(std::string_view json) {
  static const std::vector<util::JsonPath> paths =
      Paths({"roleCredentials.accessKeyId", "roleCredentials.secretAccessKey",
             "roleCredentials.sessionToken", "roleCredentials.expiration"});
  std::vector<util::JsonField> fields;
  if (Status s = util::ReadJsonFields(json, paths, fields); !s) {
    return Fail(ErrorCode::kParse, "the answer is not a JSON object (" + s.error().message() + ")");
  }
  using Kind = util::JsonField::Kind;
  for (int i : {0, 1, 2}) {
    if (fields[i].kind != Kind::kString || fields[i].text.empty()) {
      return Fail(ErrorCode::kParse, "the answer has no \"" + paths[i].text() + "\" string");
    }
  }
  int64_t expiration = 0;
  const std::string& text = fields[3].text;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), expiration);
  if (fields[3].kind != Kind::kNumber || ec != std::errc() || end != text.data() + text.size() ||
      expiration <= 0) {
    return Fail(ErrorCode::kParse,
                "the answer has no \"roleCredentials.expiration\" in Unix milliseconds");
  }
  return Credentials{fields[0].text, fields[1].text, fields[2].text, expiration};
}

SsoCredentialsProvider::SsoCredentialsProvider(SsoSettings settings, std::string cache_dir,
                                               std::string endpoint,
                                               std::shared_ptr<HttpTransport> transport,
                                               Clock* clock)
    : settings_(std::move(settings)),
      cache_dir_(std::move(cache_dir)),
      endpoint_(endpoint.empty() ? "https://portal.sso." + settings_.region + ".amazonaws.com"
                                 : WithoutTrailingSlash(std::move(endpoint))),
      transport_(std::move(transport)),
      clock_(clock) {}

std::string SsoCredentialsProvider::CacheFile(const std::string& cache_dir,
                                              const std::string& cache_key) {
  return cache_dir + "/" + HexLower(Sha1(cache_key)) + ".json";
}

std::string SsoCredentialsProvider::Describe() const {
  return settings_.origin + ": SSO role " + settings_.role_name + " in account " +
         settings_.account_id + " through " + endpoint_;
}

Result<Credentials> SsoCredentialsProvider::Get() {
  const std::string login = "; run `" + settings_.login_hint + "` to sign in again";
  const std::string file = CacheFile(cache_dir_, settings_.cache_key);
  auto text = util::ReadFile(file, kMaxSsoCacheFileBytes);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kAuth,
                  settings_.origin + " uses SSO, and no token is cached in " + file + login);
    }
    return Fail(ErrorCode::kAuth,
                settings_.origin + ": cannot read the SSO token cache: " + text.error().message());
  }
  auto token = ParseSsoCacheFile(*text);
  if (!token) {
    return Fail(ErrorCode::kAuth, settings_.origin + ": the SSO token cache " + file +
                                      " is unusable: " + token.error().message() + login);
  }
  if (token->expires_at_ms <= clock_->UnixMillis()) {
    return Fail(ErrorCode::kAuth, settings_.origin + ": the SSO token expired at " +
                                      util::FormatRfc3339Millis(token->expires_at_ms) + login);
  }
  if (token->access_token.find_first_of("\r\n") != std::string::npos) {
    return Fail(ErrorCode::kAuth, settings_.origin + ": the SSO token cache " + file +
                                      " holds a malformed token" + login);
  }

  const std::string what = "SSO GetRoleCredentials for " + settings_.origin + " at " + endpoint_;
  const RetryPolicy retry(RetryOptions{.max_attempts = 3,
                                       .base = std::chrono::milliseconds(200),
                                       .cap = std::chrono::milliseconds(2'000),
                                       .give_up_after = std::chrono::milliseconds(0)},
                          clock_);
  return retry.Run(what, std::stop_token{}, [&]() -> Result<Credentials> {
    HttpRequest request;
    request.method = "GET";
    request.url = endpoint_ +
                  "/federation/credentials?account_id=" + UriEncode(settings_.account_id) +
                  "&role_name=" + UriEncode(settings_.role_name);
    request.SetHeader("x-amz-sso_bearer_token", token->access_token);
    request.SetHeader("Accept", "application/json");
    request.max_response_bytes = kMaxSsoAnswerBytes;
    auto response = transport_->Send(request);
    if (!response) return Fail(Error(response.error().code(), what + ": no answer"));
    if (response->status == 401 || response->status == 403) {
      return Fail(ErrorCode::kAuth, what + ": the portal refused the cached token (HTTP " +
                                        std::to_string(response->status) + ")" + login);
    }
    if (response->status < 200 || response->status >= 300) {
      return Fail(ClassifyCredentialsAnswer(
          response->status,
          what + ": HTTP " + std::to_string(response->status) +
              (response->status == 404 ? " (no such account or role for this sign-in: "
                                         "check sso_account_id and sso_role_name)"
                                       : "")));
    }
    auto credentials = ParseSsoRoleCredentials(response->body);
    if (!credentials) return Fail(credentials.error().With(what));
    return credentials;
  });
}

}  // namespace kc::aws
