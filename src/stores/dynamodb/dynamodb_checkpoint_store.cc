#include "stores/dynamodb/dynamodb_checkpoint_store.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <utility>
#include <vector>

#include "base/json_writer.h"
#include "stores/codec/checkpoint_codec.h"

namespace kc::checkpoint {
namespace {

constexpr char kShardEnd[] = "SHARD_END";

// An attribute's {"S": …} or {"N": …} text, if it has that type.
std::optional<std::string_view> Attribute(simdjson::dom::object item, std::string_view name,
                                          std::string_view type) {
  std::string_view v;
  if (item[name][type].get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

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
  std::string Name(const char* attribute) {
    std::string placeholder = "#a" + std::to_string(names_.size());
    names_.emplace_back(placeholder, attribute);
    return placeholder;
  }
  std::string Value(const char* type, std::string value) {
    std::string placeholder = ":v" + std::to_string(values_.size());
    values_.push_back({placeholder, type, std::move(value)});
    return placeholder;
  }

  std::string Request(const std::string& table, const std::string& lease_key,
                      const std::string& condition) const {
    std::string expression = "SET ";
    for (size_t i = 0; i < sets_.size(); ++i) expression += (i ? ", " : "") + sets_[i];
    for (size_t i = 0; i < removes_.size(); ++i) {
      expression += (i ? ", " : " REMOVE ") + removes_[i];
    }
    util::JsonWriter w;
    w.BeginObject()
        .Field("TableName", table)
        .Key("Key")
        .BeginObject()
        .Key(DynamoDbCheckpointStore::kHashKey);
    w.BeginObject().Field("S", lease_key).EndObject().EndObject();
    w.Field("UpdateExpression", expression).Field("ConditionExpression", condition);
    w.Key("ExpressionAttributeNames").BeginObject();
    for (const auto& [placeholder, name] : names_) w.Field(placeholder, name);
    w.EndObject().Key("ExpressionAttributeValues").BeginObject();
    for (const auto& v : values_) {
      w.Key(v.placeholder).BeginObject().Field(v.type, v.value).EndObject();
    }
    w.EndObject().EndObject();
    return w.Take();
  }

 private:
  struct Val {
    std::string placeholder;
    const char* type;
    std::string value;
  };
  std::vector<std::string> sets_;
  std::vector<std::string> removes_;
  std::vector<std::pair<std::string, std::string>> names_;
  std::vector<Val> values_;
};

std::string Where(const ShardKey& key) {
  return "shard " + key.shard + " of stream " + key.stream + " (pipeline " + key.pipeline + ")";
}

}  // namespace

DynamoDbCheckpointStore::DynamoDbCheckpointStore(dynamodb::DynamoClient client, std::string table)
    : client_(std::move(client)), table_(std::move(table)) {}

std::string DynamoDbCheckpointStore::LeaseKeyFor(const ShardKey& key) {
  return key.pipeline + ":" + key.stream + ":" + key.shard;
}

std::string DynamoDbCheckpointStore::Describe() const {
  return "DynamoDB table " + table_ + " (" + client_.Describe() + ")";
}

Status DynamoDbCheckpointStore::EnsureTable() {
  {
    std::lock_guard lock(mu_);
    if (table_ready_) return Ok();
  }
  // Not under the lock: shards that load at once each check (a second
  // CreateTable finds the table and is as good), none waits behind another.
  if (auto s = client_.EnsureTable(table_, kHashKey); !s) {
    return Fail(s.error().With("checkpoint table " + table_));
  }
  std::lock_guard lock(mu_);
  table_ready_ = true;
  return Ok();
}

void DynamoDbCheckpointStore::Remember(const std::string& lease_key, const Version& version) {
  std::lock_guard lock(mu_);
  versions_[lease_key] = version;
}

Result<DynamoDbCheckpointStore::Item> DynamoDbCheckpointStore::Read(const ShardKey& key,
                                                                    const std::string& lease_key) {
  util::JsonWriter w;
  w.BeginObject().Field("TableName", table_).Key("Key").BeginObject().Key(kHashKey);
  w.BeginObject().Field("S", lease_key).EndObject().EndObject();
  w.Field("ConsistentRead", true).EndObject();
  auto answer = client_.Call("GetItem", w.str());
  if (!answer) return Fail(answer.error().With("loading the checkpoint of " + Where(key)));

  const std::string what = "checkpoint item '" + lease_key + "' in DynamoDB table " + table_;
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  if (parser.parse(*answer).get(doc) != simdjson::SUCCESS) {
    return Fail(ErrorCode::kParse, "GetItem of " + what + ": the answer is not a JSON object");
  }
  Item item;
  simdjson::dom::object attrs;
  if (doc["Item"].get(attrs) != simdjson::SUCCESS) return item;
  item.version.exists = true;
  if (auto counter = Attribute(attrs, "leaseCounter", "N")) {
    auto n = Number<int64_t>(*counter, "leaseCounter");
    if (!n) return Fail(n.error().With(what));
    item.version.has_counter = true;
    item.version.counter = *n;
  }

  auto sub_of = [&](const char* name) -> Result<uint64_t> {
    auto text = Attribute(attrs, name, "N");
    if (!text) return uint64_t{0};
    return Number<uint64_t>(*text, name);
  };
  std::optional<std::string_view> checkpoint = Attribute(attrs, "checkpoint", "S");
  std::optional<std::string_view> last = Attribute(attrs, "kcLastSequenceNumber", "S");
  auto checkpoint_sub = sub_of("checkpointSubSequenceNumber");
  if (!checkpoint_sub) return Fail(checkpoint_sub.error().With(what));
  auto last_sub = sub_of("kcLastSubSequenceNumber");
  if (!last_sub) return Fail(last_sub.error().With(what));
  if (last && !IsValidSequenceNumber(*last)) {
    return Fail(ErrorCode::kParse,
                what + ": kcLastSequenceNumber '" + std::string(*last) +
                    "' is not a sequence number; fix or delete the item to start over");
  }
  ShardCheckpoint& state = item.state;
  // What this store wrote: `checkpoint` mirrors the position, or is
  // SHARD_END beside it. Anything else was written by someone else (a user
  // moving the shard with the AWS CLI, another program), and wins.
  const bool ours = checkpoint == kShardEnd || (!checkpoint && !last) ||
                    (checkpoint && last == checkpoint && *checkpoint_sub == *last_sub);
  const bool has_ours = last || attrs["kcPendingBatches"].error() == simdjson::SUCCESS;
  if (!ours) {
    if (checkpoint && IsValidSequenceNumber(*checkpoint)) {
      state.position = ShardPosition{std::string(*checkpoint), *checkpoint_sub};
    } else if (checkpoint && *checkpoint != "TRIM_HORIZON" && *checkpoint != "LATEST" &&
               *checkpoint != "AT_TIMESTAMP") {
      return Fail(ErrorCode::kParse, what + ": checkpoint '" +
                                         std::string(checkpoint->substr(0, 64)) +
                                         "' is neither a sequence number nor SHARD_END, "
                                         "TRIM_HORIZON, LATEST or AT_TIMESTAMP; set it to one "
                                         "or delete the item to start the shard over");
    }
    // A sentinel, or no checkpoint: nothing emitted, start where the config says.
    if (has_ours) {
      spdlog::warn(
          "{}: checkpoint '{}' was set by someone else; resuming {} and ignoring the position "
          "and batch ranges kept beside it",
          what, checkpoint.value_or("(removed)"),
          state.position ? "after it" : "where start_at says");
    }
    return item;
  }
  state.shard_end = checkpoint == kShardEnd;
  if (last) state.position = ShardPosition{std::string(*last), *last_sub};
  if (auto pending = Attribute(attrs, "kcPendingBatches", "S")) {
    auto ranges = DecodePendingRanges(*pending);
    if (!ranges) return Fail(ranges.error().With(what + ", kcPendingBatches"));
    state.pending = std::move(*ranges);
  }
  return item;
}

Result<ShardCheckpoint> DynamoDbCheckpointStore::Load(const ShardKey& key) {
  if (auto s = EnsureTable(); !s) return Fail(s.error());
  const std::string lease_key = LeaseKeyFor(key);
  auto item = Read(key, lease_key);
  if (!item) return Fail(item.error());
  Remember(lease_key, item->version);
  return std::move(item->state);
}

Status DynamoDbCheckpointStore::Save(const ShardKey& key, const ShardCheckpoint& state) {
  if (auto s = EnsureTable(); !s) return Fail(s.error());
  const std::string lease_key = LeaseKeyFor(key);
  std::optional<Version> known;
  {
    std::lock_guard lock(mu_);
    if (auto it = versions_.find(lease_key); it != versions_.end()) known = it->second;
  }
  if (!known) {
    auto item = Read(key, lease_key);
    if (!item) return Fail(item.error());
    known = item->version;
  }
  const Version next{
      .exists = true, .has_counter = true, .counter = known->has_counter ? known->counter + 1 : 1};

  Update update;
  std::string condition;
  if (!known->exists) {
    condition = "attribute_not_exists(" + update.Name(kHashKey) + ")";
  } else if (!known->has_counter) {
    condition = "attribute_exists(" + update.Name(kHashKey) + ") AND attribute_not_exists(" +
                update.Name("leaseCounter") + ")";
  } else {
    condition =
        update.Name("leaseCounter") + " = " + update.Value("N", std::to_string(known->counter));
  }
  if (state.position) {
    update.Set("checkpoint", "S", state.shard_end ? kShardEnd : state.position->sequence_number);
    update.Set("checkpointSubSequenceNumber", "N",
               std::to_string(state.shard_end ? 0 : state.position->sub_sequence_number));
    update.Set("kcLastSequenceNumber", "S", state.position->sequence_number);
    update.Set("kcLastSubSequenceNumber", "N", std::to_string(state.position->sub_sequence_number));
  } else {
    if (state.shard_end) {
      update.Set("checkpoint", "S", kShardEnd);
      update.Set("checkpointSubSequenceNumber", "N", "0");
    } else {
      update.Remove("checkpoint");
      update.Remove("checkpointSubSequenceNumber");
    }
    update.Remove("kcLastSequenceNumber");
    update.Remove("kcLastSubSequenceNumber");
  }
  if (state.pending.empty()) {
    update.Remove("kcPendingBatches");
  } else {
    update.Set("kcPendingBatches", "S", EncodePendingRanges(state.pending));
  }
  update.Set("leaseCounter", "N", std::to_string(next.counter));
  update.Set("ownerSwitchesSinceCheckpoint", "N", "0");

  auto answer = client_.Call("UpdateItem", update.Request(table_, lease_key, condition));
  if (answer) {
    Remember(lease_key, next);
    return Ok();
  }
  if (answer.error().code() != ErrorCode::kConflict) {
    return Fail(answer.error().With("saving the checkpoint of " + Where(key)));
  }
  // Either an earlier attempt of this very save was applied and its answer
  // lost, or someone else wrote the item.
  auto now = Read(key, lease_key);
  if (!now) return Fail(now.error());
  if (now->version == next && now->state == state) {
    Remember(lease_key, next);
    return Ok();
  }
  Remember(lease_key, *known);  // keep refusing until a restart loads it again
  return Fail(ErrorCode::kConflict,
              "the checkpoint of " + Where(key) + " in DynamoDB table " + table_ +
                  " was changed by another writer (leaseCounter " +
                  (now->version.has_counter ? std::to_string(now->version.counter) : "absent") +
                  ", expected " + (known->has_counter ? std::to_string(known->counter) : "absent") +
                  "); stopping rather than moving it backwards. Is a second kinesis-connect "
                  "running with the same table and pipeline?");
}

}  // namespace kc::checkpoint
