#include "clients/aws/metadata_credentials.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/hosts.h"
#include "base/json_fields.h"
#include "base/retry.h"
#include "base/units.h"
#include "clients/aws/endpoint.h"
#include "clients/aws/errors.h"
#include "clients/aws/sigv4.h"

namespace kc::aws {
namespace {

constexpr char kRelativeUriVar[] = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
constexpr char kFullUriVar[] = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
constexpr char kTokenFileVar[] = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
constexpr char kTokenVar[] = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
constexpr char kEcsHost[] = "http://169.254.170.2";
constexpr char kImdsDisabledVar[] = "AWS_EC2_METADATA_DISABLED";
constexpr char kImdsEndpointVar[] = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
constexpr char kImdsModeVar[] = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
constexpr char kImdsIpv4[] = "http://169.254.169.254";
constexpr char kImdsIpv6[] = "http://[fd00:ec2::254]";
constexpr char kRolePath[] = "/latest/meta-data/iam/security-credentials/";

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool HasControlCharacters(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// An error for a non-2xx answer from a metadata service.
Error StatusError(long status, const std::string& what) {
  std::string text = what + ": HTTP " + std::to_string(status);
  if (status == 401 || status == 403) return Error(ErrorCode::kAuth, std::move(text));
  return ClassifyCredentialsAnswer(status, std::move(text));
}

// Link-local services either answer at once or are not there: a couple of
// quick attempts for a passing failure, no more.
RetryPolicy QuickRetry(Clock* clock) {
  return RetryPolicy(RetryOptions{.max_attempts = 3,
                                  .base = std::chrono::milliseconds(100),
                                  .cap = std::chrono::milliseconds(500),
                                  .give_up_after = std::chrono::milliseconds(0)},
                     clock);
}

}  // namespace

HttpOptions MetadataHttpOptions(const HttpOptions& base) {
  HttpOptions options = base;
  options.connect_timeout = std::chrono::milliseconds(1'000);
  options.request_timeout = std::chrono::milliseconds(2'000);
  options.max_response_bytes = kMaxMetadataAnswerBytes;
  options.use_proxy = false;
  return options;
}

bool IsAllowedContainerUrl(std::string_view url) {
  auto parts = SplitUrl(url);
  if (!parts) return false;
  if (parts->scheme == "https") return true;
  if (parts->scheme != "http") return false;
  const std::string& host = parts->host;
  return util::IsLoopbackHost(host) || host == "169.254.170.2" || host == "169.254.170.23" ||
         host == "[fd00:ec2::23]";
}

Result<Credentials> ParseMetadataCredentials(std::string_view json, const std::string& source) {
  static const std::vector<util::JsonPath> paths = [] {
    std::vector<util::JsonPath> p;
    for (const char* name : {"Code", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"}) {
      p.push_back(*util::JsonPath::Parse(name));
    }
    return p;
  }();
  std::vector<util::JsonField> fields;
  if (Status s = util::ReadJsonFields(json, paths, fields); !s) {
    return Fail(ErrorCode::kParse,
                "the answer of " + source + " is not a JSON object (" + s.error().message() + ")");
  }
  using Kind = util::JsonField::Kind;
  if (fields[0].kind == Kind::kString && fields[0].text != "Success") {
    std::string code = fields[0].text.substr(0, 64);
    for (char& c : code) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    return Fail(ErrorCode::kAuth,
                source + " answered with Code \"" + code + "\" instead of credentials");
  }
  for (int i : {1, 2, 3}) {
    if (fields[i].kind != Kind::kString || fields[i].text.empty()) {
      return Fail(ErrorCode::kParse,
                  "the answer of " + source + " has no \"" + paths[i].text() + "\" string");
    }
  }
  Credentials out{fields[1].text, fields[2].text, fields[3].text};
  if (fields[4].kind == Kind::kString) {
    auto expires = ParseRfc3339(fields[4].text);
    if (!expires) {
      return Fail(ErrorCode::kParse, "the answer of " + source +
                                         " has an \"Expiration\" that is not an RFC 3339 time (" +
                                         expires.error().message() + ")");
    }
    out.expiration_ms = *expires;
  } else if (fields[4].kind != Kind::kMissing && fields[4].kind != Kind::kNull) {
    return Fail(ErrorCode::kParse,
                "the answer of " + source + " has an \"Expiration\" that is not a string");
  }
  return out;
}

// --- ContainerCredentialsProvider -----------------------------------------------

ContainerCredentialsProvider::ContainerCredentialsProvider(GetEnvFn getenv,
                                                           std::shared_ptr<HttpTransport> transport,
                                                           Clock* clock)
    : getenv_(std::move(getenv)), transport_(std::move(transport)), clock_(clock) {}

std::string ContainerCredentialsProvider::Describe() const {
  if (auto relative = NonEmptyEnv(getenv_, kRelativeUriVar)) {
    return std::string("the container credentials endpoint ") + kEcsHost + " (" + kRelativeUriVar +
           ")";
  }
  if (auto full = NonEmptyEnv(getenv_, kFullUriVar)) {
    auto parts = SplitUrl(*full);
    return "the container credentials endpoint " +
           (parts ? parts->scheme + "://" + HostHeaderValue(*parts) : std::string("?")) + " (" +
           kFullUriVar + ")";
  }
  return std::string("the container credentials endpoint (") + kRelativeUriVar + " or " +
         kFullUriVar + ")";
}

Result<Credentials> ContainerCredentialsProvider::Get() {
  std::string url;
  if (auto relative = NonEmptyEnv(getenv_, kRelativeUriVar)) {
    if (!relative->starts_with("/") || HasControlCharacters(*relative)) {
      return Fail(ErrorCode::kConfig, std::string(kRelativeUriVar) +
                                          " must be a path starting with '/', as ECS sets it");
    }
    url = kEcsHost + *relative;
  } else if (auto full = NonEmptyEnv(getenv_, kFullUriVar)) {
    if (!IsAllowedContainerUrl(*full) || HasControlCharacters(*full)) {
      return Fail(ErrorCode::kConfig,
                  std::string(kFullUriVar) +
                      " must be an https:// URL, or http:// to a loopback address, "
                      "169.254.170.2, 169.254.170.23 or [fd00:ec2::23]: credentials must not "
                      "cross a network in the clear");
    }
    url = *full;
  } else {
    return Fail(ErrorCode::kNotFound, std::string("the environment variables ") + kRelativeUriVar +
                                          " and " + kFullUriVar + " are not set");
  }
  const std::string what = Describe();

  std::optional<std::string> authorization;
  if (auto file = NonEmptyEnv(getenv_, kTokenFileVar)) {
    auto text = util::ReadFile(*file, kMaxMetadataAnswerBytes);
    if (!text) {
      return Fail(ErrorCode::kAuth, "cannot read the container authorization token file " + *file +
                                        " (" + kTokenFileVar + "): " + text.error().message());
    }
    authorization = std::string(TrimWhitespace(*text));
  } else if (auto token = NonEmptyEnv(getenv_, kTokenVar)) {
    authorization = *token;
  }
  if (authorization && (authorization->empty() || HasControlCharacters(*authorization))) {
    return Fail(ErrorCode::kAuth, "the container authorization token (" +
                                      std::string(kTokenFileVar) + " or " + kTokenVar +
                                      ") is empty or holds line breaks or control characters");
  }

  return QuickRetry(clock_).Run(what, std::stop_token{}, [&]() -> Result<Credentials> {
    HttpRequest request;
    request.method = "GET";
    request.url = url;
    request.SetHeader("Accept", "application/json");
    if (authorization) request.SetHeader("Authorization", *authorization);
    request.max_response_bytes = kMaxMetadataAnswerBytes;
    auto response = transport_->Send(request);
    if (!response) {
      // Never the URL's query or the header: only what Describe shows.
      return Fail(Error(response.error().code(), what + ": the endpoint did not answer"));
    }
    if (response->status < 200 || response->status >= 300) {
      return Fail(StatusError(response->status, what));
    }
    return ParseMetadataCredentials(response->body, what);
  });
}

// --- InstanceMetadataProvider -----------------------------------------------------

InstanceMetadataProvider::InstanceMetadataProvider(GetEnvFn getenv,
                                                   std::shared_ptr<HttpTransport> transport,
                                                   Clock* clock)
    : getenv_(std::move(getenv)), transport_(std::move(transport)), clock_(clock) {}

std::string InstanceMetadataProvider::Describe() const {
  std::string endpoint = kImdsIpv4;
  if (auto set = NonEmptyEnv(getenv_, kImdsEndpointVar)) {
    endpoint = WithoutTrailingSlash(*set);
  } else if (auto mode = NonEmptyEnv(getenv_, kImdsModeVar);
             mode && EqualsIgnoringCase(*mode, "ipv6")) {
    endpoint = kImdsIpv6;
  }
  return "EC2 instance metadata at " + endpoint;
}

Result<std::string> InstanceMetadataProvider::Token(const std::string& endpoint) {
  {
    std::lock_guard lock(mu_);
    if (!token_.empty() && clock_->UnixMillis() < token_until_ms_) return token_;
  }
  HttpRequest request;
  request.method = "PUT";
  request.url = endpoint + "/latest/api/token";
  request.SetHeader("X-aws-ec2-metadata-token-ttl-seconds", std::to_string(kTokenTtlSeconds));
  request.max_response_bytes = kMaxMetadataAnswerBytes;
  const int64_t asked_at = clock_->UnixMillis();
  auto response = transport_->Send(request);
  const std::string what = Describe();
  if (!response) {
    // Outside EC2 nothing answers at the link-local address: not an error,
    // the chain's end.
    return Fail(ErrorCode::kNotFound, what + " did not answer (not running on EC2?)");
  }
  if (response->status == 403 || response->status == 404 || response->status == 405) {
    // No IMDSv2 here: turned off for this instance, or something at the
    // address that is not EC2's service. Not ours to use; the chain's end.
    return Fail(ErrorCode::kNotFound, what + " refused a session token (HTTP " +
                                          std::to_string(response->status) + "): no IMDSv2 there");
  }
  if (response->status < 200 || response->status >= 300) {
    return Fail(StatusError(response->status, what + ", asking for a session token"));
  }
  std::string token(TrimWhitespace(response->body));
  if (token.empty() || HasControlCharacters(token)) {
    return Fail(ErrorCode::kParse, what + " answered an empty or malformed session token");
  }
  std::lock_guard lock(mu_);
  token_ = token;
  token_until_ms_ = asked_at + (kTokenTtlSeconds - 60) * int64_t{1000};
  return token;
}

Result<Credentials> InstanceMetadataProvider::Get() {
  if (auto disabled = NonEmptyEnv(getenv_, kImdsDisabledVar)) {
    std::string lower = *disabled;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "true") {
      return Fail(ErrorCode::kNotFound,
                  std::string("EC2 instance metadata is turned off (") + kImdsDisabledVar + ")");
    }
  }
  std::string endpoint = kImdsIpv4;
  if (auto set = NonEmptyEnv(getenv_, kImdsEndpointVar)) {
    if (!set->starts_with("http://") && !set->starts_with("https://")) {
      return Fail(ErrorCode::kConfig,
                  std::string(kImdsEndpointVar) + " must be an http:// or https:// URL");
    }
    endpoint = WithoutTrailingSlash(*set);
  } else if (auto mode = NonEmptyEnv(getenv_, kImdsModeVar);
             mode && EqualsIgnoringCase(*mode, "ipv6")) {
    endpoint = kImdsIpv6;
  }
  const std::string what = Describe();

  auto first_token = Token(endpoint);
  if (!first_token) return Fail(first_token.error());
  std::string token = std::move(*first_token);
  auto get = [&](const std::string& path) -> Result<HttpResponse> {
    Result<HttpResponse> response = Fail(ErrorCode::kInternal, "not sent");
    for (int attempt = 0; attempt < 2; ++attempt) {
      HttpRequest request;
      request.method = "GET";
      request.url = endpoint + path;
      request.SetHeader("X-aws-ec2-metadata-token", token);
      request.max_response_bytes = kMaxMetadataAnswerBytes;
      response = transport_->Send(request);
      if (!response) return Fail(Error(response.error().code(), what + ": no answer"));
      if (response->status != 401 || attempt > 0) break;
      // The token expired early (the service restarted): a new one, once.
      {
        std::lock_guard lock(mu_);
        token_.clear();
      }
      auto fresh = Token(endpoint);
      if (!fresh) return Fail(fresh.error());
      token = std::move(*fresh);
    }
    return response;
  };
  return QuickRetry(clock_).Run(what, std::stop_token{}, [&]() -> Result<Credentials> {
    auto roles = get(kRolePath);
    if (!roles) return Fail(roles.error());
    if (roles->status == 404) {
      return Fail(ErrorCode::kNotFound,
                  what + ": the instance has no IAM role (attach an instance profile)");
    }
    if (roles->status < 200 || roles->status >= 300) {
      return Fail(StatusError(roles->status, what + ", asking for the instance's role"));
    }
    std::string_view body = roles->body;
    std::string role(TrimWhitespace(body.substr(0, body.find('\n'))));
    if (role.empty() || role.find_first_of("/?#% ") != std::string::npos ||
        HasControlCharacters(role)) {
      return Fail(ErrorCode::kParse, what + " answered a malformed role name");
    }
    auto creds = get(kRolePath + role);
    if (!creds) return Fail(creds.error());
    if (creds->status < 200 || creds->status >= 300) {
      return Fail(StatusError(creds->status, what + ", asking for the role's credentials"));
    }
    return ParseMetadataCredentials(creds->body, what);
  });
}

}  // namespace kc::aws
