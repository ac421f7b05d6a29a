// SigV4 against fixed figures: the worked examples in AWS's documentation
// (IAM ListUsers, the S3 GET Object example), cases in the shape of AWS's
// SigV4 test suite, and Kinesis/STS/S3 requests whose expected signatures
// were computed independently with botocore. sigv4_crosscheck.py compares
// against botocore over many generated requests as well.
#include "clients/aws/sigv4.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "clients/aws/crypto.h"

namespace kc::aws {
namespace {

constexpr int64_t k20150830T123600Z = 1440938160000;
constexpr char kExampleKeyId[] = "AKIDEXAMPLE";
constexpr char kExampleSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
// The key pair of the S3 and other service documentation examples.
constexpr char kDocKeyId[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kDocSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

HttpRequest MakeRequest(std::string method, std::string url, std::vector<HttpHeader> headers = {},
                        std::string body = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

SigningOptions Options(std::string region, std::string service) {
  SigningOptions o;
  o.region = std::move(region);
  o.service = std::move(service);
  return o;
}

SigningOptions S3Options(std::string region, bool unsigned_payload = false) {
  SigningOptions o = Options(std::move(region), "s3");
  o.double_uri_encode = false;
  o.add_content_sha256_header = true;
  o.unsigned_payload = unsigned_payload;
  return o;
}

std::string HeaderOrEmpty(const HttpRequest& r, std::string_view name) {
  const std::string* v = r.Header(name);
  return v ? *v : std::string();
}

int CountHeaders(const HttpRequest& r, std::string_view lower_name) {
  int n = 0;
  for (const auto& h : r.headers) {
    std::string lower = h.name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == lower_name) ++n;
  }
  return n;
}

// --- crypto ------------------------------------------------------------------

TEST(CryptoTest, Sha256KnownAnswers) {
  EXPECT_EQ(HexLower(Sha256("")), kEmptySha256);
  EXPECT_EQ(HexLower(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("abc").size(), kSha256Size);
  std::string binary("\x00\xff\x10", 3);
  EXPECT_EQ(Sha256(binary).size(), kSha256Size);
}

TEST(CryptoTest, HmacSha256KnownAnswers) {
  // RFC 4231, test case 2.
  EXPECT_EQ(HexLower(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexLower(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  EXPECT_EQ(HexLower(HmacSha256(std::string_view(), std::string_view())),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  // Keys longer than the block size are hashed first (RFC 4231, test case 6).
  EXPECT_EQ(HexLower(HmacSha256(std::string(131, '\xaa'),
                                "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(CryptoTest, Md5KnownAnswers) {
  EXPECT_EQ(HexLower(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(HexLower(Md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5("abc").size(), kMd5Size);
}

TEST(CryptoTest, Cleanse) {
  std::string secret = "AKIDEXAMPLE-secret";
  Cleanse(secret);
  EXPECT_EQ(secret, std::string(18, '\0'));
  std::string empty;
  Cleanse(empty);
  EXPECT_TRUE(empty.empty());
}

TEST(CryptoTest, HexLower) {
  EXPECT_EQ(HexLower(""), "");
  EXPECT_EQ(HexLower(std::string("\x00\x01\xab\xff", 4)), "0001abff");
}

// --- encoding and URL pieces -----------------------------------------------------

TEST(Sigv4Test, AmzDate) {
  EXPECT_EQ(AmzDate(k20150830T123600Z), "20150830T123600Z");
  EXPECT_EQ(AmzDate(k20150830T123600Z + 999), "20150830T123600Z");  // seconds precision
  EXPECT_EQ(AmzDate(0), "19700101T000000Z");
  EXPECT_EQ(AmzDate(1709251199000), "20240229T235959Z");  // leap day
  EXPECT_EQ(AmzDate(1709251200000), "20240301T000000Z");
  EXPECT_EQ(AmzDate(4102444800000), "21000101T000000Z");
}

TEST(Sigv4Test, UriEncode) {
  EXPECT_EQ(UriEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(UriEncode("a b+c/d=e&f"), "a%20b%2Bc%2Fd%3De%26f");
  EXPECT_EQ(UriEncode("a b/c", /*encode_slash=*/false), "a%20b/c");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4"), "%E1%88%B4");
  EXPECT_EQ(UriEncode(std::string("\x00\xff", 2)), "%00%FF");
  EXPECT_EQ(UriEncode("*!'()%"), "%2A%21%27%28%29%25");
}

TEST(Sigv4Test, UriDecode) {
  EXPECT_EQ(UriDecode("a%20b%2fc%2F"), "a b/c/");
  EXPECT_EQ(UriDecode("%E1%88%B4"), "\xe1\x88\xb4");
  EXPECT_EQ(UriDecode("a+b"), "a+b");  // RFC 3986: '+' is a plus
  EXPECT_EQ(UriDecode("100%"), "100%");
  EXPECT_EQ(UriDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(UriDecode("%41%"), "A%");
}

TEST(Sigv4Test, SplitUrlAndHost) {
  auto u = SplitUrl("https://Kinesis.US-East-1.amazonaws.com/a/b?x=1&y#frag");
  ASSERT_TRUE(u) << u.error().ToString();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "kinesis.us-east-1.amazonaws.com");
  EXPECT_EQ(u->port, "");
  EXPECT_EQ(u->path, "/a/b");
  EXPECT_EQ(u->query, "x=1&y");
  EXPECT_EQ(HostHeaderValue(*u), "kinesis.us-east-1.amazonaws.com");

  struct Case {
    const char* url;
    const char* host;
  };
  for (const Case& c : {
           Case{"http://127.0.0.1:4567", "127.0.0.1:4567"},
           Case{"http://localhost:80/", "localhost"},
           Case{"https://localhost:443/", "localhost"},
           Case{"http://localhost:443/", "localhost:443"},
           Case{"https://localhost:80/", "localhost:80"},
           Case{"https://user:pass@Example.com:8443/x", "example.com:8443"},
           Case{"http://[::1]:4566/", "[::1]:4566"},
           Case{"http://[::1]/", "[::1]"},
           Case{"https://h?q=1", "h"},
       }) {
    auto parts = SplitUrl(c.url);
    ASSERT_TRUE(parts) << c.url;
    EXPECT_EQ(HostHeaderValue(*parts), c.host) << c.url;
  }

  for (const char* bad : {"kinesis.amazonaws.com/", "://x/", "http:///path", "http://h:port/",
                          "http://[::1/", "http://user:secretpw@:12/"}) {
    auto parts = SplitUrl(bad);
    ASSERT_FALSE(parts) << bad;
    EXPECT_EQ(parts.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parts.error().message().find("secretpw"), std::string::npos);
  }
}

TEST(Sigv4Test, CanonicalUri) {
  // Double encoding (every service but S3): normalised, then encoded again.
  EXPECT_EQ(CanonicalUri("", true), "/");
  EXPECT_EQ(CanonicalUri("/", true), "/");
  EXPECT_EQ(CanonicalUri("/example1/example2/../..", true), "/");
  EXPECT_EQ(CanonicalUri("/./", true), "/");
  EXPECT_EQ(CanonicalUri("/./example", true), "/example");
  EXPECT_EQ(CanonicalUri("//example//", true), "/example/");
  EXPECT_EQ(CanonicalUri("/a/b/../c/./d/", true), "/a/c/d/");
  EXPECT_EQ(CanonicalUri("/../../a", true), "/a");
  EXPECT_EQ(CanonicalUri("/example%20space/", true), "/example%2520space/");
  EXPECT_EQ(CanonicalUri("/example space/", true), "/example%20space/");
  EXPECT_EQ(CanonicalUri("/a!b$c:d@e", true), "/a%21b%24c%3Ad%40e");
  EXPECT_EQ(CanonicalUri("/%2E%2E/x", true), "/%252E%252E/x");  // encoded dots are not dots
  // S3: exactly as sent.
  EXPECT_EQ(CanonicalUri("", false), "/");
  EXPECT_EQ(CanonicalUri("/a//b/./c/../d%20e", false), "/a//b/./c/../d%20e");
}

TEST(Sigv4Test, CanonicalQueryString) {
  EXPECT_EQ(CanonicalQueryString(""), "");
  EXPECT_EQ(CanonicalQueryString("Param2=value2&Param1=value1"), "Param1=value1&Param2=value2");
  // Sorted by byte value, so upper case first; repeated names by value.
  EXPECT_EQ(CanonicalQueryString("b=1&B=2&a=2&a=1&a=10"), "B=2&a=1&a=10&a=2&b=1");
  EXPECT_EQ(CanonicalQueryString("flag&empty=&x=1"), "empty=&flag=&x=1");
  EXPECT_EQ(CanonicalQueryString("a=1&&b=2&"), "a=1&b=2");
  // Re-encoded to the one canonical form whatever the URL used.
  EXPECT_EQ(CanonicalQueryString("k=a%20b"), "k=a%20b");
  EXPECT_EQ(CanonicalQueryString("k=a%2fb%7E"), "k=a%2Fb~");
  EXPECT_EQ(CanonicalQueryString("k=*!'()"), "k=%2A%21%27%28%29");
  EXPECT_EQ(CanonicalQueryString("k=v=w&x=a+b"), "k=v%3Dw&x=a%2Bb");
  EXPECT_EQ(CanonicalQueryString("%E1%88%B4=bar"), "%E1%88%B4=bar");
  EXPECT_EQ(CanonicalQueryString("\xe1\x88\xb4=bar"), "%E1%88%B4=bar");
  // Sorting happens on the encoded names: "%2A" (for '*') sorts before "A".
  EXPECT_EQ(CanonicalQueryString("A=1&*=2"), "%2A=2&A=1");
}

TEST(Sigv4Test, CanonicalizeHeaders) {
  auto h = CanonicalizeHeaders({
      {"Host", "example.amazonaws.com"},
      {"My-Header1", "value2"},
      {"X-Amz-Date", "20150830T123600Z"},
      {"my-header1", "  value2 "},
      {"MY-HEADER1", "value1"},
      {"My-Header2", "  \"a   b \t c\"  "},
      {"User-Agent", "curl/8"},
      {"Authorization", "old"},
      {"Expect", "100-continue"},
      {"X-Amzn-Trace-Id", "Root=1"},
      {"Empty", "   "},
  });
  EXPECT_EQ(h.text,
            "empty:\n"
            "host:example.amazonaws.com\n"
            "my-header1:value2,value2,value1\n"
            "my-header2:\"a b c\"\n"
            "x-amz-date:20150830T123600Z\n");
  EXPECT_EQ(h.signed_headers, "empty;host;my-header1;my-header2;x-amz-date");
}

// --- the AWS documentation's worked example, step by step ------------------------

TEST(Sigv4Test, IamListUsersExampleStepByStep) {
  HttpRequest r =
      MakeRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
                  {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                   {"Host", "iam.amazonaws.com"},
                   {"X-Amz-Date", "20150830T123600Z"}});
  SigningOptions options = Options("us-east-1", "iam");

  auto canonical = BuildCanonicalRequest(r, options);
  ASSERT_TRUE(canonical) << canonical.error().ToString();
  EXPECT_EQ(canonical->text,
            "GET\n"
            "/\n"
            "Action=ListUsers&Version=2010-05-08\n"
            "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
            "host:iam.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n"
            "\n"
            "content-type;host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexLower(Sha256(canonical->text)),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(canonical->signed_headers, "content-type;host;x-amz-date");

  std::string scope = CredentialScope("20150830", "us-east-1", "iam");
  EXPECT_EQ(scope, "20150830/us-east-1/iam/aws4_request");
  std::string sts = StringToSign("20150830T123600Z", scope, canonical->text);
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n"
            "20150830T123600Z\n"
            "20150830/us-east-1/iam/aws4_request\n"
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");

  std::string key = DeriveSigningKey(kExampleSecret, "20150830", "us-east-1", "iam");
  EXPECT_EQ(HexLower(key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  EXPECT_EQ(SignatureHex(key, sts),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(Sigv4Test, IamListUsersExampleSignRequest) {
  HttpRequest r =
      MakeRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
                  {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}});
  ASSERT_TRUE(SignRequest(r, {kExampleKeyId, kExampleSecret, ""}, Options("us-east-1", "iam"),
                          k20150830T123600Z));
  EXPECT_EQ(HeaderOrEmpty(r, "Host"), "iam.amazonaws.com");
  EXPECT_EQ(HeaderOrEmpty(r, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(r.Header("X-Amz-Security-Token"), nullptr);
  EXPECT_EQ(r.Header("x-amz-content-sha256"), nullptr);
  EXPECT_EQ(HeaderOrEmpty(r, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

// --- table of signed requests ----------------------------------------------------

struct SignCase {
  const char* name;
  HttpRequest request;
  Credentials credentials;
  SigningOptions options;
  int64_t unix_millis;
  std::string authorization;
};

std::vector<SignCase> SuiteCases() {
  const Credentials example{kExampleKeyId, kExampleSecret, ""};
  const SigningOptions service = Options("us-east-1", "service");
  const std::vector<HttpHeader> host = {{"Host", "example.amazonaws.com"}};
  auto with_host = [&](std::vector<HttpHeader> more) {
    std::vector<HttpHeader> all = host;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  auto auth = [](const char* scope, const char* signed_headers, const char* signature) {
    return std::string("AWS4-HMAC-SHA256 Credential=") + scope +
           ", SignedHeaders=" + signed_headers + ", Signature=" + signature;
  };
  constexpr char kServiceScope[] = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
  return {
      {"get-vanilla", MakeRequest("GET", "https://example.amazonaws.com/", host), example, service,
       k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")},
      {"get-vanilla-query-order-key-case",
       MakeRequest("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", host),
       example, service, k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")},
      {"get-vanilla-query-order-value",
       MakeRequest("GET", "https://example.amazonaws.com/?Param1=value2&Param1=Value1", host),
       example, service, k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1")},
      {"get-vanilla-utf8-query",
       MakeRequest("GET", "https://example.amazonaws.com/?%E1%88%B4=bar", host), example, service,
       k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04")},
      {"get-header-key-duplicate",
       MakeRequest(
           "GET", "https://example.amazonaws.com/",
           with_host(
               {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}})),
       example, service, k20150830T123600Z,
       auth(kServiceScope, "host;my-header1;x-amz-date",
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")},
      {"get-header-value-trim",
       MakeRequest("GET", "https://example.amazonaws.com/",
                   with_host({{"My-Header1", "  value1"}, {"My-Header2", "  \"a   b   c\"  "}})),
       example, service, k20150830T123600Z,
       auth(kServiceScope, "host;my-header1;my-header2;x-amz-date",
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")},
      {"get-relative-relative",
       MakeRequest("GET", "https://example.amazonaws.com/example1/example2/../..", host), example,
       service, k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")},
      {"get-slashes", MakeRequest("GET", "https://example.amazonaws.com//example//", host), example,
       service, k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84")},
      {"get-space (raw, as in the suite)",
       MakeRequest("GET", "https://example.amazonaws.com/example space/", host), example, service,
       k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741")},
      {"get-space (encoded, as our clients send it)",
       MakeRequest("GET", "https://example.amazonaws.com/example%20space/", host), example, service,
       k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "446b817944c553435b35e813c261ff4e161fff982d1bacdef1c87f6785dd1662")},
      {"get-utf8 (raw, as in the suite)",
       MakeRequest("GET", "https://example.amazonaws.com/\xe1\x88\xb4", host), example, service,
       k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85")},
      {"get-utf8 (encoded)", MakeRequest("GET", "https://example.amazonaws.com/%E1%88%B4", host),
       example, service, k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "697b34846207a3f72246f99d74ae1ee4fe54f44bb06730c58a0d339eb079596d")},
      {"get-unreserved",
       MakeRequest("GET",
                   "https://example.amazonaws.com/"
                   "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                   host),
       example, service, k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date",
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f")},
      {"post-sts-header-after (session token, signed)",
       MakeRequest("POST", "https://example.amazonaws.com/", host),
       Credentials{kExampleKeyId, kExampleSecret,
                   "AQoDYXdzEPT//////////"
                   "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRq"
                   "TflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPky"
                   "QDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+"
                   "xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3"
                   "iSIlTJabIQwj2ICCR/oLxBA=="},
       service, k20150830T123600Z,
       auth(kServiceScope, "host;x-amz-date;x-amz-security-token",
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")},
      {"kinesis GetRecords (JSON 1.1 POST)",
       MakeRequest("POST", "https://kinesis.us-east-1.amazonaws.com/",
                   {{"Content-Type", "application/x-amz-json-1.1"},
                    {"X-Amz-Target", "Kinesis_20131202.GetRecords"}},
                   R"({"ShardIterator":"AAAAAAAAAAE=","Limit":1000})"),
       Credentials{kDocKeyId, kDocSecret, ""}, Options("us-east-1", "kinesis"), 1709280900000,
       auth("AKIAIOSFODNN7EXAMPLE/20240301/us-east-1/kinesis/aws4_request",
            "content-type;host;x-amz-date;x-amz-target",
            "b767119cf4d0b599c442cd8b171ad4c49bd2f1ac9811ac17b090ba9092c3da2c")},
      {"kinesis on a local port with a session token",
       MakeRequest("POST", "http://127.0.0.1:4567/",
                   {{"Content-Type", "application/x-amz-json-1.1"},
                    {"X-Amz-Target", "Kinesis_20131202.ListShards"}},
                   R"({"StreamName":"events"})"),
       Credentials{kDocKeyId, kDocSecret, "FwoGZXIvYXdzEXAMPLETOKEN"},
       Options("eu-west-1", "kinesis"), 1709251199000,
       auth("AKIAIOSFODNN7EXAMPLE/20240229/eu-west-1/kinesis/aws4_request",
            "content-type;host;x-amz-date;x-amz-security-token;x-amz-target",
            "9feb86f4ea37ff238f357d235157a47b2de5c666e60b7f4e49e16b8f2868fa00")},
      {"query needing encoding, repeated and empty parameters",
       MakeRequest("GET",
                   "https://sts.amazonaws.com/"
                   "?Action=GetCallerIdentity&Version=2011-06-15&Tags.member.1.Key=a%20b&Empty=&"
                   "Flag&Star=%2A&Tilde=~&Repeat=z&Repeat=a"),
       example, Options("us-east-1", "sts"), k20150830T123600Z,
       auth("AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request", "host;x-amz-date",
            "ab44c68aee0a946da13720ad7ccfbcf8a3495917fe0c9a1ae106491a97558d3d")},
      {"same query, spelled differently in the URL",
       MakeRequest("GET",
                   "https://sts.amazonaws.com/"
                   "?Repeat=a&Repeat=z&Tilde=%7e&Star=*&Flag=&Empty&Tags.member.1.Key=a%20b&"
                   "Version=2011-06-15&Action=GetCallerIdentity"),
       example, Options("us-east-1", "sts"), k20150830T123600Z,
       auth("AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request", "host;x-amz-date",
            "ab44c68aee0a946da13720ad7ccfbcf8a3495917fe0c9a1ae106491a97558d3d")},
      {"S3 GET Object example (S3 documentation)",
       MakeRequest("GET", "https://examplebucket.s3.amazonaws.com/test.txt",
                   {{"Range", "bytes=0-9"}}),
       Credentials{kDocKeyId, kDocSecret, ""}, S3Options("us-east-1"), 1369353600000,
       auth("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
            "host;range;x-amz-content-sha256;x-amz-date",
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")},
      {"S3 PUT, UNSIGNED-PAYLOAD, path signed as sent",
       MakeRequest("PUT",
                   "https://examplebucket.s3.amazonaws.com/raw/events/2024/03/01/"
                   "shard-0001%20x%2Bplus/./a//b.json",
                   {{"Content-Type", "application/json"}}, "{\"a\":1}\n"),
       Credentials{kDocKeyId, kDocSecret, ""}, S3Options("us-west-2", /*unsigned_payload=*/true),
       1709294400000,
       auth("AKIAIOSFODNN7EXAMPLE/20240301/us-west-2/s3/aws4_request",
            "content-type;host;x-amz-content-sha256;x-amz-date",
            "1128c6f21f8e3f6930acc1ba5e2e016a890deaa43e362e434a31b668e72288a5")},
      {"S3 ListObjectsV2",
       MakeRequest("GET",
                   "https://examplebucket.s3.amazonaws.com/?list-type=2&prefix=raw%2F&max-keys=2"),
       Credentials{kDocKeyId, kDocSecret, ""}, S3Options("us-east-1"), 1369353600000,
       auth("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
            "host;x-amz-content-sha256;x-amz-date",
            "433ca5c03571c479caa72961672eb5ba34ec54bd19f060c0f54edef4f5263c14")},
  };
}

TEST(Sigv4Test, SignsKnownRequests) {
  for (SignCase& c : SuiteCases()) {
    SCOPED_TRACE(c.name);
    auto s = SignRequest(c.request, c.credentials, c.options, c.unix_millis);
    ASSERT_TRUE(s) << s.error().ToString();
    EXPECT_EQ(HeaderOrEmpty(c.request, "Authorization"), c.authorization);
    EXPECT_EQ(CountHeaders(c.request, "authorization"), 1);
    EXPECT_EQ(CountHeaders(c.request, "host"), 1);
    EXPECT_EQ(CountHeaders(c.request, "x-amz-date"), 1);
  }
}

// --- behaviour of SignRequest beyond the signature ---------------------------------

TEST(Sigv4Test, SessionTokenHeaderIsAddedAndSigned) {
  HttpRequest r = MakeRequest("POST", "https://kinesis.us-east-1.amazonaws.com/");
  ASSERT_TRUE(SignRequest(r, {kDocKeyId, kDocSecret, "TOKEN123"}, Options("us-east-1", "kinesis"),
                          k20150830T123600Z));
  EXPECT_EQ(HeaderOrEmpty(r, "X-Amz-Security-Token"), "TOKEN123");
  EXPECT_NE(HeaderOrEmpty(r, "Authorization").find("x-amz-security-token"), std::string::npos);

  // Re-signed with long-term keys (a refresh between retries): the stale
  // token must go, or the service would reject the mismatch.
  ASSERT_TRUE(SignRequest(r, {kDocKeyId, kDocSecret, ""}, Options("us-east-1", "kinesis"),
                          k20150830T123600Z));
  EXPECT_EQ(r.Header("X-Amz-Security-Token"), nullptr);
  EXPECT_EQ(HeaderOrEmpty(r, "Authorization").find("x-amz-security-token"), std::string::npos);
}

TEST(Sigv4Test, ResigningGivesTheSameResult) {
  HttpRequest r = MakeRequest("POST", "https://kinesis.us-east-1.amazonaws.com/",
                              {{"Content-Type", "application/x-amz-json-1.1"}}, "{}");
  Credentials creds{kDocKeyId, kDocSecret, "T"};
  ASSERT_TRUE(SignRequest(r, creds, Options("us-east-1", "kinesis"), k20150830T123600Z));
  HttpRequest first = r;
  ASSERT_TRUE(SignRequest(r, creds, Options("us-east-1", "kinesis"), k20150830T123600Z));
  EXPECT_EQ(HeaderOrEmpty(r, "Authorization"), HeaderOrEmpty(first, "Authorization"));
  EXPECT_EQ(r.headers.size(), first.headers.size());
  // A later time gives a new date and signature.
  ASSERT_TRUE(SignRequest(r, creds, Options("us-east-1", "kinesis"), k20150830T123600Z + 1000));
  EXPECT_EQ(HeaderOrEmpty(r, "X-Amz-Date"), "20150830T123601Z");
  EXPECT_NE(HeaderOrEmpty(r, "Authorization"), HeaderOrEmpty(first, "Authorization"));
}

TEST(Sigv4Test, KeepsAGivenHostHeader) {
  HttpRequest r = MakeRequest("GET", "http://127.0.0.1:4567/", {{"HOST", "proxy.example:8080"}});
  ASSERT_TRUE(SignRequest(r, {kDocKeyId, kDocSecret, ""}, Options("us-east-1", "kinesis"),
                          k20150830T123600Z));
  EXPECT_EQ(CountHeaders(r, "host"), 1);
  EXPECT_EQ(HeaderOrEmpty(r, "host"), "proxy.example:8080");
}

TEST(Sigv4Test, NonDefaultPortIsInTheHostHeader) {
  HttpRequest r = MakeRequest("POST", "http://LocalHost:4566");
  ASSERT_TRUE(SignRequest(r, {kDocKeyId, kDocSecret, ""}, Options("us-east-1", "dynamodb"),
                          k20150830T123600Z));
  EXPECT_EQ(HeaderOrEmpty(r, "Host"), "localhost:4566");
}

TEST(Sigv4Test, S3ContentSha256Header) {
  HttpRequest signed_body = MakeRequest("PUT", "https://b.s3.amazonaws.com/k", {}, "hello");
  ASSERT_TRUE(SignRequest(signed_body, {kDocKeyId, kDocSecret, ""}, S3Options("us-east-1"),
                          k20150830T123600Z));
  EXPECT_EQ(HeaderOrEmpty(signed_body, "x-amz-content-sha256"), HexLower(Sha256("hello")));

  HttpRequest unsigned_body = MakeRequest("PUT", "https://b.s3.amazonaws.com/k", {}, "hello");
  ASSERT_TRUE(SignRequest(unsigned_body, {kDocKeyId, kDocSecret, ""}, S3Options("us-east-1", true),
                          k20150830T123600Z));
  EXPECT_EQ(HeaderOrEmpty(unsigned_body, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  auto canonical = BuildCanonicalRequest(unsigned_body, S3Options("us-east-1", true));
  ASSERT_TRUE(canonical);
  EXPECT_TRUE(canonical->text.ends_with("\nUNSIGNED-PAYLOAD"));
}

TEST(Sigv4Test, PayloadHashPrefersTheRequestsOwnHeader) {
  SigningOptions options = Options("us-east-1", "s3");
  HttpRequest r = MakeRequest("PUT", "https://b.s3.amazonaws.com/k", {}, "body");
  EXPECT_EQ(PayloadHash(r, options), HexLower(Sha256("body")));
  options.unsigned_payload = true;
  EXPECT_EQ(PayloadHash(r, options), "UNSIGNED-PAYLOAD");
  r.SetHeader("X-Amz-Content-Sha256", "precomputed");
  EXPECT_EQ(PayloadHash(r, options), "precomputed");

  // An empty one is the caller's mistake, not OpenSSL's.
  r.SetHeader("X-Amz-Content-Sha256", "");
  auto canonical = BuildCanonicalRequest(r, options);
  ASSERT_FALSE(canonical);
  EXPECT_EQ(canonical.error().code(), ErrorCode::kInvalidArgument);
  auto s = SignRequest(r, {kDocKeyId, kDocSecret, ""}, options, k20150830T123600Z);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Sigv4Test, UnsignedHeadersAreLeftOut) {
  HttpRequest r = MakeRequest("GET", "https://example.amazonaws.com/",
                              {{"User-Agent", "kinesis-connect/0.1"}, {"Expect", "100-continue"}});
  ASSERT_TRUE(SignRequest(r, {kDocKeyId, kDocSecret, ""}, Options("us-east-1", "service"),
                          k20150830T123600Z));
  EXPECT_NE(HeaderOrEmpty(r, "Authorization").find("SignedHeaders=host;x-amz-date,"),
            std::string::npos);
  EXPECT_EQ(HeaderOrEmpty(r, "User-Agent"), "kinesis-connect/0.1");
}

TEST(Sigv4Test, RejectsBadInputWithoutLeakingSecrets) {
  const std::string secret = "SuperSecretValue/abc+123";
  const std::string token = "SessionTokenValue==";
  struct Case {
    const char* name;
    Credentials creds;
    SigningOptions options;
    std::string url;
    ErrorCode code;
  };
  std::vector<Case> cases = {
      {"no key id",
       {"", secret, token},
       Options("us-east-1", "kinesis"),
       "https://h/",
       ErrorCode::kAuth},
      {"no secret",
       {"AKID", "", token},
       Options("us-east-1", "kinesis"),
       "https://h/",
       ErrorCode::kAuth},
      {"newline in token",
       {"AKID", secret, "abc\r\nX-Evil: 1"},
       Options("us-east-1", "kinesis"),
       "https://h/",
       ErrorCode::kAuth},
      {"no region",
       {"AKID", secret, token},
       Options("", "kinesis"),
       "https://h/",
       ErrorCode::kInvalidArgument},
      {"no service",
       {"AKID", secret, token},
       Options("us-east-1", ""),
       "https://h/",
       ErrorCode::kInvalidArgument},
      {"no scheme",
       {"AKID", secret, token},
       Options("us-east-1", "kinesis"),
       "h/",
       ErrorCode::kInvalidArgument},
      {"no host",
       {"AKID", secret, token},
       Options("us-east-1", "kinesis"),
       "https://u:SuperSecretValue@/",
       ErrorCode::kInvalidArgument},
  };
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpRequest r = MakeRequest("GET", c.url);
    auto s = SignRequest(r, c.creds, c.options, k20150830T123600Z);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), c.code);
    EXPECT_EQ(s.error().message().find("SuperSecretValue"), std::string::npos);
    EXPECT_EQ(s.error().message().find("SessionTokenValue"), std::string::npos);
    EXPECT_EQ(r.Header("Authorization"), nullptr);
  }
}

}  // namespace
}  // namespace kc::aws
