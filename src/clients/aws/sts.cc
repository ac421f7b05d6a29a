#include "clients/aws/sts.h"

#include <pugixml.hpp>

#include <utility>
#include <vector>

#include "base/retry.h"
#include "base/units.h"
#include "clients/aws/endpoint.h"
#include "clients/aws/errors.h"
#include "clients/aws/signed_request.h"
#include "clients/aws/sigv4.h"

namespace kc::aws {
namespace {

constexpr std::string_view kApiVersion = "2011-06-15";
// What an error message keeps of a server's own message.
constexpr size_t kMaxMessage = 1024;

bool LoadXml(pugi::xml_document& doc, std::string_view body) {
  return static_cast<bool>(
      doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8));
}

// A server's text made fit for a log line: printable ASCII. Clipped only
// once secrets are scrubbed (Tidy), so that no part of one is left.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text) out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  return out;
}

// `e` with the secrets scrubbed, then clipped to a log line's length.
Error Tidy(const Error& e, const std::vector<std::string_view>& secrets) {
  std::string message = RedactSecrets(e.message(), secrets);
  if (message.size() > kMaxMessage) {
    message.resize(kMaxMessage);
    message += "...";
  }
  return Error(e.code(), std::move(message));
}

void AddParam(std::string& body, std::string_view name, std::string_view value) {
  if (!body.empty()) body += '&';
  body += name;
  body += '=';
  body += UriEncode(value);
}

std::string FormBody(std::string_view action, const AssumeRoleRequest& request,
                     std::string_view session_name) {
  std::string body;
  AddParam(body, "Action", action);
  AddParam(body, "Version", kApiVersion);
  AddParam(body, "RoleArn", request.role_arn);
  AddParam(body, "RoleSessionName", session_name);
  if (request.duration_seconds) {
    AddParam(body, "DurationSeconds", std::to_string(*request.duration_seconds));
  }
  if (!request.external_id.empty()) AddParam(body, "ExternalId", request.external_id);
  return body;
}

}  // namespace

std::string DefaultRoleSessionName(int64_t unix_millis) {
  return "kinesis-connect-" + std::to_string(unix_millis / 1000);
}

Result<Credentials> ParseStsCredentials(std::string_view body, std::string_view action) {
  const std::string answer = std::string(action) + "Response";
  pugi::xml_document doc;
  if (!LoadXml(doc, body)) {
    return Fail(ErrorCode::kParse, "the STS answer to " + std::string(action) + " is not XML");
  }
  pugi::xml_node creds = doc.child(answer.c_str())
                             .child((std::string(action) + "Result").c_str())
                             .child("Credentials");
  if (!creds) {
    return Fail(ErrorCode::kParse, "the STS answer to " + std::string(action) + " has no " +
                                       answer + "/" + std::string(action) +
                                       "Result/Credentials element");
  }
  Credentials out;
  struct Field {
    const char* name;
    std::string* slot;
  };
  std::string expiration;
  for (const Field& f :
       {Field{"AccessKeyId", &out.access_key_id}, Field{"SecretAccessKey", &out.secret_access_key},
        Field{"SessionToken", &out.session_token}, Field{"Expiration", &expiration}}) {
    *f.slot = creds.child(f.name).text().as_string();
    if (f.slot->empty()) {
      return Fail(ErrorCode::kParse,
                  "the STS answer to " + std::string(action) + " has no Credentials/" + f.name);
    }
  }
  auto expires = ParseRfc3339(expiration);
  if (!expires) {
    return Fail(ErrorCode::kParse, "the STS answer to " + std::string(action) +
                                       " has an Expiration that is not an RFC 3339 time: " +
                                       expires.error().message());
  }
  out.expiration_ms = *expires;
  return out;
}

