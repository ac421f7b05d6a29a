#include "clients/s3/s3_client.h"

#include <pugixml.hpp>

#include <charconv>
#include <initializer_list>
#include <utility>

#include "clients/aws/endpoint.h"
#include "clients/aws/errors.h"
#include "clients/aws/sigv4.h"

namespace kc::aws {
namespace {

// Parses `body` as XML. pugixml reports problems through its result and
// never throws while parsing.
bool LoadXml(pugi::xml_document& doc, std::string_view body) {
  if (body.empty()) return false;
  pugi::xml_parse_result parsed =
      doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  return static_cast<bool>(parsed);
}

// The <Error> element of an S3 error document, or an empty node.
pugi::xml_node ErrorElement(const pugi::xml_document& doc) { return doc.child("Error"); }

bool IsErrorDocument(std::string_view body) {
  // Cheap test first: success documents of Complete are large only in
  // theory, but there is no reason to parse them twice.
  if (body.find("<Error") == std::string_view::npos) return false;
  pugi::xml_document doc;
  return LoadXml(doc, body) && ErrorElement(doc);
}

void AppendXmlEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
}

std::string ObjectName(const std::string& bucket, const std::string& key) {
  return key.empty() ? "s3://" + bucket : "s3://" + bucket + "/" + key;
}

// A bucket name that can be the first label of a host name: 3 to 63 of
// a-z 0-9 '-', not starting or ending with '-'. Names with dots are legal
// buckets but break TLS wildcard certificates, so they go path style.
bool DnsCompatibleBucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  if (bucket.front() == '-' || bucket.back() == '-') return false;
  for (char c : bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckPutOptions(const PutObjectOptions& options) {
  const std::string& sse = options.server_side_encryption;
  if (!sse.empty() && sse != "AES256" && sse != "aws:kms") {
    return Fail(ErrorCode::kInvalidArgument,
                "server-side encryption must be empty, \"AES256\" or \"aws:kms\"");
  }
  if (!options.kms_key_id.empty() && sse != "aws:kms") {
    return Fail(ErrorCode::kInvalidArgument,
                "a KMS key id needs server-side encryption \"aws:kms\"");
  }
  return Ok();
}

void AddObjectHeaders(HttpRequest& request, const PutObjectOptions& options) {
  if (!options.content_type.empty()) request.SetHeader("Content-Type", options.content_type);
  if (!options.content_encoding.empty()) {
    request.SetHeader("Content-Encoding", options.content_encoding);
  }
  if (!options.server_side_encryption.empty()) {
    request.SetHeader("x-amz-server-side-encryption", options.server_side_encryption);
  }
  if (!options.kms_key_id.empty()) {
    request.SetHeader("x-amz-server-side-encryption-aws-kms-key-id", options.kms_key_id);
  }
}

bool ParseUint(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// S3 signs its path exactly as sent (encoded once), and wants the payload's
// hash, which it checks, in x-amz-content-sha256.
SigningOptions S3Signing(const std::string& region) {
  SigningOptions signing;
  signing.region = region;
  signing.service = "s3";
  signing.double_uri_encode = false;
  signing.unsigned_payload = false;
  signing.add_content_sha256_header = true;
  return signing;
}

}  // namespace

Error ClassifyS3Error(long status, std::string_view body, const std::string& operation) {
  std::string code;
  std::string message;
  pugi::xml_document doc;
  if (LoadXml(doc, body)) {
    if (pugi::xml_node error = ErrorElement(doc)) {
      code = error.child_value("Code");
      message = error.child_value("Message");
    }
  }
  std::string text = operation + ": ";
  text += code.empty() ? "HTTP " + std::to_string(status)
                       : code + " (HTTP " + std::to_string(status) + ")";
  if (!message.empty()) text += ": " + message;

  if (IsOneOf(code, {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                     "TooManyRequestsException"})) {
    return Error(ErrorCode::kThrottled, text);
  }
  // RequestTimeout: S3 gave up reading a slow upload; sending it again works.
  // Also answers that mean the body did not arrive whole, or a conflicting
  // operation on the same object was under way: the same request may work.
  if (IsOneOf(code, {"InternalError", "ServiceUnavailable", "RequestTimeout", "OperationAborted",
                     "IncompleteBody", "XAmzContentSHA256Mismatch", "BadDigest"})) {
    return Error(ErrorCode::kUnavailable, text);
  }
  if (IsOneOf(code, {"NoSuchBucket", "NoSuchKey", "NoSuchUpload"})) {
    return Error(ErrorCode::kNotFound, text);
  }
  if (IsOneOf(code, {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
                     "InvalidToken", "TokenRefreshRequired"})) {
    return Error(ErrorCode::kAuth, text + std::string(kCredentialsHint));
  }
  if (!code.empty()) return Error(ErrorCode::kInvalidArgument, text);
  // No error document (a HEAD, a proxy, a load balancer): the status decides.
  return ClassifyByStatus(status, std::move(text));
}

S3Client::S3Client(S3Options options, std::shared_ptr<HttpTransport> transport,
                   std::shared_ptr<CredentialsProvider> credentials, RetryPolicy retry,
                   Clock* clock)
    : options_(std::move(options)),
      sender_(S3Signing(options_.region), ClassifyS3Error, std::move(transport),
              std::move(credentials), clock),
      retry_(retry) {}

Result<std::string> S3Client::ObjectUrl(const std::string& bucket, const std::string& key) const {
  if (bucket.empty()) return Fail(ErrorCode::kInvalidArgument, "the S3 bucket name is empty");
  auto endpoint = SplitUrl(options_.endpoint);
  if (!endpoint) {
    return Fail(ErrorCode::kConfig,
                "the S3 endpoint is not a URL of the form scheme://host[:port]");
  }
  std::string base_path = endpoint->path;
  while (base_path.ends_with('/')) base_path.pop_back();
  const std::string port = endpoint->port.empty() ? "" : ":" + endpoint->port;

  const bool path_style = options_.path_style || !DnsCompatibleBucket(bucket);
  std::string url = endpoint->scheme + "://";
  if (path_style) {
    url += endpoint->host + port + base_path + "/" + UriEncode(bucket);
  } else {
    url += bucket + "." + endpoint->host + port + base_path;
  }
  // An object is "/key" below the bucket. A bucket-level call (a listing)
  // addresses the bucket itself: "/bucket" path style, "/" virtual-hosted.
  if (!key.empty()) {
    url += "/" + UriEncode(key, /*encode_slash=*/false);
  } else if (!path_style) {
    url += "/";
  }
  return url;
}

Result<HttpRequest> S3Client::NewRequest(std::string method, const std::string& bucket,
                                         const std::string& key, std::string_view query) const {
  auto url = ObjectUrl(bucket, key);
  if (!url) return Fail(url.error());
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(*url);
  if (!query.empty()) {
    request.url += "?";
    request.url += query;
  }
  return request;
}

Result<HttpResponse> S3Client::ExecuteOnce(const std::string& what, HttpRequest& request,
                                           Expect expect) const {
  auto response = sender_.Send(what, request, expect.not_found_is_answer);
  if (!response) return response;
  // S3 may answer 200 and still fail, with an <Error> document as the body.
  const long status = response->status;
  if (expect.error_body_on_success && status >= 200 && status < 300 &&
      IsErrorDocument(response->body)) {
    return Fail(ClassifyS3Error(status, response->body, what));
  }
  return response;
}

Result<HttpResponse> S3Client::Execute(const std::string& what, HttpRequest request,
                                       std::stop_token stop, Expect expect) const {
  return retry_.Run(what, stop, [&] { return ExecuteOnce(what, request, expect); });
}

Status S3Client::PutObject(const std::string& bucket, const std::string& key, std::string body,
                           const PutObjectOptions& options, std::stop_token stop) const {
  const std::string what = "PutObject " + ObjectName(bucket, key);
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": the object key is empty");
  if (auto s = CheckPutOptions(options); !s) return Fail(s.error().With(what));
  auto request = NewRequest("PUT", bucket, key, "");
  if (!request) return Fail(request.error().With(what));
  request->body = std::move(body);
  AddObjectHeaders(*request, options);
  auto response = Execute(what, std::move(*request), stop, {});
  if (!response) return Fail(response.error());
  return Ok();
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& bucket,
                                                    const std::string& key,
                                                    const PutObjectOptions& options,
                                                    std::stop_token stop) const {
  const std::string what = "CreateMultipartUpload " + ObjectName(bucket, key);
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": the object key is empty");
  if (auto s = CheckPutOptions(options); !s) return Fail(s.error().With(what));
  auto request = NewRequest("POST", bucket, key, "uploads");
  if (!request) return Fail(request.error().With(what));
  AddObjectHeaders(*request, options);
  auto response = Execute(what, std::move(*request), stop, {});
  if (!response) return Fail(response.error());
  pugi::xml_document doc;
  if (!LoadXml(doc, response->body)) {
    return Fail(ErrorCode::kParse, what + ": the response is not XML");
  }
  std::string upload_id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (upload_id.empty()) {
    return Fail(ErrorCode::kParse, what + ": the response has no UploadId");
  }
  return upload_id;
}

