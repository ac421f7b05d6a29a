// SigV4 against fixed figures. The known-answer cases are data, one folder
// each under tests/data/sigv4/ (its README describes the files): the worked
// examples in AWS's documentation (IAM ListUsers, the S3 GET Object
// example), cases of AWS's SigV4 test suite, and Kinesis/STS/S3 requests
// whose expected signatures were computed independently with botocore.
// Every case is a test of its own here, checking the canonical request, the
// string to sign and the Authorization header; sigv4_crosscheck.py checks
// the same folders with botocore, and compares with it over many generated
// requests as well. The other tests are the steps' own known answers and
// the behaviour of SignRequest beyond the signature.
#include "clients/aws/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/files.h"
#include "clients/aws/crypto.h"

#ifndef KC_SIGV4_CASES
#error "KC_SIGV4_CASES must name the folder of SigV4 test cases (tests/data/sigv4)"
#endif

namespace kc::aws {
namespace {

namespace fs = std::filesystem;

constexpr int64_t k20150830T123600Z = 1440938160000;
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

// --- the known-answer cases in tests/data/sigv4 -----------------------------------

// One case folder, read. Its README describes the files.
struct SigningCase {
  HttpRequest request;
  Credentials credentials;
  SigningOptions options;
  std::string amz_date;  // the signing time, "20150830T123600Z"
  int64_t unix_millis = 0;
  std::string canonical_request;
  std::string string_to_sign;
  std::string authorization;
  std::optional<std::string> signing_key;  // hex, when the case gives it
};

// The problem with one file of a case: "<case dir>/<file>: <problem>".
unexpected<Error> CaseError(const fs::path& dir, std::string_view file, std::string_view problem) {
  return Fail(ErrorCode::kInvalidArgument, (dir / file).string() + ": " + std::string(problem));
}

std::string LineNumber(size_t index) { return "line " + std::to_string(index + 1) + ": "; }

// The lines of `text`, without their '\n'; a last line without one counts.
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    lines.push_back(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
  }
  return lines;
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<std::string> ReadCaseFile(const fs::path& dir, std::string_view file) {
  auto text = util::ReadFile((dir / file).string());
  if (!text) {
    return CaseError(
        dir, file,
        text.error().code() == ErrorCode::kNotFound ? "missing" : text.error().message());
  }
  return text;
}

// An expected value: the file's text without a final line break.
Result<std::string> ReadExpected(const fs::path& dir, std::string_view file) {
  auto text = ReadCaseFile(dir, file);
  if (text && text->ends_with('\n')) text->pop_back();
  if (text && text->empty()) return CaseError(dir, file, "empty");
  return text;
}

// request.txt: "METHOD target HTTP/1.1", header lines "Name: value", and
// after an empty line the body, byte for byte.
Status ParseRequest(const fs::path& dir, std::string_view text, HttpRequest& request) {
  constexpr std::string_view kFile = "request.txt";
  std::vector<std::string_view> head;
  size_t at = 0;
  bool has_body = false;
  while (at < text.size()) {
    const size_t eol = text.find('\n', at);
    const std::string_view line = text.substr(at, eol == std::string_view::npos ? eol : eol - at);
    at = eol == std::string_view::npos ? text.size() : eol + 1;
    if (line.empty()) {
      has_body = true;
      break;
    }
    head.push_back(line);
  }
  request.body = has_body ? std::string(text.substr(at)) : std::string();
  if (head.empty()) return CaseError(dir, kFile, "no request line");
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i].find('\r') != std::string_view::npos) {
      return CaseError(dir, kFile, LineNumber(i) + "a carriage return (lines end with LF alone)");
    }
  }

  const std::string_view line = head[0];
  const size_t first_space = line.find(' ');
  const size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == 0 || last_space <= first_space + 1 ||
      line.substr(last_space + 1) != "HTTP/1.1") {
    return CaseError(dir, kFile, "line 1: not a request line (METHOD target HTTP/1.1)");
  }
  request.method = std::string(line.substr(0, first_space));
  const std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);

  request.headers.clear();
  for (size_t i = 1; i < head.size(); ++i) {
    const size_t colon = head[i].find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return CaseError(dir, kFile, LineNumber(i) + "not a header line (Name: value)");
    }
    std::string_view value = head[i].substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    // Appended, not SetHeader: repeated names must reach the signer.
    request.headers.push_back({std::string(head[i].substr(0, colon)), std::string(value)});
  }

  if (target.starts_with('/')) {
    const std::string* host = request.Header("Host");
    if (host == nullptr || host->empty()) {
      return CaseError(dir, kFile, "line 1: a target that is a path needs a Host header");
    }
    request.url = "https://" + *host + std::string(target);
  } else if (target.find("://") != std::string_view::npos) {
    request.url = std::string(target);
  } else {
    return CaseError(dir, kFile, "line 1: the target is neither a path nor an absolute URL");
  }
  return Ok();
}

