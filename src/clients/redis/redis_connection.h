// One connection to a Redis server, over TCP or TLS, that sends commands in
// a batch and reads their replies in order.
//
// hiredis parses the replies and formats the commands; the socket and TLS
// are this class's own, because the hiredis of Debian 12 (0.14) has no TLS.
// With TLS the server's certificate is checked against the system's
// authorities (or `ca_file`) and its name against the URL's host, always.
//
// Every call is bounded: connecting by connect_timeout, an exchange by
// command_timeout in all, and a reply by max_reply_bytes, so a server that
// stalls, trickles or answers without end holds neither a thread nor memory.
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "clients/redis/redis_url.h"
#include "kc/status.h"

struct redisReply;  // hiredis
struct redisReader;
struct ssl_st;
struct ssl_ctx_st;

namespace kc::checkpoint {

struct RedisConnectOptions {
  std::chrono::milliseconds connect_timeout{3'000};
  std::chrono::milliseconds command_timeout{5'000};
  // With rediss://: a file of PEM certificates, the authorities to trust
  // instead of the system's.
  std::string ca_file;
  // The most one exchange may read; checkpoints are a few KB.
  uint64_t max_reply_bytes = 16ull << 20;
};

struct RedisReplyDeleter {
  void operator()(redisReply* r) const;
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

class RedisConnection {
 public:
  // Connects, and with url.tls completes the TLS handshake. Errors:
  // kConnection (unreachable, refused, timed out: worth another try),
  // kInvalidArgument (the certificate or the TLS set-up is wrong: another
  // try fails the same way). Messages name host and port, never the
  // credentials; AUTH and SELECT are the caller's.
  static Result<std::unique_ptr<RedisConnection>> Open(const RedisUrl& url,
                                                       const RedisConnectOptions& options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends `commands` in one write and reads one reply for each. A failure
  // (kConnection for the network or a timeout, kParse for an answer that is
  // not RESP or is too long) leaves the connection unusable: drop it.
  Result<std::vector<RedisReply>> Exchange(const std::vector<std::vector<std::string>>& commands);

  bool tls() const { return ssl_ != nullptr; }

 private:
  RedisConnection() = default;
  Status WriteAll(const std::string& data, std::chrono::steady_clock::time_point deadline);
  // Reads what is there into the reader: kConnection on close or timeout.
  Status ReadSome(std::chrono::steady_clock::time_point deadline);

  std::string address_;  // "host:port", for messages
  RedisConnectOptions options_;
  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  redisReader* reader_ = nullptr;
  uint64_t received_ = 0;  // by the exchange under way
};

}  // namespace kc::checkpoint
