// Fuzz entry point for SigV4 canonicalisation and signing. The input reads
// like an HTTP request, with the signing options first:
//
//   <service> [single-encode] [unsigned-payload] [content-sha256] [session-token]
//   <METHOD> <url>
//   <Name>: <value>          (any number of header lines)
//
//   <body>
//
// Never a crash, and the steps keep their promises: the canonical query
// string is sorted encoded "name=value" pairs and canonicalising it again
// changes nothing; the canonical URI is encoded, normalised and stable; the
// canonical headers are lowercase, sorted, unique names with trimmed values,
// whatever the names' case; a request signs or fails with kInvalidArgument
// (a bad URL, no service, an empty x-amz-content-sha256 header), signing it
// again gives the same Authorization, and a verifier that rebuilds the
// canonical request from the signed request's headers computes the same
// signature.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clients/aws/sigv4.h"

namespace {

using kc::aws::HttpHeader;
using kc::aws::HttpRequest;
using kc::aws::SigningOptions;

constexpr int64_t kUnixMillis = 1440938160000;  // 20150830T123600Z
constexpr std::string_view kRegion = "us-east-1";

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Cuts `text` at the first `separator`: returns what is before it and leaves
// the rest (all of it when there is no separator, then `text` is empty).
std::string_view Cut(std::string_view& text, char separator) {
  const size_t at = text.find(separator);
  const std::string_view head = text.substr(0, at);
  text = at == std::string_view::npos ? std::string_view() : text.substr(at + 1);
  return head;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  for (;;) {
    const size_t at = text.find(separator);
    pieces.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return pieces;
    text.remove_prefix(at + 1);
  }
}

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

bool IsUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// Only unreserved bytes, `also` and %XX escapes with uppercase hex digits.
bool IsEncoded(std::string_view s, char also = '\0') {
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsUnreserved(s[i]) || (also != '\0' && s[i] == also)) continue;
    if (s[i] != '%' || i + 2 >= s.size() || !IsUpperHex(s[i + 1]) || !IsUpperHex(s[i + 2])) {
      return false;
    }
    i += 2;
  }
  return true;
}

