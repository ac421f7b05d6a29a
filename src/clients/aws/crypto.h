// Hashes and MACs for request signing and payload checks (SigV4, S3's
// Content-MD5, the KPL aggregation trailer), on OpenSSL 3's EVP interface.
//
// Every function returns raw digest bytes in a std::string; HexLower turns
// them into the lowercase hex that SigV4 wants. A digest comes back empty only
// when OpenSSL cannot provide the algorithm (out of memory, or MD5 under a
// FIPS-only provider configuration); callers that must not proceed without
// a digest check for that.
//
// Thread-safety: all functions are safe to call concurrently.
#pragma once

#include <string>
#include <string_view>

namespace kc::aws {

inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kMd5Size = 16;

// SHA-256 of `data`: 32 bytes.
std::string Sha256(std::string_view data);

// HMAC-SHA256 of `data` under `key`: 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// MD5 of `data`: 16 bytes. For integrity checks only, never for security.
std::string Md5(std::string_view data);

// SHA-1 of `data`: 20 bytes. Only to name files as the AWS CLI names them
// (the SSO token cache), never for security.
std::string Sha1(std::string_view data);

// Lowercase hex of arbitrary bytes: "\x01\xab" -> "01ab".
std::string HexLower(std::string_view bytes);

// Overwrites `bytes` with zeros in a way the compiler may not drop as a dead
// store, for short-lived copies of secrets and keys derived from them.
void Cleanse(std::string& bytes);

}  // namespace kc::aws
