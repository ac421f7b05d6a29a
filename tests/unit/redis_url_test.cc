// Parsing of the Redis checkpoint store's URL: what users write in
// checkpoint.url, and that errors never repeat it (it may hold a password).
#include "clients/redis/redis_url.h"

#include <gtest/gtest.h>

#include <string>

namespace kc::checkpoint {
namespace {

RedisUrl Parsed(std::string_view url) {
  auto parsed = ParseRedisUrl(url);
  EXPECT_TRUE(parsed) << url << ": " << parsed.error().ToString();
  return parsed ? *parsed : RedisUrl{};
}

TEST(RedisUrlTest, TheDefaultIsTheLocalServer) {
  RedisUrl url = Parsed(kDefaultRedisUrl);
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 6379);
  EXPECT_EQ(url.user, "");
  EXPECT_EQ(url.password, "");
  EXPECT_EQ(url.db, 0);
  EXPECT_EQ(url.Address(), "127.0.0.1:6379");
}

TEST(RedisUrlTest, EveryPart) {
  RedisUrl url = Parsed("redis://checkpoints:s3cr%3At%40x@redis.internal:6380/4");
  EXPECT_EQ(url.host, "redis.internal");
  EXPECT_EQ(url.port, 6380);
  EXPECT_EQ(url.user, "checkpoints");
  EXPECT_EQ(url.password, "s3cr:t@x");
  EXPECT_EQ(url.db, 4);
  EXPECT_EQ(url.Address(), "redis.internal:6380");
}

TEST(RedisUrlTest, RedissIsTls) {
  const RedisUrl url = Parsed("rediss://:pw@cache.internal:6380/1");
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.Address(), "cache.internal:6380");
  EXPECT_EQ(url.password, "pw");
  EXPECT_EQ(url.db, 1);
  EXPECT_FALSE(Parsed("redis://cache").tls);
}

TEST(RedisUrlTest, OptionalParts) {
  EXPECT_EQ(Parsed("redis://cache").port, 6379);
  EXPECT_EQ(Parsed("redis://cache/").db, 0);
  EXPECT_EQ(Parsed("redis://:pw@cache").password, "pw");
  EXPECT_EQ(Parsed("redis://:pw@cache").user, "");
  RedisUrl user_only = Parsed("redis://reader@cache:7000/15");
  EXPECT_EQ(user_only.user, "reader");
  EXPECT_EQ(user_only.password, "");
  EXPECT_EQ(user_only.db, 15);
  // '@' in a password need not be encoded: the last '@' ends the user info.
  EXPECT_EQ(Parsed("redis://:p@ss@cache").password, "p@ss");
  RedisUrl v6 = Parsed("redis://[::1]:6390");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 6390);
  EXPECT_EQ(v6.Address(), "[::1]:6390");
}

TEST(RedisUrlTest, ErrorsSayWhatIsWrongAndNeverRepeatTheUrl) {
  const std::string form =
      "; the form is redis://[user:password@]host[:port][/db] (rediss:// for TLS), e.g. "
      "\"redis://127.0.0.1:6379/0\"";
  const struct {
    const char* url;
    std::string message;
  } cases[] = {
      {"http://:topsecret@cache:6379", "must start with redis:// or rediss://"},
      {"127.0.0.1:6379", "must start with redis:// or rediss://"},
      {"rediss://:top secret@cache:6379", "must not contain spaces or control characters"},
      {"unix:///run/redis.sock",
       "Unix sockets are not supported; use redis:// with a host and port"},
      {"redis://:top secret@cache", "must not contain spaces or control characters"},
      {"redis://:topsecret@cache:6379?db=1", "must not have query parameters or a fragment"},
      {"redis://:topsecret@", "has no host"},
      {"redis://:topsecret@:6379", "has no host"},
      {"redis://:topsecret@cache:", "has a port that is not 1 to 65535"},
      {"redis://:topsecret@cache:65536", "has a port that is not 1 to 65535"},
      {"redis://:topsecret@cache:0", "has a port that is not 1 to 65535"},
      {"redis://:topsecret@cache:63x9", "has a port that is not 1 to 65535"},
      {"redis://:topsecret@cache/x",
       "has a database that is not a number from 0 (after the host: /0)"},
      {"redis://:topsecret@cache/-1",
       "has a database that is not a number from 0 (after the host: /0)"},
      {"redis://:topsecret@cache/1/2",
       "has a database that is not a number from 0 (after the host: /0)"},
      {"redis://:top%zzsecret@cache",
       "has a bad percent-encoding in the user or password (write '%' as %25)"},
      {"redis://:topsecret%2@cache",
       "has a bad percent-encoding in the user or password (write '%' as %25)"},
      {"redis://:topsecret@[::1", "has an unclosed IPv6 address"},
      {"redis://:topsecret@[::1]x", "has text after the IPv6 address"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseRedisUrl(c.url);
    ASSERT_FALSE(parsed) << c.url;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument) << c.url;
    EXPECT_EQ(parsed.error().message(), c.message + form) << c.url;
    EXPECT_EQ(parsed.error().message().find("topsecret"), std::string::npos) << c.url;
  }
}

}  // namespace
}  // namespace kc::checkpoint
