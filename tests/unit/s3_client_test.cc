// The S3 client against a scripted transport: the requests it builds (method,
// URL in both addressing styles, encoded keys, multipart query strings,
// headers, S3-style signatures), how it reads S3's XML answers, and which
// errors it retries.
#include "clients/s3/s3_client.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "clients/aws/crypto.h"
#include "clients/aws/sigv4.h"
#include "support/fake_clock.h"
#include "support/scripted_transport.h"

namespace kc::aws {
namespace {

// No object a test reads comes near this.
constexpr uint64_t kAnySize = 1ull << 30;

using namespace std::chrono_literals;

constexpr char kSecret[] = "s3-unit-secret-do-not-print";

using testing::ScriptedTransport;

std::string ErrorXml(std::string_view code, std::string_view message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
         "</Code><Message>" + std::string(message) +
         "</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>";
}

class S3ClientTest : public ::testing::Test {
 protected:
  S3Client Client(std::string endpoint = "http://127.0.0.1:4569", bool path_style = true,
                  int max_attempts = 4) {
    S3Options options;
    options.endpoint = std::move(endpoint);
    options.region = "us-east-1";
    options.path_style = path_style;
    return S3Client(
        options, transport_, credentials_,
        RetryPolicy(RetryOptions{.max_attempts = max_attempts, .base = 10ms, .cap = 100ms},
                    &clock_),
        &clock_);
  }

  std::shared_ptr<ScriptedTransport> transport_ = std::make_shared<ScriptedTransport>();
  std::shared_ptr<CredentialsProvider> credentials_ =
      std::make_shared<StaticCredentialsProvider>(Credentials{"AKIDEXAMPLE", kSecret, ""});
  testing::FakeClock clock_;
};

SigningOptions S3Signing() {
  SigningOptions signing;
  signing.region = "us-east-1";
  signing.service = "s3";
  signing.double_uri_encode = false;
  signing.add_content_sha256_header = true;
  return signing;
}

// The Authorization header SignRequest gives `request` (as sent, minus its
// signature) under `signing`, at the fake clock's time.
std::string Resign(HttpRequest request, const SigningOptions& signing, int64_t unix_millis) {
  std::erase_if(request.headers, [](const HttpHeader& h) { return h.name == "Authorization"; });
  auto s = SignRequest(request, Credentials{"AKIDEXAMPLE", kSecret, ""}, signing, unix_millis);
  EXPECT_TRUE(s.has_value());
  return *request.Header("Authorization");
}

// ------------------------------------------------------------ request shapes

TEST_F(S3ClientTest, PutObjectPathStyleEncodesTheKeyOnceAndSignsThePayload) {
  S3Client client = Client();
  const std::string body("binary\0body\xff", 12);
  ASSERT_TRUE(client.PutObject("kc-bucket", "raw/2024/a b+c%d/\xC3\xBC~x.txt", body, {}));

  HttpRequest sent = transport_->last();
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.url, "http://127.0.0.1:4569/kc-bucket/raw/2024/a%20b%2Bc%25d/%C3%BC~x.txt");
  EXPECT_EQ(sent.body, body);
  ASSERT_NE(sent.Header("x-amz-content-sha256"), nullptr);
  EXPECT_EQ(*sent.Header("x-amz-content-sha256"), HexLower(Sha256(body)));
  EXPECT_EQ(sent.Header("Content-Type"), nullptr);  // S3 picks its default
  ASSERT_NE(sent.Header("Authorization"), nullptr);
  const std::string& auth = *sent.Header("Authorization");
  EXPECT_TRUE(
      auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/s3/"
                       "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "))
      << auth;
  EXPECT_EQ(auth.find(kSecret), std::string::npos);

  // Signed as S3 wants it: the path exactly as sent. Encoding it twice (as
  // for every other service) gives a different signature.
  EXPECT_EQ(auth, Resign(sent, S3Signing(), clock_.UnixMillis()));
  SigningOptions doubled = S3Signing();
  doubled.double_uri_encode = true;
  EXPECT_NE(auth, Resign(sent, doubled, clock_.UnixMillis()));
  auto canonical = BuildCanonicalRequest(sent, S3Signing());
  ASSERT_TRUE(canonical);
  EXPECT_NE(canonical->text.find("\n/kc-bucket/raw/2024/a%20b%2Bc%25d/%C3%BC~x.txt\n"),
            std::string::npos)
      << canonical->text;
}