Error ClassifyStsError(long status, std::string_view body, const std::string& what) {
  std::string code;
  std::string message;
  pugi::xml_document doc;
  if (LoadXml(doc, body)) {
    pugi::xml_node error = doc.child("ErrorResponse").child("Error");
    if (!error) error = doc.child("Error");  // some front ends answer the bare element
    code = Printable(error.child("Code").text().as_string());
    message = Printable(error.child("Message").text().as_string());
  }
  std::string text = what + ": " + (code.empty() ? "HTTP " + std::to_string(status) : code);
  if (!message.empty()) text += ": " + message;
  if (IsOneOf(code, {"Throttling", "ThrottlingException", "RequestLimitExceeded"})) {
    return Error(ErrorCode::kThrottled, std::move(text));
  }
  if (IsOneOf(code, {"IDPCommunicationError", "InternalFailure", "ServiceUnavailable"})) {
    return Error(ErrorCode::kUnavailable, std::move(text));
  }
  if (IsOneOf(code, {"ExpiredToken", "ExpiredTokenException", "InvalidIdentityToken",
                     "IDPRejectedClaim", "AccessDenied", "InvalidClientTokenId",
                     "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken",
                     "RegionDisabledException", "InvalidAuthorizationMessageException"})) {
    return Error(ErrorCode::kAuth, std::move(text));
  }
  if (IsOneOf(code, {"MalformedPolicyDocument", "PackedPolicyTooLarge", "ValidationError",
                     "InvalidParameterValue"})) {
    return Error(ErrorCode::kInvalidArgument, std::move(text));
  }
  return ClassifyCredentialsAnswer(status, std::move(text));
}

StsClient::StsClient(std::string endpoint, std::string region,
                     std::shared_ptr<HttpTransport> transport, Clock* clock)
    : endpoint_(WithoutTrailingSlash(std::move(endpoint))),
      region_(std::move(region)),
      transport_(std::move(transport)),
      clock_(clock) {}

Result<Credentials> StsClient::AssumeRole(const AssumeRoleRequest& request,
                                          const Credentials& source) const {
  const std::string session = request.session_name.empty()
                                  ? DefaultRoleSessionName(clock_->UnixMillis())
                                  : request.session_name;
  return Call("STS AssumeRole of " + request.role_arn + " at " + endpoint_, "AssumeRole",
              FormBody("AssumeRole", request, session), &source, {});
}

Result<Credentials> StsClient::AssumeRoleWithWebIdentity(
    const AssumeRoleRequest& request, const std::string& web_identity_token) const {
  const std::string session = request.session_name.empty()
                                  ? DefaultRoleSessionName(clock_->UnixMillis())
                                  : request.session_name;
  AssumeRoleRequest no_external = request;
  no_external.external_id.clear();
  std::string body = FormBody("AssumeRoleWithWebIdentity", no_external, session);
  AddParam(body, "WebIdentityToken", web_identity_token);
  return Call("STS AssumeRoleWithWebIdentity of " + request.role_arn + " at " + endpoint_,
              "AssumeRoleWithWebIdentity", std::move(body), nullptr, web_identity_token);
}

Result<Credentials> StsClient::Call(const std::string& what, std::string_view action,
                                    std::string body, const Credentials* source,
                                    const std::string& secret) const {
  // A few quick attempts for a passing failure; the credentials cache backs
  // off between renewals that still fail.
  const RetryPolicy retry(RetryOptions{.max_attempts = 3,
                                       .base = std::chrono::milliseconds(200),
                                       .cap = std::chrono::milliseconds(2'000)},
                          clock_);
  return retry.Run(what, std::stop_token{}, [&]() -> Result<Credentials> {
    HttpRequest request;
    request.method = "POST";
    request.url = endpoint_ + "/";
    request.SetHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    request.SetHeader("Accept", "text/xml");
    request.body = body;
    request.max_response_bytes = kMaxStsAnswerBytes;
    std::vector<std::string_view> secrets = {secret};
    Result<HttpResponse> response;
    if (source != nullptr) {
      const SignedSender sender(SigningOptions{.region = region_, .service = "sts"},
                                &ClassifyStsError, transport_,
                                std::make_shared<StaticCredentialsProvider>(*source), clock_);
      response = sender.Send(what, request);
      secrets.push_back(source->secret_access_key);
      secrets.push_back(source->session_token);
    } else {
      response = transport_->Send(request);
      if (response && (response->status < 200 || response->status >= 300)) {
        return Fail(Tidy(ClassifyStsError(response->status, response->body, what), secrets));
      }
      if (!response) response = Fail(response.error().With(what));
    }
    if (!response) {
      return Fail(Tidy(response.error(), secrets));
    }
    auto credentials = ParseStsCredentials(response->body, action);
    if (!credentials) return Fail(credentials.error().With(what));
    return credentials;
  });
}

}  // namespace kc::aws