// An RFC 9110 token: what an HTTP header name is made of.
bool IsToken(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::ranges::all_of(s, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

size_t CountHeaders(const HttpRequest& request, std::string_view lower_name) {
  return std::ranges::count_if(
      request.headers, [&](const HttpHeader& h) { return AsciiLower(h.name) == lower_name; });
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::ranges::all_of(s, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void CheckUriCoding(std::string_view bytes) {
  Check(kc::aws::UriDecode(kc::aws::UriEncode(bytes)) == bytes);
  const std::string keep_slash = kc::aws::UriEncode(bytes, /*encode_slash=*/false);
  Check(IsEncoded(keep_slash, '/'));
  Check(kc::aws::UriDecode(keep_slash) == bytes);
}

void CheckQueryString(std::string_view query) {
  const std::string canonical = kc::aws::CanonicalQueryString(query);
  Check(kc::aws::CanonicalQueryString(canonical) == canonical);
  const auto pieces = Split(query, '&');
  const size_t expected_pairs =
      std::ranges::count_if(pieces, [](std::string_view p) { return !p.empty(); });
  if (canonical.empty()) {
    Check(expected_pairs == 0);
    return;
  }
  const auto pairs = Split(canonical, '&');
  Check(pairs.size() == expected_pairs);
  std::string_view previous_name;
  std::string_view previous_value;
  for (size_t i = 0; i < pairs.size(); ++i) {
    std::string_view value = pairs[i];
    const std::string_view name = Cut(value, '=');
    Check(name.size() < pairs[i].size());  // there is a '='
    Check(IsEncoded(name) && IsEncoded(value));
    if (i > 0) {
      Check(previous_name < name || (previous_name == name && previous_value <= value));
    }
    previous_name = name;
    previous_value = value;
  }
}

void CheckUri(std::string_view path) {
  Check(kc::aws::CanonicalUri(path, false) == (path.empty() ? "/" : path));
  const std::string canonical = kc::aws::CanonicalUri(path, true);
  Check(!canonical.empty() && IsEncoded(canonical, '/'));
  if (path.starts_with('/')) Check(canonical.starts_with('/'));
  // Normalised: no empty, "." or ".." segment is left (the encoded form of
  // a dot is a dot, so this can be read on the result).
  const std::string_view inner = std::string_view(canonical).substr(canonical.starts_with('/'));
  if (!inner.empty()) {
    const auto segments =
        Split(inner.ends_with('/') ? inner.substr(0, inner.size() - 1) : inner, '/');
    for (std::string_view segment : segments) {
      Check(!segment.empty() && segment != "." && segment != "..");
    }
  }
  // Decoded once, it is the normalised path, which normalises to itself.
  Check(kc::aws::CanonicalUri(kc::aws::UriDecode(canonical), true) == canonical);
}

// The canonical header block: parsed back into (name, value) pairs.
std::vector<HttpHeader> ParseCanonicalHeaders(const kc::aws::CanonicalHeaders& canonical) {
  std::vector<HttpHeader> parsed;
  std::string_view text = canonical.text;
  while (!text.empty()) {
    std::string_view value = Cut(text, '\n');
    const std::string_view name = Cut(value, ':');
    parsed.push_back({std::string(name), std::string(value)});
  }
  return parsed;
}

void CheckHeaders(const std::vector<HttpHeader>& headers) {
  const kc::aws::CanonicalHeaders canonical = kc::aws::CanonicalizeHeaders(headers);
  Check(canonical.text.empty() || canonical.text.ends_with('\n'));
  // The names are only checkable when they are what HTTP allows (no ':' or
  // ';' in them); every header the project sends has such a name. Values
  // are anything but a line break here (the input is cut into lines).
  if (!std::ranges::all_of(headers, [](const HttpHeader& h) { return IsToken(h.name); })) return;

  const std::vector<HttpHeader> parsed = ParseCanonicalHeaders(canonical);
  std::string signed_headers;
  for (size_t i = 0; i < parsed.size(); ++i) {
    const std::string& name = parsed[i].name;
    Check(std::ranges::none_of(name, [](char c) { return c >= 'A' && c <= 'Z'; }));
    if (i > 0) Check(parsed[i - 1].name < name);
    Check(name != "authorization" && name != "user-agent" && name != "expect" &&
          name != "x-amzn-trace-id");
    const std::string& value = parsed[i].value;
    Check(!value.starts_with(' ') && !value.ends_with(' ') && !value.starts_with('\t') &&
          !value.ends_with('\t') && value.find("  ") == std::string::npos &&
          value.find('\t') == std::string::npos);
    if (i > 0) signed_headers.push_back(';');
    signed_headers += name;
  }
  Check(signed_headers == canonical.signed_headers);

  // Canonical already: canonicalising it again changes nothing.
  const kc::aws::CanonicalHeaders again = kc::aws::CanonicalizeHeaders(parsed);
  Check(again.text == canonical.text && again.signed_headers == canonical.signed_headers);

  // Header names are case-insensitive.
  std::vector<HttpHeader> upper = headers;
  for (HttpHeader& h : upper) {
    for (char& c : h.name) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
  }
  const kc::aws::CanonicalHeaders shouted = kc::aws::CanonicalizeHeaders(upper);
  Check(shouted.text == canonical.text && shouted.signed_headers == canonical.signed_headers);
}

// A payload hash the caller gave, empty: nothing to sign with.
bool HasEmptyPayloadHash(const HttpRequest& request) {
  const std::string* given = request.Header("x-amz-content-sha256");
  return given != nullptr && given->empty();
}

void CheckCanonicalRequest(const HttpRequest& request, const SigningOptions& options) {
  auto url = kc::aws::SplitUrl(request.url);
  auto canonical = kc::aws::BuildCanonicalRequest(request, options);
  if (!url || HasEmptyPayloadHash(request)) {
    Check(url || url.error().code() == kc::ErrorCode::kInvalidArgument);
    Check(!canonical && canonical.error().code() == kc::ErrorCode::kInvalidArgument);
    return;
  }
  Check(url->path.empty() || url->path.starts_with('/'));
  CheckUri(url->path);
  CheckQueryString(url->query);
  Check(canonical.has_value());
  const std::string payload_hash = kc::aws::PayloadHash(request, options);
  const std::string headers = kc::aws::CanonicalizeHeaders(request.headers).text;
  const std::string expected = request.method + "\n" +
                               kc::aws::CanonicalUri(url->path, options.double_uri_encode) + "\n" +
                               kc::aws::CanonicalQueryString(url->query) + "\n" + headers + "\n" +
                               canonical->signed_headers + "\n" + payload_hash;
  Check(canonical->text == expected);
  if (request.Header("x-amz-content-sha256") == nullptr) {
    Check(options.unsigned_payload ? payload_hash == kc::aws::kUnsignedPayload
                                   : IsLowerHex64(payload_hash));
  }
}

// The signature in an Authorization header SignRequest wrote, checking its
// shape and its credential scope.
std::string_view SignatureOf(std::string_view authorization, const std::string& scope,
                             std::string_view* signed_headers) {
  const std::string prefix = std::string(kc::aws::kSigV4Algorithm) + " Credential=AKIDEXAMPLE/" +
                             scope + ", SignedHeaders=";
  Check(authorization.starts_with(prefix));
  authorization.remove_prefix(prefix.size());
  const size_t at = authorization.rfind(", Signature=");
  Check(at != std::string_view::npos);
  *signed_headers = authorization.substr(0, at);
  const std::string_view signature = authorization.substr(at + 12);
  Check(IsLowerHex64(signature));
  return signature;
}

void CheckSigning(const HttpRequest& request, const kc::aws::Credentials& credentials,
                  const SigningOptions& options) {
  HttpRequest signed_request = request;
  const kc::Status status = kc::aws::SignRequest(signed_request, credentials, options, kUnixMillis);
  if (!status) {
    Check(status.error().code() == kc::ErrorCode::kInvalidArgument);
    Check(!kc::aws::SplitUrl(request.url) || options.service.empty() ||
          (HasEmptyPayloadHash(request) && !options.add_content_sha256_header));
    return;
  }
  Check(CountHeaders(signed_request, "authorization") == 1);
  Check(CountHeaders(signed_request, "x-amz-date") == 1);
  const std::string* authorization = signed_request.Header("Authorization");
  Check(authorization != nullptr && signed_request.Header("Host") != nullptr);
  Check(signed_request.Header("X-Amz-Date") != nullptr &&
        *signed_request.Header("X-Amz-Date") == "20150830T123600Z");
  const std::string scope = kc::aws::CredentialScope("20150830", options.region, options.service);
  std::string_view signed_headers;
  const std::string_view signature = SignatureOf(*authorization, scope, &signed_headers);

  // A verifier rebuilds the canonical request from what was sent (it leaves
  // Authorization out) and must arrive at the same signature.
  auto canonical = kc::aws::BuildCanonicalRequest(signed_request, options);
  Check(canonical.has_value() && canonical->signed_headers == signed_headers);
  const std::string key = kc::aws::DeriveSigningKey(credentials.secret_access_key, "20150830",
                                                    options.region, options.service);
  const std::string string_to_sign =
      kc::aws::StringToSign("20150830T123600Z", scope, canonical->text);
  Check(kc::aws::SignatureHex(key, string_to_sign) == signature);

  // Signing again (a retry) changes nothing; nor does signing the original
  // request a second time.
  HttpRequest resigned = signed_request;
  Check(kc::aws::SignRequest(resigned, credentials, options, kUnixMillis).has_value());
  Check(resigned.Header("Authorization") != nullptr &&
        *resigned.Header("Authorization") == *authorization);
  Check(resigned.headers.size() == signed_request.headers.size());
  HttpRequest twice = request;
  Check(kc::aws::SignRequest(twice, credentials, options, kUnixMillis).has_value());
  Check(*twice.Header("Authorization") == *authorization);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  SigningOptions options;
  options.region = std::string(kRegion);
  kc::aws::Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  std::string_view option_line = Cut(input, '\n');
  options.service = std::string(Cut(option_line, ' '));
  for (std::string_view word : Split(option_line, ' ')) {
    if (word == "single-encode") options.double_uri_encode = false;
    if (word == "unsigned-payload") options.unsigned_payload = true;
    if (word == "content-sha256") options.add_content_sha256_header = true;
    if (word == "session-token") credentials.session_token = "FwoGZXIvYXdzEXAMPLETOKEN";
  }

  HttpRequest request;
  std::string_view request_line = Cut(input, '\n');
  request.method = std::string(Cut(request_line, ' '));
  request.url = std::string(request_line);
  while (!input.empty()) {
    std::string_view value = Cut(input, '\n');
    if (value.empty()) break;
    const std::string_view name = Cut(value, ':');
    request.headers.push_back({std::string(name), std::string(value)});
  }
  request.body = std::string(input);

  CheckUriCoding(request.url);
  CheckHeaders(request.headers);
  CheckCanonicalRequest(request, options);
  CheckSigning(request, credentials, options);
  return 0;
}
