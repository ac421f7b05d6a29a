#include "clients/aws/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace kc::aws {
namespace {

// Algorithms are fetched once: an implicit fetch (EVP_sha256() with
// EVP_DigestInit) searches the provider store and takes its lock on every
// call, which shows up when every Kinesis request is signed. Fetched objects
// are immutable and may be shared by threads. They are deliberately never
// freed: OpenSSL tears its providers down from its own exit handler, and a
// static destructor freeing them afterwards would touch freed state.
EVP_MD* FetchDigest(const char* name) { return EVP_MD_fetch(nullptr, name, nullptr); }

const EVP_MD* Sha256Md() {
  static EVP_MD* md = FetchDigest("SHA256");
  return md;
}

const EVP_MD* Sha1Md() {
  static EVP_MD* md = FetchDigest("SHA1");
  return md;
}

const EVP_MD* Md5Md() {
  static EVP_MD* md = FetchDigest("MD5");
  return md;
}

EVP_MAC* HmacMac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// OpenSSL takes unsigned char buffers; std::string holds char. The two are
// layout-compatible, so the pointer casts below are safe.
const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

std::string Digest(const EVP_MD* md, std::string_view data) {
  if (md == nullptr) return {};
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) return {};
  std::string out(static_cast<size_t>(EVP_MD_get_size(md)), '\0');
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), Bytes(out), &len) != 1 || len != out.size()) {
    return {};
  }
  return out;
}

}  // namespace

std::string Sha256(std::string_view data) { return Digest(Sha256Md(), data); }

std::string Md5(std::string_view data) { return Digest(Md5Md(), data); }

std::string Sha1(std::string_view data) { return Digest(Sha1Md(), data); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  EVP_MAC* mac = HmacMac();
  if (mac == nullptr) return {};
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) return {};
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key pointer means "keep the previous key" to OpenSSL, not "empty
  // key", so an empty view must still point somewhere.
  static constexpr unsigned char kNoKey = 0;
  const unsigned char* key_bytes = key.data() != nullptr ? Bytes(key) : &kNoKey;
  std::string out(kSha256Size, '\0');
  size_t len = 0;
  if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), Bytes(data), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), Bytes(out), &len, out.size()) != 1 || len != out.size()) {
    return {};
  }
  return out;
}

std::string HexLower(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

void Cleanse(std::string& bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

}  // namespace kc::aws
