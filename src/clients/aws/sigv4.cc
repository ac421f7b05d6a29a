#include "clients/aws/sigv4.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "base/hex.h"
#include "base/time_format.h"
#include "clients/aws/crypto.h"

namespace kc::aws {
namespace {

constexpr std::string_view kContentSha256 = "x-amz-content-sha256";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool IsSpaceOrTab(char c) { return c == ' ' || c == '\t'; }

// Header values end up in the request line-by-line; a CR, LF or other
// control byte in a credential would let it inject headers.
bool HasControlChars(std::string_view s) {
  return std::ranges::any_of(s, [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7f;
  });
}

// RFC 3986 section 5.2.4, plus the removal of empty segments that AWS
// services apply ("//a//b" signs as "/a/b"). Works on the encoded path, as
// the services do: "%2E" is not a dot segment.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> kept;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!segment.empty() && segment != ".") {
      kept.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  if (path.starts_with('/')) out.push_back('/');
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(kept[i]);
  }
  if (path.ends_with('/') && !kept.empty()) out.push_back('/');
  return out;
}

// The value of a header as it enters the canonical form: no leading or
// trailing blanks, inner runs of blanks as one space.
void AppendTrimmedValue(std::string& out, std::string_view value) {
  bool pending_space = false;
  bool any = false;
  for (char c : value) {
    if (IsSpaceOrTab(c)) {
      pending_space = any;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    any = true;
    out.push_back(c);
  }
}

bool IsUnsignedHeader(std::string_view lower_name) {
  // Authorization carries the signature itself; the others are added or
  // rewritten by HTTP clients and proxies after signing.
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "x-amzn-trace-id";
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string AmzDate(int64_t unix_millis) { return util::FormatAmzDate(unix_millis); }

std::string UriEncode(std::string_view bytes, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    if (IsUnreserved(b) || (c == '/' && !encode_slash)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0x0f]);
    }
  }
  return out;
}

std::string UriDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = util::HexDigitValue(text[i + 1]);
      int lo = util::HexDigitValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

Result<UrlParts> SplitUrl(std::string_view url) {
  static constexpr std::string_view kShape = "scheme://host[:port][/path][?query]";
  UrlParts parts;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "the request URL has no scheme; it must look like " + std::string(kShape));
  }
  parts.scheme = AsciiLower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);

  size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path_and_query =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (size_t q = path_and_query.find('?'); q != std::string_view::npos) {
    parts.path = std::string(path_and_query.substr(0, q));
    parts.query = std::string(path_and_query.substr(q + 1));
  } else {
    parts.path = std::string(path_and_query);
  }

  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "the request URL has an unterminated IPv6 host");
    }
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return Fail(ErrorCode::kInvalidArgument, "the request URL has junk after its IPv6 host");
      }
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || host == "[]") {
    return Fail(ErrorCode::kInvalidArgument,
                "the request URL has no host; it must look like " + std::string(kShape));
  }
  if (!port.empty() && !IsDigits(port)) {
    return Fail(ErrorCode::kInvalidArgument, "the request URL's port is not a number");
  }
  parts.host = AsciiLower(host);
  parts.port = std::string(port);
  return parts;
}

std::string HostHeaderValue(const UrlParts& url) {
  if (url.port.empty()) return url.host;
  std::string_view port = url.port;
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  if ((url.scheme == "http" && port == "80") || (url.scheme == "https" && port == "443")) {
    return url.host;
  }
  return url.host + ":" + std::string(port);
}

std::string CanonicalUri(std::string_view path, bool double_uri_encode) {
  if (path.empty()) return "/";
  if (!double_uri_encode) return std::string(path);
  std::string normalized = NormalizePath(path);
  if (normalized.empty()) return "/";
  return UriEncode(normalized, /*encode_slash=*/false);
}

std::string CanonicalQueryString(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      size_t eq = piece.find('=');
      std::string_view name = piece.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
      params.emplace_back(UriEncode(UriDecode(name)), UriEncode(UriDecode(value)));
    }
    start = end + 1;
  }
  // Pairs compare by name, then value: exactly the order SigV4 asks for,
  // since both are already in their encoded form.
  std::ranges::sort(params);
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

CanonicalHeaders CanonicalizeHeaders(const std::vector<HttpHeader>& headers) {
  // Stable sort keeps the request order of repeated names, which is the
  // order their values must be joined in.
  std::vector<std::pair<std::string, const std::string*>> lowered;
  lowered.reserve(headers.size());
  for (const auto& h : headers) {
    std::string name = AsciiLower(h.name);
    if (IsUnsignedHeader(name)) continue;
    lowered.emplace_back(std::move(name), &h.value);
  }
  std::ranges::stable_sort(lowered, {}, &std::pair<std::string, const std::string*>::first);

  CanonicalHeaders out;
  for (size_t i = 0; i < lowered.size(); ++i) {
    const std::string& name = lowered[i].first;
    bool repeat = i > 0 && lowered[i - 1].first == name;
    if (repeat) {
      out.text.pop_back();  // the '\n' of the previous value of this name
      out.text.push_back(',');
    } else {
      if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
      out.signed_headers += name;
      out.text += name;
      out.text.push_back(':');
    }
    AppendTrimmedValue(out.text, *lowered[i].second);
    out.text.push_back('\n');
  }
  return out;
}

std::string PayloadHash(const HttpRequest& request, const SigningOptions& options) {
  if (const std::string* given = request.Header(kContentSha256)) return *given;
  if (options.unsigned_payload) return std::string(kUnsignedPayload);
  return HexLower(Sha256(request.body));
}

