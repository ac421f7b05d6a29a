#include "stores/dynamodb/dynamodb_checkpoint_store.h"

#include <simdjson.h>

#include <utility>

#include "base/json_writer.h"
#include "stores/dynamodb/item.h"

namespace kc::checkpoint {
namespace {

using dynamo_item::Attribute;
using dynamo_item::Number;
using dynamo_item::Update;

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
  return table_once_.Ensure(client_, table_, "checkpoint table");
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

  auto state = dynamo_item::ReadState(attrs, what);
  if (!state) return Fail(state.error());
  item.state = std::move(*state);
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
  update.SetState(state);
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
