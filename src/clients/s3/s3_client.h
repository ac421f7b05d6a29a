// A small client for the Amazon S3 REST API: the object calls that the S3
// emitters and their tests need (put, multipart upload, get, head, list,
// delete), each one signed with SigV4 the way S3 wants it, retried with the
// shared RetryPolicy, and with S3's XML errors turned into Errors whose code
// the retry policy and callers understand.
//
// Addressing: virtual-hosted (https://bucket.s3.region.amazonaws.com/key) by
// default, as AWS recommends; path style (endpoint/bucket/key) when asked,
// which is what local stand-ins speak. A bucket name that cannot be a DNS
// label (dots, capitals, underscores) is always addressed path style, as the
// AWS SDKs do, because a TLS wildcard certificate does not cover it.
//
// Payloads are signed with their real SHA-256 in x-amz-content-sha256 (not
// UNSIGNED-PAYLOAD), so S3 itself rejects a body that was altered on the way
// (XAmzContentSHA256Mismatch) and no separate Content-MD5 is needed.
//
// Keys are sent as given, encoded once (UriEncode with '/' kept), so keys
// with spaces, '+', '%', unicode or repeated slashes name exactly that
// object. Listing does not ask for encoding-type=url, because not every
// stand-in implements it: keys with characters that XML 1.0 cannot carry
// (most control characters) cannot be listed through this client.
//
// Errors: every failure is an Error, nothing throws. Messages name the
// operation, the s3://bucket/key, S3's error Code and Message; they never
// contain credentials.
//
// Thread-safety: an S3Client is immutable after construction and safe for
// concurrent calls (given a thread-safe transport and credentials provider,
// which the HttpTransport and CredentialsProvider contracts require).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/retry.h"
#include "clients/aws/aws_context.h"
#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "clients/aws/signed_request.h"
#include "kc/clock.h"
#include "kc/status.h"

namespace kc::aws {

struct S3Options {
  std::string endpoint;  // e.g. "https://s3.us-east-1.amazonaws.com" or "http://127.0.0.1:4569"
  std::string region;    // signing region
  bool path_style = false;
};

struct PutObjectOptions {
  std::string content_type;      // empty: S3's default (binary/octet-stream)
  std::string content_encoding;  // e.g. "gzip"; empty: none
  // "" (the bucket's default), "AES256" (SSE-S3) or "aws:kms" (SSE-KMS).
  std::string server_side_encryption;
  // With "aws:kms" only: the key's id or ARN; empty for the account's
  // default key.
  std::string kms_key_id;
};

struct CompletedPart {
  int part_number = 0;
  std::string etag;  // as UploadPart returned it (with its quotes)
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  // As S3 sent it: RFC 3339 in listings, an HTTP date from HeadObject.
  std::string last_modified;
};

struct ListObjectsPage {
  std::vector<ObjectInfo> objects;
  // Empty on the last page; pass it to the next ListObjectsV2 call otherwise.
  std::string next_continuation_token;
};

class S3Client {
 public:
  // S3 refuses more parts than this in one multipart upload.
  static constexpr int kMaxParts = 10'000;

  S3Client(S3Options options, std::shared_ptr<HttpTransport> transport,
           std::shared_ptr<CredentialsProvider> credentials, RetryPolicy retry,
           Clock* clock = &Clock::Real());

  // Writes the whole object in one request (S3 allows up to 5 GiB).
  // Takes the body by value: callers that are done with it move it in, so
  // a body of up to 5 GiB is not copied.
  Status PutObject(const std::string& bucket, const std::string& key, std::string body,
                   const PutObjectOptions& options, std::stop_token stop = {}) const;
  // A copy of this client that retries with `retry` instead, e.g. a short
  // budget for clean-up calls made while shutting down.
  S3Client WithRetry(RetryPolicy retry) const {
    S3Client copy = *this;
    copy.retry_ = retry;
    return copy;
  }