Result<CanonicalRequest> BuildCanonicalRequest(const HttpRequest& request,
                                               const SigningOptions& options) {
  auto url = SplitUrl(request.url);
  if (!url) return Fail(url.error());
  CanonicalHeaders headers = CanonicalizeHeaders(request.headers);
  std::string payload_hash = PayloadHash(request, options);
  if (payload_hash.empty()) {
    // Empty as the caller gave it, or because OpenSSL failed to hash.
    if (request.Header(kContentSha256) != nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  "cannot sign the request: its x-amz-content-sha256 header is empty");
    }
    return Fail(ErrorCode::kInternal, "OpenSSL could not compute SHA-256 for signing");
  }
  CanonicalRequest out;
  out.text.reserve(256 + request.url.size() + headers.text.size());
  out.text += request.method;
  out.text.push_back('\n');
  out.text += CanonicalUri(url->path, options.double_uri_encode);
  out.text.push_back('\n');
  out.text += CanonicalQueryString(url->query);
  out.text.push_back('\n');
  out.text += headers.text;
  out.text.push_back('\n');
  out.text += headers.signed_headers;
  out.text.push_back('\n');
  out.text += payload_hash;
  out.signed_headers = std::move(headers.signed_headers);
  return out;
}

std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service) {
  std::string out;
  out.reserve(date.size() + region.size() + service.size() + 16);
  out.append(date).append("/").append(region).append("/").append(service).append("/aws4_request");
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kSigV4Algorithm);
  out.push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(scope).push_back('\n');
  out += HexLower(Sha256(canonical_request));
  return out;
}

std::string DeriveSigningKey(std::string_view secret_access_key, std::string_view date,
                             std::string_view region, std::string_view service) {
  std::string key = "AWS4";
  key.append(secret_access_key);
  std::string k_date = HmacSha256(key, date);
  // Copies of the secret and of keys derived from it are wiped rather than
  // left behind in freed memory.
  Cleanse(key);
  std::string k_region = HmacSha256(k_date, region);
  Cleanse(k_date);
  std::string k_service = HmacSha256(k_region, service);
  Cleanse(k_region);
  std::string k_signing = HmacSha256(k_service, "aws4_request");
  Cleanse(k_service);
  // HMAC accepts an empty key, so a failed link would not show further on.
  if (k_date.empty() || k_region.empty() || k_service.empty()) return {};
  return k_signing;
}

std::string SignatureHex(std::string_view signing_key, std::string_view string_to_sign) {
  return HexLower(HmacSha256(signing_key, string_to_sign));
}

Status SignRequest(HttpRequest& request, const Credentials& credentials,
                   const SigningOptions& options, int64_t unix_millis) {
  if (credentials.access_key_id.empty()) {
    return Fail(ErrorCode::kAuth, "cannot sign the request: the access key id is empty");
  }
  if (credentials.secret_access_key.empty()) {
    return Fail(ErrorCode::kAuth, "cannot sign the request: the secret access key is empty");
  }
  if (HasControlChars(credentials.access_key_id) || HasControlChars(credentials.session_token)) {
    return Fail(ErrorCode::kAuth,
                "cannot sign the request: the access key id or session token contains control "
                "characters (a stray newline in the environment or the credentials file?)");
  }
  if (options.region.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "cannot sign the request: no region is set");
  }
  if (options.service.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "cannot sign the request: no service name is set");
  }
  auto url = SplitUrl(request.url);
  if (!url) return Fail(url.error().With("cannot sign the request"));

  std::erase_if(request.headers,
                [](const HttpHeader& h) { return AsciiLower(h.name) == "authorization"; });
  if (request.Header("host") == nullptr) request.SetHeader("Host", HostHeaderValue(*url));
  std::string amz_date = AmzDate(unix_millis);
  request.SetHeader("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty()) {
    request.SetHeader("X-Amz-Security-Token", credentials.session_token);
  } else {
    std::erase_if(request.headers,
                  [](const HttpHeader& h) { return AsciiLower(h.name) == "x-amz-security-token"; });
  }
  if (options.add_content_sha256_header) {
    std::string hash =
        options.unsigned_payload ? std::string(kUnsignedPayload) : HexLower(Sha256(request.body));
    request.SetHeader(std::string(kContentSha256), std::move(hash));
  }

  auto canonical = BuildCanonicalRequest(request, options);
  if (!canonical) return Fail(canonical.error());
  std::string date = amz_date.substr(0, 8);
  std::string scope = CredentialScope(date, options.region, options.service);
  std::string string_to_sign = StringToSign(amz_date, scope, canonical->text);
  std::string key =
      DeriveSigningKey(credentials.secret_access_key, date, options.region, options.service);
  std::string signature = SignatureHex(key, string_to_sign);
  Cleanse(key);
  // An empty digest anywhere (the hash ending the string to sign, a link of
  // the key chain, the signature) means OpenSSL failed; never send that.
  if (string_to_sign.ends_with('\n') || key.size() != kSha256Size || signature.empty()) {
    return Fail(ErrorCode::kInternal, "OpenSSL could not compute HMAC-SHA256 for signing");
  }

  std::string authorization(kSigV4Algorithm);
  authorization += " Credential=";
  authorization += credentials.access_key_id;
  authorization.push_back('/');
  authorization += scope;
  authorization += ", SignedHeaders=";
  authorization += canonical->signed_headers;
  authorization += ", Signature=";
  authorization += signature;
  request.SetHeader("Authorization", std::move(authorization));
  return Ok();
}

}  // namespace kc::aws
