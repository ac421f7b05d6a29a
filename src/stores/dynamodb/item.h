// The items of the DynamoDB checkpoint store and lease table: one shard
// each, read and written the same way by both.
//
// A shard's state is kept in the Kinesis Client Library's attributes where
// they mean the same thing, and in attributes of this project's own (named
// kc…, which a KCL worker ignores) where they do not:
//
//   checkpoint (S)                   the last emitted record's sequence number,
//                                    or "SHARD_END" once the closed shard is done
//   checkpointSubSequenceNumber (N)  its sub-sequence number (0 at SHARD_END)
//   kcLastSequenceNumber (S),        the position itself, kept at SHARD_END too
//   kcLastSubSequenceNumber (N)
//   kcPendingBatches (S)             the cut, unacknowledged batch ranges as
//                                    JSON; absent when there are none
//
// `checkpoint` may be changed by someone else (a user moving a shard with
// the AWS CLI, a KCL worker): whenever it differs from the position written
// beside it, it wins and the pending ranges are ignored. A sequence number
// resumes after it; TRIM_HORIZON, LATEST, AT_TIMESTAMP or no checkpoint
// mean "nothing emitted yet" (the pipeline starts where its config says;
// the pending range is kept when no position is beside the sentinel, as a
// lease holds it before its first checkpoint); any other value is an error
// naming the item.
#pragma once

#include <simdjson.h>

#include <charconv>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clients/dynamodb/client.h"
#include "kc/checkpoint.h"
#include "kc/status.h"

namespace kc::checkpoint::dynamo_item {

inline constexpr char kHashKey[] = "leaseKey";

// A table made at its first use (DynamoClient::EnsureTable), once.
class TableOnce {
 public:
  // `what` names the table in errors ("checkpoint table", "lease table").
  Status Ensure(const dynamodb::DynamoClient& client, const std::string& table, const char* what) {
    {
      std::lock_guard lock(mu_);
      if (ready_) return Ok();
    }
    // Not under the lock: callers at once each check (a second CreateTable
    // finds the table and is as good), none waits behind another.
    if (auto s = client.EnsureTable(table, kHashKey); !s) {
      return Fail(s.error().With(std::string(what) + " " + table));
    }
    std::lock_guard lock(mu_);
    ready_ = true;
    return Ok();
  }

 private:
  std::mutex mu_;
  bool ready_ = false;  // guarded by mu_
};
inline constexpr char kShardEnd[] = "SHARD_END";

// An attribute's {"S": …} or {"N": …} text, if it has that type.
std::optional<std::string_view> Attribute(simdjson::dom::object item, std::string_view name,
                                          std::string_view type);

template <typename T>
Result<T> Number(std::string_view text, std::string_view name) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Fail(ErrorCode::kParse,
                std::string(name) + " is not an integer: '" + std::string(text) + "'");
  }
  return value;
}

// The shard's state held by `item`; `what` names the item in errors.
Result<ShardCheckpoint> ReadState(simdjson::dom::object item, const std::string& what);

// Builds an UpdateItem's expressions, naming every attribute through
// ExpressionAttributeNames (some, like "checkpoint"'s neighbours, are
// reserved words) and declaring only what the expressions use, as DynamoDB
// requires.
class Update {
 public:
  void Set(const char* attribute, const char* type, std::string value) {
    sets_.push_back(Name(attribute) + " = " + Value(type, std::move(value)));
  }
  void Remove(const char* attribute) { removes_.push_back(Name(attribute)); }
  // ADD: a number attribute grows by `n` (from 0 when absent).
  void Add(const char* attribute, int64_t n) {
    adds_.push_back(Name(attribute) + " " + Value("N", std::to_string(n)));
  }
  // Sets or removes the attributes that hold `state` (see above).
  // `keep_sentinel`: a state without a position leaves `checkpoint` as it is
  // (a lease's TRIM_HORIZON, LATEST or AT_TIMESTAMP, which a KCL worker
  // needs) instead of removing it.
  void SetState(const ShardCheckpoint& state, bool keep_sentinel = false);
  std::string Name(const char* attribute);
  std::string Value(const char* type, std::string value);
  // A string set value, for conditions and SET.
  std::string SetValue(const std::vector<std::string>& strings);

  // The UpdateItem request; `return_new`: the answer holds the item as
  // written (ReturnValues ALL_NEW).
  std::string Request(const std::string& table, const std::string& lease_key,
                      const std::string& condition, bool return_new = false) const;

 private:
  struct Val {
    std::string placeholder;
    const char* type;
    std::string value;                 // for S and N
    std::vector<std::string> strings;  // for SS
  };
  std::vector<std::string> sets_;
  std::vector<std::string> removes_;
  std::vector<std::string> adds_;
  std::vector<std::pair<std::string, std::string>> names_;
  std::vector<Val> values_;
};

}  // namespace kc::checkpoint::dynamo_item