  // Starts a multipart upload; returns its upload id. The object's headers
  // (content type, encoding, encryption) are given here, not per part.
  Result<std::string> CreateMultipartUpload(const std::string& bucket, const std::string& key,
                                            const PutObjectOptions& options,
                                            std::stop_token stop = {}) const;
  // Uploads part `part_number` (1..10000; every part but the last must be at
  // least 5 MiB); returns its ETag. Uploading a part number again replaces
  // that part, so retrying one part is safe.
  Result<std::string> UploadPart(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id, int part_number,
                                 std::string_view body, std::stop_token stop = {}) const;
  // Assembles the parts (in ascending part number order) into the object.
  // S3 may answer 200 and still fail, with an <Error> document as the body;
  // that is treated as the error it names (InternalError is retried). If a
  // retried call finds the upload already gone (kNotFound), an earlier
  // attempt may have completed it: callers can HeadObject to find out.
  Status CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id,
                                 const std::vector<CompletedPart>& parts,
                                 std::stop_token stop = {}) const;
  // Discards an unfinished upload and its parts. kNotFound when it is
  // already gone.
  Status AbortMultipartUpload(const std::string& bucket, const std::string& key,
                              const std::string& upload_id, std::stop_token stop = {}) const;

  // The object's bytes; an object longer than `max_bytes` is an error
  // (kParse) naming it, found before its body is read when S3 says its size.
  Result<std::string> GetObject(const std::string& bucket, const std::string& key,
                                uint64_t max_bytes, std::stop_token stop = {}) const;
  // The object's bytes handed to `sink` as they arrive, in one attempt: what
  // was handed on cannot be taken back, so the caller retries (a retriable
  // error says when). Longer than `max_bytes` is a kParse error naming it.
  Status StreamObject(const std::string& bucket, const std::string& key, uint64_t max_bytes,
                      const std::function<Status(std::string_view)>& sink) const;
  // The object's size, ETag and time, or nullopt when S3 answers 404 (a HEAD
  // response has no body, so a missing bucket also reads as nullopt).
  Result<std::optional<ObjectInfo>> HeadObject(const std::string& bucket, const std::string& key,
                                               std::stop_token stop = {}) const;

  // Whether the bucket is there and these credentials may reach it: Ok, or
  // kNotFound (404), kAuth (403), ... A HEAD has no body to say more.
  Status HeadBucket(const std::string& bucket, std::stop_token stop = {}) const;

  // One page of the keys under `prefix`, in key order. `continuation_token`
  // is empty for the first page. `max_keys` 0 leaves the page size to S3
  // (1000); a smaller number asks for smaller pages.
  Result<ListObjectsPage> ListObjectsV2(const std::string& bucket, const std::string& prefix,
                                        const std::string& continuation_token,
                                        std::stop_token stop = {}, int max_keys = 0) const;
  // Every key under `prefix`, following the pages.
  Result<std::vector<ObjectInfo>> ListAllObjects(const std::string& bucket,
                                                 const std::string& prefix,
                                                 std::stop_token stop = {}, int max_keys = 0) const;

  // Deletes the object. S3 answers success for a key that does not exist.
  Status DeleteObject(const std::string& bucket, const std::string& key,
                      std::stop_token stop = {}) const;

  // The URL of `key` in `bucket` (path and query as sent, without the query).
  // Exposed for tests and for messages.
  Result<std::string> ObjectUrl(const std::string& bucket, const std::string& key) const;

  const S3Options& options() const { return options_; }

 private:
  struct Expect {
    bool not_found_is_answer = false;    // return a 404 instead of failing
    bool error_body_on_success = false;  // a 2xx whose body is <Error> fails
  };
  Result<HttpResponse> Execute(const std::string& what, HttpRequest request, std::stop_token stop,
                               Expect expect) const;
  Result<HttpResponse> ExecuteOnce(const std::string& what, HttpRequest& request,
                                   Expect expect) const;
  Result<HttpRequest> NewRequest(std::string method, const std::string& bucket,
                                 const std::string& key, std::string_view query) const;

  S3Options options_;
  SignedSender sender_;
  RetryPolicy retry_;
};

// A client for the context's region and S3 endpoint. Path style when an
// endpoint override is configured (local stand-ins speak path style only),
// virtual-hosted otherwise.
S3Client MakeS3Client(const AwsContext& context, RetryPolicy retry = RetryPolicy());

// Maps an S3 error answer (HTTP status and the XML <Error> body, which may be
// empty, as for HEAD) to an Error whose code the retry policy understands.
// `operation` starts the message. Exposed for tests.
Error ClassifyS3Error(long status, std::string_view body, const std::string& operation);

}  // namespace kc::aws