// "20150830T123600Z" as Unix milliseconds.
std::optional<int64_t> ParseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](size_t from, size_t length) -> std::optional<int> {
    int n = 0;
    for (char c : text.substr(from, length)) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  const auto year = number(0, 4);
  const auto month = number(4, 2);
  const auto day = number(6, 2);
  const auto hour = number(9, 2);
  const auto minute = number(11, 2);
  const auto second = number(13, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const auto midnight = std::chrono::sys_days(date).time_since_epoch();
  const auto time_of_day =
      std::chrono::hours(*hour) + std::chrono::minutes(*minute) + std::chrono::seconds(*second);
  return std::chrono::duration_cast<std::chrono::milliseconds>(midnight + time_of_day).count();
}

// context.txt: "key: value" lines; blank lines and lines starting with '#'
// are left out.
Status ParseContext(const fs::path& dir, std::string_view text, SigningCase& c) {
  constexpr std::string_view kFile = "context.txt";
  std::vector<std::string> seen;
  const std::vector<std::string_view> lines = Lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = TrimBlanks(lines[i]);
    if (line.empty() || line.starts_with('#')) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return CaseError(dir, kFile, LineNumber(i) + "not a \"key: value\" line");
    }
    const std::string key(TrimBlanks(line.substr(0, colon)));
    const std::string_view value = TrimBlanks(line.substr(colon + 1));
    if (std::ranges::find(seen, key) != seen.end()) {
      return CaseError(dir, kFile, LineNumber(i) + "\"" + key + "\" a second time");
    }
    seen.push_back(key);
    if (key == "region") {
      c.options.region = std::string(value);
    } else if (key == "service") {
      c.options.service = std::string(value);
    } else if (key == "time") {
      const std::optional<int64_t> millis = ParseAmzDate(value);
      if (!millis) {
        return CaseError(dir, kFile, LineNumber(i) + "the time is not like 20150830T123600Z");
      }
      c.amz_date = std::string(value);
      c.unix_millis = *millis;
    } else if (key == "access-key-id") {
      c.credentials.access_key_id = std::string(value);
    } else if (key == "secret-access-key") {
      c.credentials.secret_access_key = std::string(value);
    } else if (key == "session-token") {
      c.credentials.session_token = std::string(value);
    } else if (key == "options") {
      std::string_view words = value;
      while (!words.empty()) {
        const size_t space = words.find(' ');
        const std::string_view word = words.substr(0, space);
        words = space == std::string_view::npos ? std::string_view() : words.substr(space + 1);
        if (word == "single-encode") {
          c.options.double_uri_encode = false;
        } else if (word == "unsigned-payload") {
          c.options.unsigned_payload = true;
        } else if (word == "content-sha256") {
          c.options.add_content_sha256_header = true;
        } else if (!word.empty()) {
          return CaseError(dir, kFile,
                           LineNumber(i) + "unknown option \"" + std::string(word) + "\"");
        }
      }
    } else {
      return CaseError(dir, kFile, LineNumber(i) + "unknown key \"" + key + "\"");
    }
  }
  for (const char* key : {"region", "service", "time", "access-key-id", "secret-access-key"}) {
    if (std::ranges::find(seen, key) == seen.end()) {
      return CaseError(dir, kFile, std::string("no \"") + key + "\"");
    }
  }
  return Ok();
}

