#include "stores/redis/redis_checkpoint_store.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <utility>

#include "stores/codec/checkpoint_codec.h"

namespace kc::checkpoint {
namespace {

// Where the extra state lives, next to the key the Go library reads.
constexpr std::string_view kStateSuffix = ":state";

// A string or nil; anything else is an unexpected answer.
Result<std::optional<std::string>> OptionalString(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_NIL) return std::optional<std::string>();
  if (reply.type == REDIS_REPLY_STRING)
    return std::optional<std::string>(std::string(reply.str, reply.len));
  return Fail(ErrorCode::kParse,
              "expected a string or nil, got reply type " + std::to_string(reply.type));
}

bool StartsWith(const redisReply& reply, std::string_view prefix) {
  return std::string_view(reply.str, reply.len).starts_with(prefix);
}

}  // namespace

RedisCheckpointStore::RedisCheckpointStore(RedisStoreOptions options)
    : options_(std::move(options)) {}

RedisCheckpointStore::~RedisCheckpointStore() = default;

Result<std::string> RedisCheckpointStore::KeyFor(const ShardKey& key) const {
  // ':' separates the parts of the key: inside a part it would let two
  // shards' keys collide.
  for (const std::string* s : {&key.stream, &key.shard}) {
    if (s->empty() || s->find(':') != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "'" + *s + "' cannot be part of a Redis checkpoint key (empty or contains ':')");
    }
  }
  auto it = options_.apps.find(key.pipeline);
  const std::string& app = it != options_.apps.end() ? it->second : options_.default_app;
  return app + ":checkpoint:" + key.stream + ":" + key.shard;
}

Error RedisCheckpointStore::ConnectionError(std::string_view what, std::string_view detail) const {
  return Error(ErrorCode::kConnection,
               "cannot reach Redis at " + options_.url.Address() + " while " + std::string(what) +
                   " (" + std::string(detail) +
                   "); check that the server is running and that checkpoint.url points at it");
}