TEST_F(S3ClientTest, RepeatedAndLeadingSlashesInKeysAreKept) {
  S3Client client = Client();
  ASSERT_TRUE(client.PutObject("kc-bucket", "/a//b/", "x", {}));
  EXPECT_EQ(transport_->last().url, "http://127.0.0.1:4569/kc-bucket//a//b/");
}

TEST_F(S3ClientTest, VirtualHostedAddressingPutsTheBucketInTheHost) {
  S3Client client = Client("https://s3.eu-west-1.amazonaws.com", /*path_style=*/false);
  ASSERT_TRUE(client.GetObject("kc-bucket", "k/v w", kAnySize));
  HttpRequest sent = transport_->last();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.url, "https://kc-bucket.s3.eu-west-1.amazonaws.com/k/v%20w");
  ASSERT_NE(sent.Header("Host"), nullptr);
  EXPECT_EQ(*sent.Header("Host"), "kc-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(*sent.Header("x-amz-content-sha256"), HexLower(Sha256("")));

  // A listing addresses the bucket's root.
  transport_->Answer(200, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(client.ListObjectsV2("kc-bucket", "", ""));
  EXPECT_EQ(transport_->last().url, "https://kc-bucket.s3.eu-west-1.amazonaws.com/?list-type=2");
}

TEST_F(S3ClientTest, BucketsThatCannotBeHostLabelsGoPathStyle) {
  S3Client client = Client("https://s3.us-east-1.amazonaws.com", /*path_style=*/false);
  ASSERT_TRUE(client.DeleteObject("my.dotted.bucket", "k"));
  EXPECT_EQ(transport_->last().method, "DELETE");
  EXPECT_EQ(transport_->last().url, "https://s3.us-east-1.amazonaws.com/my.dotted.bucket/k");
}

TEST_F(S3ClientTest, EndpointPortAndBasePathAreKept) {
  S3Client client = Client("http://localhost:9000/base/", /*path_style=*/false);
  ASSERT_TRUE(client.DeleteObject("kc-bucket", "k"));
  EXPECT_EQ(transport_->last().url, "http://kc-bucket.localhost:9000/base/k");
  EXPECT_EQ(*transport_->last().Header("Host"), "kc-bucket.localhost:9000");
}

TEST_F(S3ClientTest, PutObjectSendsContentAndEncryptionHeaders) {
  S3Client client = Client();
  PutObjectOptions options;
  options.content_type = "application/x-ndjson";
  options.content_encoding = "gzip";
  options.server_side_encryption = "aws:kms";
  options.kms_key_id = "arn:aws:kms:us-east-1:111122223333:key/abc";
  ASSERT_TRUE(client.PutObject("kc-bucket", "k.gz", "data", options));
  HttpRequest sent = transport_->last();
  EXPECT_EQ(*sent.Header("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(*sent.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(*sent.Header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(*sent.Header("x-amz-server-side-encryption-aws-kms-key-id"),
            "arn:aws:kms:us-east-1:111122223333:key/abc");
  // Every x-amz-* header is signed.
  EXPECT_NE(sent.Header("Authorization")
                ->find("SignedHeaders=content-encoding;content-type;host;x-amz-content-sha256;"
                       "x-amz-date;x-amz-server-side-encryption;"
                       "x-amz-server-side-encryption-aws-kms-key-id,"),
            std::string::npos)
      << *sent.Header("Authorization");

  options = {};
  options.server_side_encryption = "AES256";
  ASSERT_TRUE(client.PutObject("kc-bucket", "k", "data", options));
  EXPECT_EQ(*transport_->last().Header("x-amz-server-side-encryption"), "AES256");
  EXPECT_EQ(transport_->last().Header("x-amz-server-side-encryption-aws-kms-key-id"), nullptr);
}

TEST_F(S3ClientTest, BadArgumentsFailBeforeAnyRequest) {
  S3Client client = Client();
  PutObjectOptions bad_sse;
  bad_sse.server_side_encryption = "DES";
  PutObjectOptions key_without_kms;
  key_without_kms.kms_key_id = "k";
  EXPECT_EQ(client.PutObject("b", "k", "x", bad_sse).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.PutObject("b", "k", "x", key_without_kms).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.PutObject("", "k", "x", {}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.PutObject("b", "", "x", {}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.UploadPart("b", "k", "id", 0, "x").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.UploadPart("b", "k", "id", 10'001, "x").error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.CompleteMultipartUpload("b", "k", "id", {}).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      client.CompleteMultipartUpload("b", "k", "id", {{2, "\"a\""}, {1, "\"b\""}}).error().code(),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.ListObjectsV2("b", "", "", {}, -1).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(transport_->requests().empty());

  S3Client no_url = Client("not a url");
  EXPECT_EQ(no_url.GetObject("b", "k", kAnySize).error().code(), ErrorCode::kConfig);
}

// ----------------------------------------------------------------- multipart

TEST_F(S3ClientTest, MultipartUploadRequestsAndAnswers) {
  S3Client client = Client();
  PutObjectOptions options;
  options.content_type = "text/plain";
  options.server_side_encryption = "AES256";
  transport_->Answer(200,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<InitiateMultipartUploadResult "
                     "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>kc-bucket</"
                     "Bucket><Key>big object</Key><UploadId>VXBsb2Fk+/SUQ=</UploadId>"
                     "</InitiateMultipartUploadResult>");
  auto upload_id = client.CreateMultipartUpload("kc-bucket", "big object", options);
  ASSERT_TRUE(upload_id) << upload_id.error().ToString();
  EXPECT_EQ(*upload_id, "VXBsb2Fk+/SUQ=");
  HttpRequest create = transport_->last();
  EXPECT_EQ(create.method, "POST");
  EXPECT_EQ(create.url, "http://127.0.0.1:4569/kc-bucket/big%20object?uploads");
  EXPECT_EQ(*create.Header("Content-Type"), "text/plain");
  EXPECT_EQ(*create.Header("x-amz-server-side-encryption"), "AES256");
  auto canonical = BuildCanonicalRequest(create, S3Signing());
  ASSERT_TRUE(canonical);
  EXPECT_NE(canonical->text.find("\nuploads=\n"), std::string::npos) << canonical->text;

  transport_->Answer(200, "", {{"ETag", "\"a54357aff0632cce46d942af68356b38\""}});
  auto etag = client.UploadPart("kc-bucket", "big object", *upload_id, 2, "part two");
  ASSERT_TRUE(etag) << etag.error().ToString();
  EXPECT_EQ(*etag, "\"a54357aff0632cce46d942af68356b38\"");
  HttpRequest part = transport_->last();
  EXPECT_EQ(part.method, "PUT");
  EXPECT_EQ(
      part.url,
      "http://127.0.0.1:4569/kc-bucket/big%20object?partNumber=2&uploadId=VXBsb2Fk%2B%2FSUQ%3D");
  EXPECT_EQ(part.body, "part two");
  EXPECT_EQ(*part.Header("x-amz-content-sha256"), HexLower(Sha256("part two")));
  EXPECT_EQ(part.Header("x-amz-server-side-encryption"), nullptr);  // only on Create

  transport_->Answer(200,
                     "<CompleteMultipartUploadResult><Location>x</Location><Bucket>kc-bucket</"
                     "Bucket><Key>big object</Key><ETag>\"3858f62230ac3c915f300c664312c11f-2\"</"
                     "ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(client.CompleteMultipartUpload("kc-bucket", "big object", *upload_id,
                                             {{1, "\"e1\""}, {2, *etag}}));
  HttpRequest complete = transport_->last();
  EXPECT_EQ(complete.method, "POST");
  EXPECT_EQ(complete.url,
            "http://127.0.0.1:4569/kc-bucket/big%20object?uploadId=VXBsb2Fk%2B%2FSUQ%3D");
  EXPECT_NE(
      complete.body.find("<CompleteMultipartUpload "
                         "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>"
                         "1</PartNumber><ETag>&quot;e1&quot;</ETag></Part><Part><PartNumber>2<"
                         "/PartNumber><ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</"
                         "ETag></Part></CompleteMultipartUpload>"),
      std::string::npos)
      << complete.body;
  EXPECT_EQ(*complete.Header("x-amz-content-sha256"), HexLower(Sha256(complete.body)));
}

TEST_F(S3ClientTest, CreateMultipartUploadWithoutUploadIdIsAParseError) {
  S3Client client = Client();
  transport_->Answer(200, "<InitiateMultipartUploadResult/>");
  EXPECT_EQ(client.CreateMultipartUpload("b", "k", {}).error().code(), ErrorCode::kParse);
  transport_->Answer(200, "not xml");
  EXPECT_EQ(client.CreateMultipartUpload("b", "k", {}).error().code(), ErrorCode::kParse);
}

TEST_F(S3ClientTest, UploadPartWithoutETagIsAParseError) {
  S3Client client = Client();
  transport_->Answer(200);
  EXPECT_EQ(client.UploadPart("b", "k", "id", 1, "x").error().code(), ErrorCode::kParse);
}

TEST_F(S3ClientTest, CompleteAnswering200WithAnErrorDocumentFailsAndIsRetriedWhenRetriable) {
  S3Client client = Client();
  transport_->Answer(200, ErrorXml("InternalError", "We encountered an internal error."));
  transport_->Answer(200,
                     "<CompleteMultipartUploadResult><ETag>\"x-1\"</ETag>"
                     "</CompleteMultipartUploadResult>");
  ASSERT_TRUE(client.CompleteMultipartUpload("b", "k", "id", {{1, "\"e\""}}));
  EXPECT_EQ(transport_->requests().size(), 2u);

  transport_->Answer(200, ErrorXml("InvalidPart",
                                   "One or more of the specified parts could not "
                                   "be found."));
  auto failed = client.CompleteMultipartUpload("b", "k", "id", {{1, "\"e\""}});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(failed.error().message().find("InvalidPart"), std::string::npos);
  EXPECT_NE(failed.error().message().find("could not be found"), std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 3u);  // not retried
}

TEST_F(S3ClientTest, AbortMultipartUploadRequestShape) {
  S3Client client = Client();
  transport_->Answer(204);
  ASSERT_TRUE(client.AbortMultipartUpload("kc-bucket", "dir/obj", "id/with+chars"));
  HttpRequest sent = transport_->last();
  EXPECT_EQ(sent.method, "DELETE");
  EXPECT_EQ(sent.url, "http://127.0.0.1:4569/kc-bucket/dir/obj?uploadId=id%2Fwith%2Bchars");
  EXPECT_TRUE(sent.body.empty());
  EXPECT_EQ(*sent.Header("x-amz-content-sha256"), HexLower(Sha256("")));
  EXPECT_EQ(*sent.Header("Authorization"), Resign(sent, S3Signing(), clock_.UnixMillis()));

  transport_->Answer(404, ErrorXml("NoSuchUpload", "The specified upload does not exist."));
  auto gone = client.AbortMultipartUpload("kc-bucket", "dir/obj", "id");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(gone.error().message().find("AbortMultipartUpload s3://kc-bucket/dir/obj"),
            std::string::npos)
      << gone.error().message();
}

// -------------------------------------------------------------- read, list

TEST_F(S3ClientTest, GetObjectReturnsTheBytes) {
  S3Client client = Client();
  const std::string bytes("\0\x01\x02\xfe\xff", 5);
  transport_->Answer(200, bytes);
  auto got = client.GetObject("b", "k", kAnySize);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, bytes);

  transport_->Answer(404, ErrorXml("NoSuchKey", "The specified key does not exist."));
  auto missing = client.GetObject("b", "nope", kAnySize);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("NoSuchKey"), std::string::npos);
}

TEST_F(S3ClientTest, HeadObjectReadsHeadersAndMapsNotFoundToNullopt) {
  S3Client client = Client();
  transport_->Answer(200, "",
                     {{"Content-Length", "12582912"},
                      {"ETag", "\"abc-3\""},
                      {"Last-Modified", "Wed, 01 Mar 2023 12:00:00 GMT"}});
  auto info = client.HeadObject("b", "k");
  ASSERT_TRUE(info) << info.error().ToString();
  ASSERT_TRUE(info->has_value());
  EXPECT_EQ((*info)->key, "k");
  EXPECT_EQ((*info)->size, 12582912u);
  EXPECT_EQ((*info)->etag, "\"abc-3\"");
  EXPECT_EQ((*info)->last_modified, "Wed, 01 Mar 2023 12:00:00 GMT");
  EXPECT_EQ(transport_->last().method, "HEAD");

  transport_->Answer(404);
  auto missing = client.HeadObject("b", "k");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  transport_->Answer(403);
  auto denied = client.HeadObject("b", "k");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), ErrorCode::kAuth);
}

TEST_F(S3ClientTest, HeadBucketAsksTheBucketAndMapsStatusesToCodes) {
  S3Client client = Client();
  transport_->Answer(200);
  ASSERT_TRUE(client.HeadBucket("kc-bucket"));
  EXPECT_EQ(transport_->last().method, "HEAD");
  EXPECT_EQ(transport_->last().url, "http://127.0.0.1:4569/kc-bucket");

  transport_->Answer(404);
  auto missing = client.HeadBucket("kc-bucket");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("HeadBucket kc-bucket"), std::string::npos);

  transport_->Answer(403);
  auto denied = client.HeadBucket("kc-bucket");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), ErrorCode::kAuth);
}