Result<SigningCase> LoadCase(const fs::path& dir) {
  SigningCase c;
  auto request = ReadCaseFile(dir, "request.txt");
  if (!request) return Fail(request.error());
  if (auto s = ParseRequest(dir, *request, c.request); !s) return Fail(s.error());
  auto context = ReadCaseFile(dir, "context.txt");
  if (!context) return Fail(context.error());
  if (auto s = ParseContext(dir, *context, c); !s) return Fail(s.error());
  for (auto [file, value] : {std::pair{"canonical-request.txt", &c.canonical_request},
                             std::pair{"string-to-sign.txt", &c.string_to_sign},
                             std::pair{"authorization.txt", &c.authorization}}) {
    auto text = ReadExpected(dir, file);
    if (!text) return Fail(text.error());
    *value = std::move(*text);
  }
  if (fs::exists(dir / "signing-key.txt")) {
    auto key = ReadExpected(dir, "signing-key.txt");
    if (!key) return Fail(key.error());
    c.signing_key = std::move(*key);
  }
  return c;
}

// The case folders, sorted by name; none when the folder cannot be read
// (CasesTest.FolderHasCases reports that).
std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(KC_SIGV4_CASES, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory(ec) && !name.starts_with('.')) names.push_back(std::move(name));
  }
  std::ranges::sort(names);
  return names;
}

// A case's name as GoogleTest allows it: letters, digits and '_'.
std::string TestName(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

TEST(Sigv4CasesTest, FolderHasCases) {
  EXPECT_TRUE(fs::is_directory(KC_SIGV4_CASES)) << KC_SIGV4_CASES << " is not a folder";
  EXPECT_FALSE(CaseNames().empty()) << "no case folders in " << KC_SIGV4_CASES;
}

class Sigv4CaseTest : public testing::TestWithParam<std::string> {};

TEST_P(Sigv4CaseTest, SignsAsExpected) {
  const fs::path dir = fs::path(KC_SIGV4_CASES) / GetParam();
  auto c = LoadCase(dir);
  ASSERT_TRUE(c) << c.error().message();

  HttpRequest r = c->request;
  auto s = SignRequest(r, c->credentials, c->options, c->unix_millis);
  ASSERT_TRUE(s) << dir.string() << ": signing failed: " << s.error().ToString();
  auto canonical = BuildCanonicalRequest(r, c->options);
  ASSERT_TRUE(canonical) << dir.string() << ": " << canonical.error().ToString();
  EXPECT_EQ(canonical->text, c->canonical_request) << (dir / "canonical-request.txt").string();

  const std::string date = c->amz_date.substr(0, 8);
  const std::string scope = CredentialScope(date, c->options.region, c->options.service);
  const std::string string_to_sign = StringToSign(c->amz_date, scope, canonical->text);
  EXPECT_EQ(string_to_sign, c->string_to_sign) << (dir / "string-to-sign.txt").string();
  EXPECT_EQ(HeaderOrEmpty(r, "Authorization"), c->authorization)
      << (dir / "authorization.txt").string();
  if (c->signing_key) {
    const std::string key = DeriveSigningKey(c->credentials.secret_access_key, date,
                                             c->options.region, c->options.service);
    EXPECT_EQ(HexLower(key), *c->signing_key) << (dir / "signing-key.txt").string();
  }

  // The headers SignRequest adds, once each.
  EXPECT_EQ(CountHeaders(r, "authorization"), 1);
  EXPECT_EQ(CountHeaders(r, "host"), 1);
  EXPECT_EQ(CountHeaders(r, "x-amz-date"), 1);
  EXPECT_EQ(HeaderOrEmpty(r, "X-Amz-Date"), c->amz_date);
  EXPECT_EQ(HeaderOrEmpty(r, "X-Amz-Security-Token"), c->credentials.session_token);
  EXPECT_EQ(CountHeaders(r, "x-amz-security-token"), c->credentials.session_token.empty() ? 0 : 1);
  EXPECT_EQ(CountHeaders(r, "x-amz-content-sha256"), c->options.add_content_sha256_header ? 1 : 0);
}

INSTANTIATE_TEST_SUITE_P(Data, Sigv4CaseTest, testing::ValuesIn(CaseNames()), TestName);

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
