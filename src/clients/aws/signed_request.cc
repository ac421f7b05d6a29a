#include "clients/aws/signed_request.h"

#include <utility>
#include <vector>

#include "clients/aws/errors.h"

namespace kc::aws {
namespace {

// `e` with every occurrence of the request's secrets replaced by "***": the
// Authorization header and its signature, the session token and the secret
// key. A server may quote any of them back in an error answer.
Error Scrubbed(Error e, const HttpRequest& request, const Credentials* credentials) {
  std::vector<std::string_view> secrets;
  if (const std::string* auth = request.Header("Authorization")) {
    secrets.push_back(*auth);
    if (auto at = auth->find("Signature="); at != std::string::npos) {
      secrets.push_back(std::string_view(*auth).substr(at + 10));
    }
  }
  if (const std::string* token = request.Header("X-Amz-Security-Token")) {
    secrets.push_back(*token);
  }
  if (credentials != nullptr) {
    secrets.push_back(credentials->secret_access_key);
    secrets.push_back(credentials->session_token);
  }
  std::string message = RedactSecrets(e.message(), secrets);
  if (message == e.message()) return e;
  return Error(e.code(), std::move(message));
}

// An answer saying the request's session token has expired: ExpiredToken
// (S3, STS) or ExpiredTokenException (the JSON services), always a 400 or
// 403.
bool RefusedAsExpired(const HttpResponse& response) {
  if (response.status != 400 && response.status != 403) return false;
  const std::string_view body(response.body);
  return body.find("ExpiredToken") != std::string_view::npos;
}

}  // namespace

SignedSender::SignedSender(SigningOptions signing, ErrorClassifier classify,
                           std::shared_ptr<HttpTransport> transport,
                           std::shared_ptr<CredentialsProvider> credentials, Clock* clock)
    : signing_(std::move(signing)),
      classify_(classify),
      transport_(std::move(transport)),
      credentials_(std::move(credentials)),
      clock_(clock) {}

Result<HttpResponse> SignedSender::Send(const std::string& what, HttpRequest& request,
                                        bool not_found_is_answer) const {
  auto creds = credentials_->Get();
  if (!creds) {
    const Error& e = creds.error();
    std::string message = what + ": " + e.message();
    if (message.find(kCredentialsHint) == std::string::npos) message += kCredentialsHint;
    return Fail(e.code(), std::move(message));
  }
  if (auto s = SignRequest(request, *creds, signing_, clock_->UnixMillis()); !s) {
    return Fail(s.error().With(what));
  }
  auto response = transport_->Send(request);
  if (!response) return Fail(Scrubbed(response.error().With(what), request, &*creds));
  long status = response->status;
  if (RefusedAsExpired(*response) && !creds->session_token.empty()) {
    // Temporary credentials the service saw expire before the provider
    // expected (a clock off, a session revoked): renewed, and the call made
    // once more with the new ones.
    credentials_->Invalidate(*creds);
    auto renewed = credentials_->Get();
    if (renewed && (renewed->access_key_id != creds->access_key_id ||
                    renewed->session_token != creds->session_token)) {
      creds = std::move(renewed);
      if (auto s = SignRequest(request, *creds, signing_, clock_->UnixMillis()); !s) {
        return Fail(s.error().With(what));
      }
      response = transport_->Send(request);
      if (!response) return Fail(Scrubbed(response.error().With(what), request, &*creds));
      status = response->status;
    }
  }
  if ((status >= 200 && status < 300) || (status == 404 && not_found_is_answer)) {
    return response;
  }
  return Fail(Scrubbed(classify_(status, response->body, what), request, &*creds));
}

}  // namespace kc::aws
