// One signed AWS call, the part every service client shares: credentials,
// SigV4, the HTTP transport, and an error answer turned into a classified
// Error. The clients build the request (URL, headers, body) and read a
// successful answer; retrying is theirs too, with the retry policy around
// Send (a classified Error says whether it is worth another attempt).
//
// Errors start with the operation's name (`what`) and never contain the
// request's Authorization header, its signature, the session token or the
// secret key, even when a server echoes them back.
//
// Thread-safety: immutable after construction; Send may be called
// concurrently (on different requests).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "clients/aws/sigv4.h"
#include "kc/clock.h"
#include "kc/status.h"

namespace kc::aws {

// Reads a protocol's error answer (JSON `__type`, S3's XML <Error>) into an
// Error whose code the retry policy understands; `what` starts the message.
// ClassifyAwsError and ClassifyS3Error are the two.
using ErrorClassifier = Error (*)(long status, std::string_view body, const std::string& what);

class SignedSender {
 public:
  SignedSender(SigningOptions signing, ErrorClassifier classify,
               std::shared_ptr<HttpTransport> transport,
               std::shared_ptr<CredentialsProvider> credentials, Clock* clock = &Clock::Real());

  // Signs `request` in place (signing again replaces the date, payload hash
  // and signature, so a retry re-sends the same object without copying its
  // body) and sends it. Returns a 2xx answer, or a 404 when
  // `not_found_is_answer`. Fails, each message starting with `what`, with:
  // - the credentials' own error, with the credentials hint, before anything
  //   is sent;
  // - the transport's error (kConnection: retriable);
  // - the classified error answer (5xx and throttling retriable, 401/403
  //   kAuth with the credentials hint).
  Result<HttpResponse> Send(const std::string& what, HttpRequest& request,
                            bool not_found_is_answer = false) const;

  const SigningOptions& signing() const { return signing_; }

 private:
  SigningOptions signing_;
  ErrorClassifier classify_;
  std::shared_ptr<HttpTransport> transport_;
  std::shared_ptr<CredentialsProvider> credentials_;
  Clock* clock_;
};

}  // namespace kc::aws
