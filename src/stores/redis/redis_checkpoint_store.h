// RedisCheckpointStore: checkpoints in Redis, readable by the original Go
// library (harlow/kinesis-connectors) and by redis-cli.
//
//   {app}:checkpoint:{stream}:{shard}        the sequence number of the last record
//                                            emitted, a plain string (GET/SET), as
//                                            the Go library keeps it
//   {app}:checkpoint:{stream}:{shard}:state  the whole state as JSON (the file
//                                            store's format): sub-sequence number,
//                                            shard end, pending ranges
//
// Both keys are written in one MULTI/EXEC transaction and read with one MGET,
// so a Load sees the old or the new state, never a mix. A key written by the
// Go library alone loads as that position with sub-sequence number 0, so a
// user switching over replays nothing. When the plain key no longer matches
// the state beside it (the Go library or a user wrote it since), the plain
// key wins: the state is stale and is ignored with a warning.
//
// {app} is per pipeline (`apps`, pipeline name → app; others use
// `default_app`): the Go library's key has no pipeline in it, so pipelines
// reading the same stream need different apps.
//
// One connection (TLS with rediss://, the certificate always checked),
// guarded by a mutex, opened on first use. After a failure
// it is dropped and the next call connects again, so the store recovers from
// a Redis restart by itself. Errors name the server's address, never the
// password.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "clients/redis/redis_connection.h"
#include "clients/redis/redis_url.h"
#include "kc/checkpoint.h"

struct redisReply;  // hiredis

namespace kc::checkpoint {

struct RedisStoreOptions {
  RedisUrl url;
  std::string default_app;
  std::map<std::string, std::string> apps;  // pipeline name → app
  std::chrono::milliseconds connect_timeout{3'000};
  std::chrono::milliseconds command_timeout{5'000};
  std::string ca_file;  // with rediss://: the authorities to trust instead of the system's
};

class RedisCheckpointStore final : public CheckpointStore {
 public:
  explicit RedisCheckpointStore(RedisStoreOptions options);
  ~RedisCheckpointStore() override;

  Result<ShardCheckpoint> Load(const ShardKey& key) override;
  Status Save(const ShardKey& key, const ShardCheckpoint& state) override;
  std::string Describe() const override;

  // Connects as Load and Save do (authenticating, selecting the database)
  // and sends PING: Ok once the server answers PONG.
  Status Ping();

  // "{app}:checkpoint:{stream}:{shard}", the key the Go library reads.
  Result<std::string> KeyFor(const ShardKey& key) const;

 private:
  using Reply = RedisReply;

  // Connects (authenticating and selecting the database) unless connected.
  Status ConnectLocked();
  // Sends every command in one round trip on the open connection and returns
  // the replies in order. An I/O failure drops the connection and is a
  // kConnection error.
  Result<std::vector<Reply>> ExchangeLocked(const std::vector<std::vector<std::string>>& commands,
                                            std::string_view what);
  // ConnectLocked, then ExchangeLocked. `what` ("saving <key>") goes into errors.
  Result<std::vector<Reply>> RunLocked(const std::vector<std::vector<std::string>>& commands,
                                       std::string_view what);
  Error ConnectionError(std::string_view what, std::string_view detail) const;
  Error ReplyError(std::string_view what, const redisReply& reply) const;

  RedisStoreOptions options_;
  std::mutex mu_;
  std::unique_ptr<RedisConnection> connection_;
};

}  // namespace kc::checkpoint