Result<std::string> S3Client::UploadPart(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id, int part_number,
                                         std::string_view body, std::stop_token stop) const {
  const std::string what =
      "UploadPart " + ObjectName(bucket, key) + " part " + std::to_string(part_number);
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": the object key is empty");
  if (upload_id.empty())
    return Fail(ErrorCode::kInvalidArgument, what + ": the upload id is empty");
  if (part_number < 1 || part_number > kMaxParts) {
    return Fail(ErrorCode::kInvalidArgument, what + ": part numbers go from 1 to 10000");
  }
  auto request =
      NewRequest("PUT", bucket, key,
                 "partNumber=" + std::to_string(part_number) + "&uploadId=" + UriEncode(upload_id));
  if (!request) return Fail(request.error().With(what));
  request->body.assign(body);
  auto response = Execute(what, std::move(*request), stop, {});
  if (!response) return Fail(response.error());
  const std::string* etag = response->Header("ETag");
  if (etag == nullptr || etag->empty()) {
    return Fail(ErrorCode::kParse, what + ": the response has no ETag header");
  }
  return *etag;
}

Status S3Client::CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id,
                                         const std::vector<CompletedPart>& parts,
                                         std::stop_token stop) const {
  const std::string what = "CompleteMultipartUpload " + ObjectName(bucket, key);
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": the object key is empty");
  if (upload_id.empty())
    return Fail(ErrorCode::kInvalidArgument, what + ": the upload id is empty");
  if (parts.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": no parts to complete");
  if (parts.size() > static_cast<size_t>(kMaxParts)) {
    return Fail(ErrorCode::kInvalidArgument, what + ": more than 10000 parts");
  }
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  int previous = 0;
  for (const CompletedPart& part : parts) {
    // S3 refuses unordered lists (InvalidPartOrder); say so before the call.
    if (part.part_number <= previous || part.part_number > kMaxParts) {
      return Fail(ErrorCode::kInvalidArgument,
                  what + ": part numbers must be ascending, from 1 to 10000");
    }
    if (part.etag.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  what + ": part " + std::to_string(part.part_number) + " has no ETag");
    }
    previous = part.part_number;
    body += "<Part><PartNumber>" + std::to_string(part.part_number) + "</PartNumber><ETag>";
    AppendXmlEscaped(body, part.etag);
    body += "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";

  auto request = NewRequest("POST", bucket, key, "uploadId=" + UriEncode(upload_id));
  if (!request) return Fail(request.error().With(what));
  request->body = std::move(body);
  request->SetHeader("Content-Type", "application/xml");
  auto response = Execute(what, std::move(*request), stop, {.error_body_on_success = true});
  if (!response) return Fail(response.error());
  return Ok();
}