constexpr char kPage1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>kc-bucket</Name><Prefix>raw/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "<Contents><Key>raw/a &amp; b</Key><LastModified>2023-03-01T12:00:00.000Z</LastModified>"
    "<ETag>&quot;e1&quot;</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>raw/\xC3\xBC</Key><LastModified>2023-03-01T12:00:01.000Z</LastModified>"
    "<ETag>\"e2\"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "</ListBucketResult>";
constexpr char kPage2[] =
    "<ListBucketResult><Name>kc-bucket</Name><IsTruncated>false</IsTruncated>"
    "<Contents><Key>raw/z</Key><ETag>\"e3\"</ETag><Size>5368709120</Size></Contents>"
    "</ListBucketResult>";

TEST_F(S3ClientTest, ListObjectsV2ParsesAPage) {
  S3Client client = Client();
  transport_->Answer(200, kPage1);
  auto page = client.ListObjectsV2("kc-bucket", "raw/", "", {}, 2);
  ASSERT_TRUE(page) << page.error().ToString();
  EXPECT_EQ(transport_->last().method, "GET");
  EXPECT_EQ(transport_->last().url,
            "http://127.0.0.1:4569/kc-bucket?list-type=2&max-keys=2&prefix=raw%2F");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "raw/a & b");
  EXPECT_EQ(page->objects[0].size, 10u);
  EXPECT_EQ(page->objects[0].etag, "\"e1\"");
  EXPECT_EQ(page->objects[0].last_modified, "2023-03-01T12:00:00.000Z");
  EXPECT_EQ(page->objects[1].key, "raw/\xC3\xBC");
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST_F(S3ClientTest, ListAllObjectsFollowsContinuationTokens) {
  S3Client client = Client();
  transport_->Answer(200, kPage1);
  transport_->Answer(200, kPage2);
  auto all = client.ListAllObjects("kc-bucket", "raw/", {}, 2);
  ASSERT_TRUE(all) << all.error().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].key, "raw/z");
  EXPECT_EQ((*all)[2].size, 5368709120u);
  auto sent = transport_->requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].url,
            "http://127.0.0.1:4569/kc-bucket?list-type=2&continuation-token="
            "1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D&max-keys=2&prefix=raw%2F");
  // The signed query is the canonical one, sorted by name.
  auto canonical = BuildCanonicalRequest(sent[1], S3Signing());
  ASSERT_TRUE(canonical);
  EXPECT_NE(canonical->text.find("\ncontinuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%"
                                 "2Fwm36Hy4vbOwM%3D&list-type=2&max-keys=2&prefix=raw%2F\n"),
            std::string::npos)
      << canonical->text;
}