Error RedisCheckpointStore::ReplyError(std::string_view what, const redisReply& reply) const {
  const std::string where = "Redis at " + options_.url.Address();
  const std::string answer = std::string(reply.str, reply.len);
  if (StartsWith(reply, "NOAUTH")) {
    return Error(ErrorCode::kAuth,
                 where + " requires a password (" + answer +
                     "); put it in checkpoint.url (redis://:password@host:port) or in "
                     "REDIS_PASSWORD");
  }
  if (StartsWith(reply, "WRONGPASS") || StartsWith(reply, "NOPERM") ||
      StartsWith(reply, "ERR invalid password") || StartsWith(reply, "ERR AUTH")) {
    return Error(ErrorCode::kAuth, where + " refused the credentials while " + std::string(what) +
                                       " (" + answer +
                                       "); check the user and password in checkpoint.url or "
                                       "REDIS_PASSWORD");
  }
  // A server that is starting, failing over or busy answers again later.
  for (std::string_view transient : {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY"}) {
    if (StartsWith(reply, transient)) {
      return Error(ErrorCode::kUnavailable,
                   where + " is not ready while " + std::string(what) + " (" + answer + ")");
    }
  }
  return Error(ErrorCode::kInternal,
               where + " answered with an error while " + std::string(what) + ": " + answer);
}

Result<std::vector<RedisCheckpointStore::Reply>> RedisCheckpointStore::ExchangeLocked(
    const std::vector<std::vector<std::string>>& commands, std::string_view what) {
  auto replies = connection_->Exchange(commands);
  if (!replies) {
    // The connection is in an unknown state: the next call starts afresh.
    connection_.reset();
    if (replies.error().code() == ErrorCode::kConnection) {
      return Fail(ConnectionError(what, replies.error().message()));
    }
    return Fail(replies.error().With(std::string(what)));
  }
  return replies;
}

Status RedisCheckpointStore::ConnectLocked() {
  if (connection_) return Ok();
  RedisConnectOptions connect;
  connect.connect_timeout = options_.connect_timeout;
  connect.command_timeout = options_.command_timeout;
  connect.ca_file = options_.ca_file;
  auto c = RedisConnection::Open(options_.url, connect);
  if (!c) {
    if (c.error().code() == ErrorCode::kConnection) {
      return Fail(ConnectionError("connecting", c.error().message()));
    }
    return Fail(c.error());
  }
  connection_ = std::move(*c);
  std::vector<std::vector<std::string>> setup;
  if (!options_.url.password.empty()) {
    if (options_.url.user.empty()) {
      setup.push_back({"AUTH", options_.url.password});
    } else {
      setup.push_back({"AUTH", options_.url.user, options_.url.password});
    }
  }
  if (options_.url.db != 0) setup.push_back({"SELECT", std::to_string(options_.url.db)});
  if (setup.empty()) return Ok();
  auto replies = ExchangeLocked(setup, "connecting");
  if (!replies) return Fail(replies.error());
  for (size_t i = 0; i < replies->size(); ++i) {
    const redisReply& reply = *(*replies)[i];
    if (reply.type != REDIS_REPLY_ERROR) continue;
    const bool select = setup[i][0] == "SELECT";
    Error e = ReplyError(select ? "selecting the database" : "authenticating", reply);
    connection_.reset();
    if (select) {
      return Fail(ErrorCode::kConfig,
                  e.message() +
                      "; the database number after the host in checkpoint.url must "
                      "be one the server has (0 to databases-1)");
    }
    return Fail(std::move(e));
  }
  return Ok();
}

Result<std::vector<RedisCheckpointStore::Reply>> RedisCheckpointStore::RunLocked(
    const std::vector<std::vector<std::string>>& commands, std::string_view what) {
  if (auto connected = ConnectLocked(); !connected) return Fail(connected.error());
  return ExchangeLocked(commands, what);
}

Status RedisCheckpointStore::Ping() {
  std::lock_guard lock(mu_);
  auto replies = RunLocked({{"PING"}}, "sending PING");
  if (!replies) return Fail(replies.error());
  const redisReply& reply = *replies->front();
  if (reply.type == REDIS_REPLY_ERROR) return Fail(ReplyError("sending PING", reply));
  if (reply.type != REDIS_REPLY_STATUS || std::string_view(reply.str, reply.len) != "PONG") {
    return Fail(ErrorCode::kParse, Describe() + ": PING was not answered PONG: not a Redis server");
  }
  return Ok();
}

Result<ShardCheckpoint> RedisCheckpointStore::Load(const ShardKey& key) {
  auto main_key = KeyFor(key);
  if (!main_key) return Fail(main_key.error());
  const std::string state_key = *main_key + std::string(kStateSuffix);
  const std::string what = "reading " + *main_key;

  std::optional<std::string> sequence;
  std::optional<std::string> json;
  {
    std::lock_guard lock(mu_);
    // One MGET: both keys from the same instant.
    auto replies = RunLocked({{"MGET", *main_key, state_key}}, what);
    if (!replies) return Fail(replies.error());
    const redisReply& reply = *replies->front();
    if (reply.type == REDIS_REPLY_ERROR) return Fail(ReplyError(what, reply));
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2) {
      return Fail(ErrorCode::kParse, "Redis at " + options_.url.Address() +
                                         " answered MGET with an unexpected reply while " + what);
    }
    auto first = OptionalString(*reply.element[0]);
    auto second = OptionalString(*reply.element[1]);
    if (!first || !second) {
      return Fail(ErrorCode::kParse, "Redis at " + options_.url.Address() +
                                         " answered MGET with an unexpected reply while " + what);
    }
    sequence = std::move(*first);
    json = std::move(*second);
  }

  if (sequence && !IsValidSequenceNumber(*sequence)) {
    return Fail(ErrorCode::kParse,
                "Redis key " + *main_key +
                    " does not hold a sequence number (up to 129 digits); set it to the sequence "
                    "number of the last record done, or delete it to start the shard again from "
                    "start_at");
  }
  ShardCheckpoint plain;
  if (sequence) plain.position = ShardPosition{*sequence, 0};
  if (!json) return plain;  // never saved, or saved by the Go library only

  auto state = DecodeShardCheckpoint(*json);
  if (!state) {
    return Fail(ErrorCode::kParse, "Redis key " + state_key + " is damaged (" +
                                       state.error().message() + "); delete it to resume from " +
                                       "the sequence number in " + *main_key + " alone");
  }
  const bool matches = state->position ? sequence == state->position->sequence_number : !sequence;
  if (!matches) {
    spdlog::warn(
        "Redis key {} was changed by another writer since {} was saved; resuming from the "
        "sequence number in {} alone",
        *main_key, state_key, *main_key);
    return plain;
  }
  return std::move(*state);
}

Status RedisCheckpointStore::Save(const ShardKey& key, const ShardCheckpoint& state) {
  auto main_key = KeyFor(key);
  if (!main_key) return Fail(main_key.error());
  const std::string state_key = *main_key + std::string(kStateSuffix);
  const std::string what = "saving " + *main_key;
  std::vector<std::string> main_command = {"DEL", *main_key};
  if (state.position) main_command = {"SET", *main_key, state.position->sequence_number};
  // One transaction: a reader sees both keys old or both new.
  const std::vector<std::vector<std::string>> commands = {
      {"MULTI"}, main_command, {"SET", state_key, EncodeShardCheckpoint(state)}, {"EXEC"}};

  std::lock_guard lock(mu_);
  auto replies = RunLocked(commands, what);
  if (!replies) return Fail(replies.error());
  for (const Reply& reply : *replies) {
    if (reply->type == REDIS_REPLY_ERROR) return Fail(ReplyError(what, *reply));
  }
  const redisReply& exec = *replies->back();
  if (exec.type != REDIS_REPLY_ARRAY || exec.elements != 2) {
    return Fail(ErrorCode::kInternal, "Redis at " + options_.url.Address() +
                                          " did not run the transaction while " + what);
  }
  for (size_t i = 0; i < exec.elements; ++i) {
    if (exec.element[i]->type == REDIS_REPLY_ERROR) return Fail(ReplyError(what, *exec.element[i]));
  }
  return Ok();
}

std::string RedisCheckpointStore::Describe() const {
  return "redis store at " + options_.url.Address() + " db " + std::to_string(options_.url.db);
}

}  // namespace kc::checkpoint