Status S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id, std::stop_token stop) const {
  const std::string what = "AbortMultipartUpload " + ObjectName(bucket, key);
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": the object key is empty");
  if (upload_id.empty())
    return Fail(ErrorCode::kInvalidArgument, what + ": the upload id is empty");
  auto request = NewRequest("DELETE", bucket, key, "uploadId=" + UriEncode(upload_id));
  if (!request) return Fail(request.error().With(what));
  auto response = Execute(what, std::move(*request), stop, {});
  if (!response) return Fail(response.error());
  return Ok();
}

Result<std::string> S3Client::GetObject(const std::string& bucket, const std::string& key,
                                        uint64_t max_bytes, std::stop_token stop) const {
  const std::string what = "GetObject " + ObjectName(bucket, key);
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": the object key is empty");
  auto request = NewRequest("GET", bucket, key, "");
  if (!request) return Fail(request.error().With(what));
  request->max_response_bytes = std::max<uint64_t>(1, max_bytes);
  auto response = Execute(what, std::move(*request), stop, {});
  if (!response) return Fail(response.error());
  return std::move(response->body);
}

Status S3Client::StreamObject(const std::string& bucket, const std::string& key, uint64_t max_bytes,
                              const std::function<Status(std::string_view)>& sink) const {
  const std::string what = "GetObject " + ObjectName(bucket, key);
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": the object key is empty");
  auto request = NewRequest("GET", bucket, key, "");
  if (!request) return Fail(request.error().With(what));
  request->max_response_bytes = std::max<uint64_t>(1, max_bytes);
  request->on_body = sink;
  auto response = ExecuteOnce(what, *request, {});
  if (!response) return Fail(response.error());
  return Ok();
}

