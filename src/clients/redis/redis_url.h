// Where the Redis checkpoint store connects:
// "redis://[user:password@]host[:port][/db]", or rediss:// for TLS.
//
// The URL may carry credentials, so it is never shown whole: messages name
// the address ("host:port") only, and parse errors say what is wrong
// without repeating the text.
#pragma once

#include <string>
#include <string_view>

#include "kc/status.h"

namespace kc::checkpoint {

struct RedisUrl {
  std::string host;  // a name or an address; IPv6 without the brackets
  int port = 6379;
  std::string user;      // empty: the default user
  std::string password;  // empty: none in the URL
  int db = 0;
  bool tls = false;  // rediss://: TLS, the certificate checked

  // "host:port" ("[::1]:6379"), for messages: never the credentials.
  std::string Address() const;
};

inline constexpr std::string_view kDefaultRedisUrl = "redis://127.0.0.1:6379";

// Parses `url`; user and password may be percent-encoded ("p%40ss" is
// "p@ss"). The error (kInvalidArgument) says what is wrong and shows the
// expected form, never the URL itself.
Result<RedisUrl> ParseRedisUrl(std::string_view url);

}  // namespace kc::checkpoint
