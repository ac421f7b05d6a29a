// AWS Signature Version 4, header authentication: the Authorization header
// that every call to Kinesis, DynamoDB, S3 and STS carries.
//
// SignRequest is the one entry point clients need. The steps it is made of
// (canonical request, string to sign, signing key, signature) are exposed so
// that tests can check each one against AWS's worked examples and against
// an independent signer; nothing else should need them.
//
// Service quirks are options, not special cases keyed on the service name:
// S3 wants its path encoded once and not normalised, may sign the literal
// UNSIGNED-PAYLOAD instead of the body's hash, and expects the payload hash
// in an x-amz-content-sha256 header.
//
// Secrets never appear in an Error message: messages name the problem
// ("the secret access key is empty"), never a value.
//
// Thread-safety: all functions are pure apart from the request they are
// handed, and safe to call concurrently on different requests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "kc/status.h"

namespace kc::aws {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigningOptions {
  std::string region;   // e.g. "us-east-1"
  std::string service;  // the signing name, e.g. "kinesis", "dynamodb", "s3"
  // Encode the already encoded URL path once more, after removing "." and
  // ".." segments and empty segments. Every service but S3 wants this; S3
  // signs its path exactly as sent.
  bool double_uri_encode = true;
  // Sign the literal UNSIGNED-PAYLOAD instead of the body's SHA-256 (S3 over
  // TLS, for large uploads).
  bool unsigned_payload = false;
  // Send the payload hash in x-amz-content-sha256, as S3 requires.
  bool add_content_sha256_header = false;
};

// Signs `request` in place for `unix_millis` (a wall-clock time). Sets, each
// replacing any earlier value:
//   - Host, from the URL (host in lowercase, port only when not the scheme's
//     default), unless the request already has one;
//   - X-Amz-Date;
//   - X-Amz-Security-Token when `credentials` has a session token (and
//     removes a stale one when it has none), signed;
//   - x-amz-content-sha256 when `options.add_content_sha256_header`;
//   - Authorization.
// Signs every header of the request except Authorization and the ones that
// clients and proxies rewrite in flight (User-Agent, Expect, X-Amzn-Trace-Id).
// Re-signing a request (for a retry) is safe.
//
// REQUIRES: request.url is scheme://[userinfo@]host[:port][/path][?query]
// with path and query already URI-encoded (the HttpRequest contract), and
// request.method is the method as it will be sent (e.g. "GET").
Status SignRequest(HttpRequest& request, const Credentials& credentials,
                   const SigningOptions& options, int64_t unix_millis);

// ---------------------------------------------------------------------------
// The steps of SignRequest, for tests and diagnostics.

// "20150830T123600Z": the UTC instant, seconds precision.
std::string AmzDate(int64_t unix_millis);

// RFC 3986 percent-encoding: every byte except A-Z a-z 0-9 - _ . ~ becomes
// %XX (uppercase hex); '/' is kept when `encode_slash` is false. This is the
// encoding SigV4 canonicalises to, so build URL paths (an S3 key:
// encode_slash=false) and query parameters with it.
std::string UriEncode(std::string_view bytes, bool encode_slash = true);

// Decodes %XX escapes (either case). A '%' not followed by two hex digits is
// kept literally, and '+' stays '+' (RFC 3986, not HTML form encoding).
std::string UriDecode(std::string_view text);

// The parts of a request URL that signing reads.
struct UrlParts {
  std::string scheme;  // lowercase
  std::string host;    // lowercase; IPv6 literals keep their brackets
  std::string port;    // digits, empty when absent
  std::string path;    // as in the URL, still encoded; may be empty
  std::string query;   // after '?', before any '#'; still encoded
};
// Fails with kInvalidArgument when there is no scheme or no host, or the port
// is not a number. The message does not repeat the URL (it may carry
// userinfo).
Result<UrlParts> SplitUrl(std::string_view url);

// The Host header value for `url`: "host" or "host:port" when the port is
// not the scheme's default (80 for http, 443 for https).
std::string HostHeaderValue(const UrlParts& url);

// The canonical URI for the URL's encoded `path`. With `double_uri_encode`,
// "." and ".." segments and empty segments are removed and the result is
// encoded again; without it the path is used as it is. An empty path is "/".
std::string CanonicalUri(std::string_view path, bool double_uri_encode);

// The canonical query string for the URL's encoded `query`: each name and
// value decoded and re-encoded with UriEncode, "name=value" pairs sorted by
// name and then by value, joined by '&'. A parameter without '=' has an
// empty value; empty pieces ("a=1&&b=2") are skipped.
std::string CanonicalQueryString(std::string_view query);

struct CanonicalHeaders {
  std::string text;            // "name:value\n" per header, sorted by name
  std::string signed_headers;  // "name;name;..."
};
// Lowercases names, trims values and collapses runs of spaces and tabs into
// one space, joins the values of repeated names with ',' in request order,
// and leaves out Authorization, User-Agent, Expect and X-Amzn-Trace-Id.
CanonicalHeaders CanonicalizeHeaders(const std::vector<HttpHeader>& headers);

// The payload hash line of the canonical request: the request's
// x-amz-content-sha256 header when it has one (that is what the service
// compares), else UNSIGNED-PAYLOAD or the hex SHA-256 of the body.
std::string PayloadHash(const HttpRequest& request, const SigningOptions& options);

struct CanonicalRequest {
  std::string text;
  std::string signed_headers;
};
// The canonical request for `request` exactly as it stands: the headers that
// SignRequest adds (Host, X-Amz-Date, ...) must already be on it. Fails with
// kInvalidArgument for a URL SplitUrl refuses or an empty
// x-amz-content-sha256 header.
Result<CanonicalRequest> BuildCanonicalRequest(const HttpRequest& request,
                                               const SigningOptions& options);

// "20150830/us-east-1/iam/aws4_request". `date` is YYYYMMDD.
std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex SHA-256 of canonical_request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// The 32-byte signing key: HMAC chain over "AWS4" + secret, date, region,
// service and "aws4_request". Empty only when OpenSSL fails.
std::string DeriveSigningKey(std::string_view secret_access_key, std::string_view date,
                             std::string_view region, std::string_view service);

// Hex HMAC-SHA256 of `string_to_sign` under `signing_key`.
std::string SignatureHex(std::string_view signing_key, std::string_view string_to_sign);

}  // namespace kc::aws