TEST_F(S3ClientTest, ListingProblemsAreParseErrors) {
  S3Client client = Client();
  transport_->Answer(200, "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  EXPECT_EQ(client.ListObjectsV2("b", "", "").error().code(), ErrorCode::kParse);
  transport_->Answer(200, "<Other/>");
  EXPECT_EQ(client.ListObjectsV2("b", "", "").error().code(), ErrorCode::kParse);
  transport_->Answer(200,
                     "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents>"
                     "</ListBucketResult>");
  EXPECT_EQ(client.ListObjectsV2("b", "", "").error().code(), ErrorCode::kParse);
  // A service that keeps answering with the token it was given.
  const std::string loop =
      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t"
      "</NextContinuationToken></ListBucketResult>";
  transport_->Answer(200, loop);
  transport_->Answer(200, loop);
  EXPECT_EQ(client.ListAllObjects("b", "").error().code(), ErrorCode::kParse);
}

// ---------------------------------------------------- classification, retry

TEST(ClassifyS3Error, MapsCodesAndStatuses) {
  struct Case {
    long status;
    std::string code;
    ErrorCode want;
  };
  const std::vector<Case> cases = {
      {503, "SlowDown", ErrorCode::kThrottled},
      {503, "", ErrorCode::kThrottled},
      {429, "", ErrorCode::kThrottled},
      {500, "InternalError", ErrorCode::kUnavailable},
      {503, "ServiceUnavailable", ErrorCode::kUnavailable},
      {200, "InternalError", ErrorCode::kUnavailable},
      {500, "", ErrorCode::kUnavailable},
      {502, "", ErrorCode::kUnavailable},
      {504, "", ErrorCode::kUnavailable},
      {400, "RequestTimeout", ErrorCode::kUnavailable},
      {404, "NoSuchBucket", ErrorCode::kNotFound},
      {404, "NoSuchKey", ErrorCode::kNotFound},
      {404, "NoSuchUpload", ErrorCode::kNotFound},
      {404, "", ErrorCode::kNotFound},
      {403, "AccessDenied", ErrorCode::kAuth},
      {403, "InvalidAccessKeyId", ErrorCode::kAuth},
      {403, "SignatureDoesNotMatch", ErrorCode::kAuth},
      {400, "ExpiredToken", ErrorCode::kAuth},
      {403, "", ErrorCode::kAuth},
      {400, "InvalidPart", ErrorCode::kInvalidArgument},
      {400, "EntityTooSmall", ErrorCode::kInvalidArgument},
      {301, "PermanentRedirect", ErrorCode::kInvalidArgument},
      {400, "", ErrorCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    std::string body = c.code.empty() ? "" : ErrorXml(c.code, "the message");
    Error e = ClassifyS3Error(c.status, body, "Op s3://b/k");
    EXPECT_EQ(e.code(), c.want) << c.status << " " << c.code << ": " << e.ToString();
    EXPECT_TRUE(e.message().starts_with("Op s3://b/k: ")) << e.message();
    if (!c.code.empty()) {
      EXPECT_NE(e.message().find(c.code), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("the message"), std::string::npos) << e.message();
    } else {
      EXPECT_NE(e.message().find("HTTP " + std::to_string(c.status)), std::string::npos);
    }
  }
}

TEST(ClassifyS3Error, AuthErrorsPointAtCredentialsAndRegion) {
  Error e = ClassifyS3Error(403,
                            ErrorXml("SignatureDoesNotMatch",
                                     "The request signature we "
                                     "calculated does not match"),
                            "PutObject s3://b/k");
  EXPECT_EQ(e.code(), ErrorCode::kAuth);
  EXPECT_NE(e.message().find("check the credentials and the region"), std::string::npos);
}

TEST(ClassifyS3Error, NonXmlBodiesFallBackToTheStatus) {
  EXPECT_EQ(ClassifyS3Error(502, "<html>Bad Gateway</html>", "Op").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(ClassifyS3Error(400, "<Error><Code>", "Op").code(), ErrorCode::kInvalidArgument);
}

TEST_F(S3ClientTest, RetriesThrottlingServerErrorsAndDroppedConnections) {
  S3Client client = Client("http://127.0.0.1:4569", true, /*max_attempts=*/5);
  transport_->Answer(503, ErrorXml("SlowDown", "Please reduce your request rate."));
  transport_->Answer(500, ErrorXml("InternalError", "We encountered an internal error."));
  transport_->Drop();
  transport_->Answer(502);
  transport_->Answer(200);
  ASSERT_TRUE(client.PutObject("b", "k", "body", {}));
  auto sent = transport_->requests();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(clock_.sleeps().size(), 4u);
  for (const HttpRequest& r : sent) {
    EXPECT_EQ(r.body, "body");  // every attempt carries the whole body
    EXPECT_EQ(*r.Header("x-amz-content-sha256"), HexLower(Sha256("body")));
  }
  // The last attempt was signed afresh, for its own time.
  EXPECT_EQ(*sent[4].Header("Authorization"), Resign(sent[4], S3Signing(), clock_.UnixMillis()));
}

TEST_F(S3ClientTest, DoesNotRetryPermanentErrors) {
  S3Client client = Client();
  for (auto [status, code] : std::vector<std::pair<long, std::string>>{
           {404, "NoSuchKey"}, {403, "AccessDenied"}, {400, "InvalidArgument"}}) {
    transport_->Answer(status, ErrorXml(code, "m"));
    ASSERT_FALSE(client.GetObject("b", "k", kAnySize));
  }
  EXPECT_EQ(transport_->requests().size(), 3u);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(S3ClientTest, GivesUpAfterTheAttemptBudget) {
  S3Client client = Client("http://127.0.0.1:4569", true, /*max_attempts=*/3);
  for (int i = 0; i < 5; ++i) transport_->Answer(503, ErrorXml("SlowDown", "slow"));
  auto r = client.DeleteObject("b", "k");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kThrottled);
  EXPECT_NE(r.error().message().find("after 3 attempts"), std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 3u);
}

TEST_F(S3ClientTest, StopsRetryingOnShutdown) {
  S3Client client = Client();
  transport_->Answer(503);
  std::stop_source stop;
  stop.request_stop();
  auto r = client.GetObject("b", "k", kAnySize, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
}

TEST_F(S3ClientTest, ErrorsNeverContainTheSecret) {
  S3Client client = Client();
  transport_->Answer(403, ErrorXml("SignatureDoesNotMatch",
                                   "The request signature we calculated "
                                   "does not match"));
  auto r = client.PutObject("b", "k", "x", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kAuth);
  EXPECT_EQ(r.error().message().find(kSecret), std::string::npos);
}

// ------------------------------------------------------------------ factory

TEST(MakeS3Client, PathStyleOnlyWithAnEndpointOverride) {
  AwsContext context;
  context.region = "eu-central-1";
  context.transport = std::make_shared<ScriptedTransport>();
  context.credentials = std::make_shared<StaticCredentialsProvider>(Credentials{"a", "b", ""});

  S3Client aws = MakeS3Client(context);
  EXPECT_EQ(aws.options().endpoint, "https://s3.eu-central-1.amazonaws.com");
  EXPECT_FALSE(aws.options().path_style);
  EXPECT_EQ(*aws.ObjectUrl("kc-bucket", "k"), "https://kc-bucket.s3.eu-central-1.amazonaws.com/k");

  context.config.endpoint = "http://127.0.0.1:4567";
  EXPECT_TRUE(MakeS3Client(context).options().path_style);

  context.config.endpoint.clear();
  context.config.endpoints["s3"] = "http://127.0.0.1:4569";
  S3Client local = MakeS3Client(context);
  EXPECT_TRUE(local.options().path_style);
  EXPECT_EQ(local.options().region, "eu-central-1");
  EXPECT_EQ(*local.ObjectUrl("kc-bucket", "k"), "http://127.0.0.1:4569/kc-bucket/k");
}

}  // namespace
}  // namespace kc::aws
