#include "clients/redis/redis_url.h"

#include <optional>

#include "base/hex.h"

namespace kc::checkpoint {
namespace {

constexpr std::string_view kScheme = "redis://";
constexpr std::string_view kTlsScheme = "rediss://";
constexpr std::string_view kForm =
    "; the form is redis://[user:password@]host[:port][/db] (rediss:// for TLS), e.g. "
    "\"redis://127.0.0.1:6379/0\"";
// Redis numbers its databases from 0; the server decides how many there are.
constexpr int kMaxDb = 1'000'000;

kc::unexpected<Error> Invalid(std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, std::string(what) + std::string(kForm));
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = util::HexDigitValue(text[i + 1]);
    const int low = util::HexDigitValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// Digits only, within [min, max].
std::optional<int> Number(std::string_view text, int min, int max) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace

std::string RedisUrl::Address() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<RedisUrl> ParseRedisUrl(std::string_view url) {
  if (url.starts_with("unix://")) {
    return Invalid("Unix sockets are not supported; use redis:// with a host and port");
  }
  const bool tls = url.starts_with(kTlsScheme);
  if (!tls && !url.starts_with(kScheme)) return Invalid("must start with redis:// or rediss://");
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f)
      return Invalid("must not contain spaces or control characters");
  }
  std::string_view rest = url.substr(tls ? kTlsScheme.size() : kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Invalid("must not have query parameters or a fragment");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  RedisUrl out;
  out.tls = tls;
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    std::optional<std::string> user = PercentDecode(userinfo.substr(0, colon));
    std::optional<std::string> password =
        colon == std::string_view::npos ? std::string() : PercentDecode(userinfo.substr(colon + 1));
    if (!user || !password) {
      return Invalid("has a bad percent-encoding in the user or password (write '%' as %25)");
    }
    out.user = std::move(*user);
    out.password = std::move(*password);
  }

  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid("has an unclosed IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid("has text after the IPv6 address");
      port = after.substr(1);
      has_port = true;
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return Invalid("has no host");
  out.host = std::string(host);
  if (has_port) {
    std::optional<int> number = Number(port, 1, 65535);
    if (!number) return Invalid("has a port that is not 1 to 65535");
    out.port = *number;
  }
  if (!path.empty()) {
    std::optional<int> db = Number(path, 0, kMaxDb);
    if (!db) return Invalid("has a database that is not a number from 0 (after the host: /0)");
    out.db = *db;
  }
  return out;
}

}  // namespace kc::checkpoint