Result<std::optional<ObjectInfo>> S3Client::HeadObject(const std::string& bucket,
                                                       const std::string& key,
                                                       std::stop_token stop) const {
  const std::string what = "HeadObject " + ObjectName(bucket, key);
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": the object key is empty");
  auto request = NewRequest("HEAD", bucket, key, "");
  if (!request) return Fail(request.error().With(what));
  auto response = Execute(what, std::move(*request), stop, {.not_found_is_answer = true});
  if (!response) return Fail(response.error());
  if (response->status == 404) return std::optional<ObjectInfo>();
  ObjectInfo info;
  info.key = key;
  const std::string* length = response->Header("Content-Length");
  if (length == nullptr || !ParseUint(*length, info.size)) {
    return Fail(ErrorCode::kParse, what + ": the response has no valid Content-Length");
  }
  if (const std::string* etag = response->Header("ETag")) info.etag = *etag;
  if (const std::string* modified = response->Header("Last-Modified")) {
    info.last_modified = *modified;
  }
  return std::optional<ObjectInfo>(std::move(info));
}

Status S3Client::HeadBucket(const std::string& bucket, std::stop_token stop) const {
  const std::string what = "HeadBucket " + bucket;
  auto request = NewRequest("HEAD", bucket, "", "");
  if (!request) return Fail(request.error().With(what));
  auto response = Execute(what, std::move(*request), stop, {});
  if (!response) return Fail(response.error());
  return Ok();
}

Result<ListObjectsPage> S3Client::ListObjectsV2(const std::string& bucket,
                                                const std::string& prefix,
                                                const std::string& continuation_token,
                                                std::stop_token stop, int max_keys) const {
  const std::string what = "ListObjectsV2 " + ObjectName(bucket, prefix);
  if (max_keys < 0) return Fail(ErrorCode::kInvalidArgument, what + ": max_keys is negative");
  std::string query = "list-type=2";
  if (!continuation_token.empty()) {
    query += "&continuation-token=" + UriEncode(continuation_token);
  }
  if (max_keys > 0) query += "&max-keys=" + std::to_string(max_keys);
  if (!prefix.empty()) query += "&prefix=" + UriEncode(prefix);
  auto request = NewRequest("GET", bucket, "", query);
  if (!request) return Fail(request.error().With(what));
  auto response = Execute(what, std::move(*request), stop, {});
  if (!response) return Fail(response.error());

  pugi::xml_document doc;
  if (!LoadXml(doc, response->body)) {
    return Fail(ErrorCode::kParse, what + ": the response is not XML");
  }
  pugi::xml_node result = doc.child("ListBucketResult");
  if (!result) return Fail(ErrorCode::kParse, what + ": the response has no ListBucketResult");
  ListObjectsPage page;
  for (pugi::xml_node item : result.children("Contents")) {
    ObjectInfo info;
    info.key = item.child_value("Key");
    if (!ParseUint(item.child_value("Size"), info.size)) {
      return Fail(ErrorCode::kParse, what + ": an entry has no valid Size");
    }
    info.etag = item.child_value("ETag");
    info.last_modified = item.child_value("LastModified");
    page.objects.push_back(std::move(info));
  }
  std::string_view truncated = result.child_value("IsTruncated");
  if (truncated == "true") {
    page.next_continuation_token = result.child_value("NextContinuationToken");
    if (page.next_continuation_token.empty()) {
      return Fail(ErrorCode::kParse,
                  what + ": the listing is truncated but has no NextContinuationToken");
    }
  }
  return page;
}

Result<std::vector<ObjectInfo>> S3Client::ListAllObjects(const std::string& bucket,
                                                         const std::string& prefix,
                                                         std::stop_token stop, int max_keys) const {
  std::vector<ObjectInfo> all;
  std::string token;
  for (;;) {
    auto page = ListObjectsV2(bucket, prefix, token, stop, max_keys);
    if (!page) return Fail(page.error());
    for (ObjectInfo& info : page->objects) all.push_back(std::move(info));
    if (page->next_continuation_token.empty()) return all;
    // A service that hands back the token it was given would loop forever.
    if (page->next_continuation_token == token) {
      return Fail(ErrorCode::kParse, "ListObjectsV2 " + ObjectName(bucket, prefix) +
                                         ": the service returned the same continuation token");
    }
    token = std::move(page->next_continuation_token);
  }
}

Status S3Client::DeleteObject(const std::string& bucket, const std::string& key,
                              std::stop_token stop) const {
  const std::string what = "DeleteObject " + ObjectName(bucket, key);
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, what + ": the object key is empty");
  auto request = NewRequest("DELETE", bucket, key, "");
  if (!request) return Fail(request.error().With(what));
  auto response = Execute(what, std::move(*request), stop, {});
  if (!response) return Fail(response.error());
  return Ok();
}

S3Client MakeS3Client(const AwsContext& context, RetryPolicy retry) {
  S3Options options;
  options.endpoint = ServiceEndpoint(context.config, "s3", context.region);
  options.region = context.region;
  options.path_style = context.config.endpoints.contains("s3") || !context.config.endpoint.empty();
  return S3Client(std::move(options), context.TransportFor("s3"), context.credentials, retry);
}

}  // namespace kc::aws
