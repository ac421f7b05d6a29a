#include "stores/dynamodb/dynamodb_lease_table.h"

#include <simdjson.h>

#include <utility>

#include "base/json_writer.h"
#include "stores/dynamodb/item.h"

namespace kc::checkpoint {
namespace {

using dynamo_item::Attribute;
using dynamo_item::kHashKey;
using dynamo_item::Update;

// More leases than any stream has shards: a table that lists more is not a
// lease table of one stream, and is not read to its end.
constexpr size_t kMaxLeases = 100'000;

// The lease held by an item's attributes; `what` names the table in errors.
Result<Lease> ParseLease(simdjson::dom::object attrs, const std::string& what) {
  Lease lease;
  auto key = Attribute(attrs, kHashKey, "S");
  if (!key || key->empty()) return Fail(ErrorCode::kParse, what + ": an item without a leaseKey");
  lease.shard_id = std::string(*key);
  const std::string item = what + ", lease " + lease.shard_id;
  if (auto owner = Attribute(attrs, "leaseOwner", "S")) lease.owner = std::string(*owner);
  if (auto counter = Attribute(attrs, "leaseCounter", "N")) {
    auto n = dynamo_item::Number<int64_t>(*counter, "leaseCounter");
    if (!n) return Fail(n.error().With(item));
    lease.counter = *n;
  }
  simdjson::dom::array parents;
  if (attrs["parentShardId"]["SS"].get(parents) == simdjson::SUCCESS) {
    for (auto parent : parents) {
      std::string_view id;
      if (parent.get(id) != simdjson::SUCCESS) {
        return Fail(ErrorCode::kParse, item + ": parentShardId holds a value that is not a string");
      }
      lease.parents.emplace_back(id);
    }
  }
  if (auto to = Attribute(attrs, "kcHandoffTo", "S")) lease.handoff_to = std::string(*to);
  if (auto stream = Attribute(attrs, "kcStream", "S")) lease.stream = std::string(*stream);
  if (auto checkpoint = Attribute(attrs, "checkpoint", "S")) {
    lease.checkpoint = std::string(*checkpoint);
    lease.shard_end = *checkpoint == dynamo_item::kShardEnd;
  }
  return lease;
}

std::string Counter(int64_t n) { return std::to_string(n); }

}  // namespace

DynamoDbLeaseTable::DynamoDbLeaseTable(dynamodb::DynamoClient client, std::string table)
    : client_(std::move(client)), table_(std::move(table)) {}

std::string DynamoDbLeaseTable::Describe() const {
  return "DynamoDB lease table " + table_ + " (" + client_.Describe() + ")";
}

std::string DynamoDbLeaseTable::What(const std::string& shard_id) const {
  return "lease of shard " + shard_id + " in DynamoDB table " + table_;
}

Status DynamoDbLeaseTable::EnsureTable() {
  return table_once_.Ensure(client_, table_, "lease table");
}

Result<std::vector<Lease>> DynamoDbLeaseTable::List() {
  if (auto s = EnsureTable(); !s) return Fail(s.error());
  const std::string what = "DynamoDB lease table " + table_;
  std::vector<Lease> leases;
  std::string start_key;  // the LastEvaluatedKey of the page before, as JSON
  simdjson::dom::parser parser;
  do {
    util::JsonWriter w;
    w.BeginObject().Field("TableName", table_).Field("ConsistentRead", true);
    if (!start_key.empty()) w.Key("ExclusiveStartKey").Raw(start_key);
    w.EndObject();
    auto answer = client_.Call("Scan", w.str());
    if (!answer) return Fail(answer.error().With("listing the leases of " + what));
    simdjson::dom::object doc;
    simdjson::dom::array items;
    if (parser.parse(*answer).get(doc) != simdjson::SUCCESS ||
        doc["Items"].get(items) != simdjson::SUCCESS) {
      return Fail(ErrorCode::kParse, "Scan of " + what + ": the answer has no Items list");
    }
    for (auto element : items) {
      simdjson::dom::object attrs;
      if (element.get(attrs) != simdjson::SUCCESS) {
        return Fail(ErrorCode::kParse, "Scan of " + what + ": an item is not an object");
      }
      auto lease = ParseLease(attrs, what);
      if (!lease) return Fail(lease.error());
      leases.push_back(std::move(*lease));
      if (leases.size() > kMaxLeases) {
        return Fail(ErrorCode::kInvalidArgument,
                    what + " holds more than " + std::to_string(kMaxLeases) +
                        " items: it is not the lease table of one stream; name another table");
      }
    }
    simdjson::dom::object last;
    if (doc["LastEvaluatedKey"].get(last) == simdjson::SUCCESS) {
      std::string next = simdjson::to_string(last);
      if (next == start_key) {
        return Fail(ErrorCode::kParse, "Scan of " + what + ": the same page was given twice");
      }
      start_key = std::move(next);
    } else {
      start_key.clear();
    }
  } while (!start_key.empty());
  return leases;
}

Result<std::optional<Lease>> DynamoDbLeaseTable::Get(const std::string& shard_id,
                                                     ShardCheckpoint* state) {
  util::JsonWriter w;
  w.BeginObject().Field("TableName", table_).Key("Key").BeginObject().Key(kHashKey);
  w.BeginObject().Field("S", shard_id).EndObject().EndObject();
  w.Field("ConsistentRead", true).EndObject();
  auto answer = client_.Call("GetItem", w.str());
  if (!answer) return Fail(answer.error().With("reading the " + What(shard_id)));
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  if (parser.parse(*answer).get(doc) != simdjson::SUCCESS) {
    return Fail(ErrorCode::kParse, "GetItem of the " + What(shard_id) + ": not a JSON object");
  }
  simdjson::dom::object attrs;
  if (doc["Item"].get(attrs) != simdjson::SUCCESS) return std::optional<Lease>();
  auto lease = ParseLease(attrs, "DynamoDB table " + table_);
  if (!lease) return Fail(lease.error());
  if (state != nullptr) {
    auto read = dynamo_item::ReadState(attrs, What(shard_id));
    if (!read) return Fail(read.error());
    *state = std::move(*read);
  }
  return std::optional<Lease>(std::move(*lease));
}

Result<bool> DynamoDbLeaseTable::Create(const NewLease& lease) {
  if (auto s = EnsureTable(); !s) return Fail(s.error());
  util::JsonWriter w;
  w.BeginObject().Field("TableName", table_).Key("Item").BeginObject();
  auto put = [&w](const char* name, const char* type, const std::string& value) {
    w.Key(name).BeginObject().Field(type, value).EndObject();
  };
  put(kHashKey, "S", lease.shard_id);
  put("leaseCounter", "N", "0");
  put("ownerSwitchesSinceCheckpoint", "N", "0");
  put("checkpoint", "S", lease.initial_checkpoint);
  put("checkpointSubSequenceNumber", "N", "0");
  if (!lease.parents.empty()) {
    w.Key("parentShardId").BeginObject().Key("SS").BeginArray();
    for (const auto& p : lease.parents) w.String(p);
    w.EndArray().EndObject();
  }
  if (!lease.starting_hash_key.empty()) put("startingHashKey", "S", lease.starting_hash_key);
  if (!lease.ending_hash_key.empty()) put("endingHashKey", "S", lease.ending_hash_key);
  if (!lease.stream.empty()) put("kcStream", "S", lease.stream);
  w.EndObject();
  w.Field("ConditionExpression", "attribute_not_exists(#k)");
  w.Key("ExpressionAttributeNames").BeginObject().Field("#k", kHashKey).EndObject();
  w.EndObject();
  auto answer = client_.Call("PutItem", w.str());
  if (answer) return true;
  // There is one already: another worker made it, or an earlier attempt of
  // this call whose answer was lost.
  if (answer.error().code() == ErrorCode::kConflict) return false;
  return Fail(answer.error().With("creating the " + What(lease.shard_id)));
}

Result<Lease> DynamoDbLeaseTable::UpdateReturningLease(const std::string& shard_id,
                                                       const std::string& request) {
  auto answer = client_.Call("UpdateItem", request);
  if (!answer) return Fail(answer.error());
  simdjson::dom::parser parser;
  simdjson::dom::object attrs;
  if (parser.parse(*answer)["Attributes"].get(attrs) != simdjson::SUCCESS) {
    return Fail(ErrorCode::kParse,
                "UpdateItem of the " + What(shard_id) + ": the answer has no Attributes");
  }
  return ParseLease(attrs, "DynamoDB table " + table_);
}

Result<Lease> DynamoDbLeaseTable::Take(const Lease& seen, const std::string& owner) {
  if (auto s = EnsureTable(); !s) return Fail(s.error());
  Update update;
  const int64_t next = seen.counter + 1;
  update.Set("leaseOwner", "S", owner);
  update.Set("leaseCounter", "N", Counter(next));
  update.Remove("kcHandoffTo");
  if (seen.owner && *seen.owner != owner) update.Add("ownerSwitchesSinceCheckpoint", 1);
  std::string condition =
      seen.counter == 0
          ? "(attribute_not_exists(" + update.Name("leaseCounter") + ") OR " +
                update.Name("leaseCounter") + " = " + update.Value("N", "0") + ")"
          : update.Name("leaseCounter") + " = " + update.Value("N", Counter(seen.counter));
  condition += seen.owner
                   ? " AND " + update.Name("leaseOwner") + " = " + update.Value("S", *seen.owner)
                   : " AND attribute_not_exists(" + update.Name("leaseOwner") + ")";
  auto taken =
      UpdateReturningLease(seen.shard_id, update.Request(table_, seen.shard_id, condition, true));
  if (taken) return taken;
  if (taken.error().code() != ErrorCode::kConflict) {
    return Fail(taken.error().With("taking the " + What(seen.shard_id)));
  }
  auto now = Get(seen.shard_id);
  if (!now) return Fail(now.error());
  if (*now && (*now)->owner == owner && (*now)->counter == next) return std::move(**now);
  return Fail(ErrorCode::kConflict, "the " + What(seen.shard_id) + " changed before it was taken");
}

Result<Lease> DynamoDbLeaseTable::Renew(const std::string& shard_id, const LeaseHold& hold) {
  Update update;
  const int64_t next = hold.counter + 1;
  update.Set("leaseCounter", "N", Counter(next));
  const std::string condition = update.Name("leaseCounter") + " = " +
                                update.Value("N", Counter(hold.counter)) + " AND " +
                                update.Name("leaseOwner") + " = " + update.Value("S", hold.owner);
  auto renewed = UpdateReturningLease(shard_id, update.Request(table_, shard_id, condition, true));
  if (renewed) return renewed;
  if (renewed.error().code() != ErrorCode::kConflict) {
    return Fail(renewed.error().With("renewing the " + What(shard_id)));
  }
  auto now = Get(shard_id);
  if (!now) return Fail(now.error());
  if (*now && (*now)->owner == hold.owner && (*now)->counter == next) return std::move(**now);
  return Fail(ErrorCode::kConflict, "the " + What(shard_id) + " was taken by " +
                                        (*now && (*now)->owner ? *(*now)->owner : "no one") +
                                        "; worker " + hold.owner + " no longer holds it");
}

Status DynamoDbLeaseTable::RequestHandoff(const Lease& seen, const std::string& to) {
  if (!seen.owner) {
    return Fail(ErrorCode::kInvalidArgument, "the " + What(seen.shard_id) + " has no owner");
  }
  Update update;
  update.Set("kcHandoffTo", "S", to);
  const std::string condition = update.Name("leaseOwner") + " = " + update.Value("S", *seen.owner) +
                                " AND attribute_not_exists(" + update.Name("kcHandoffTo") + ")";
  auto answer = client_.Call("UpdateItem", update.Request(table_, seen.shard_id, condition));
  if (answer) return Ok();
  if (answer.error().code() != ErrorCode::kConflict) {
    return Fail(answer.error().With("asking for the " + What(seen.shard_id)));
  }
  auto now = Get(seen.shard_id);
  if (!now) return Fail(now.error());
  if (*now && (*now)->owner == seen.owner && (*now)->handoff_to == to) return Ok();
  return Fail(ErrorCode::kConflict,
              "the " + What(seen.shard_id) + " changed hands or was asked for already");
}

Status DynamoDbLeaseTable::Release(const std::string& shard_id, const LeaseHold& hold,
                                   const std::optional<std::string>& to) {
  Update update;
  const int64_t next = hold.counter + 1;
  update.Set("leaseCounter", "N", Counter(next));
  if (to) {
    update.Set("leaseOwner", "S", *to);
    if (*to != hold.owner) update.Add("ownerSwitchesSinceCheckpoint", 1);
  } else {
    update.Remove("leaseOwner");
  }
  update.Remove("kcHandoffTo");
  const std::string condition = update.Name("leaseCounter") + " = " +
                                update.Value("N", Counter(hold.counter)) + " AND " +
                                update.Name("leaseOwner") + " = " + update.Value("S", hold.owner);
  auto answer = client_.Call("UpdateItem", update.Request(table_, shard_id, condition));
  if (answer) return Ok();
  if (answer.error().code() != ErrorCode::kConflict) {
    return Fail(answer.error().With("releasing the " + What(shard_id)));
  }
  auto now = Get(shard_id);
  if (!now) return Fail(now.error());
  if (*now && (*now)->owner == to && (*now)->counter == next) return Ok();
  return Fail(ErrorCode::kConflict, "the " + What(shard_id) + " was no longer held by worker " +
                                        hold.owner + " when it released it");
}

Result<ShardCheckpoint> DynamoDbLeaseTable::Load(const std::string& shard_id) {
  if (auto s = EnsureTable(); !s) return Fail(s.error());
  ShardCheckpoint state;
  auto lease = Get(shard_id, &state);
  if (!lease) return Fail(lease.error().With("loading the checkpoint of shard " + shard_id));
  return state;
}

Result<int64_t> DynamoDbLeaseTable::Save(const std::string& shard_id, const LeaseHold& hold,
                                         const ShardCheckpoint& state) {
  Update update;
  const int64_t next = hold.counter + 1;
  update.SetState(state, /*keep_sentinel=*/true);
  update.Set("leaseCounter", "N", Counter(next));
  update.Set("ownerSwitchesSinceCheckpoint", "N", "0");
  const std::string condition = update.Name("leaseCounter") + " = " +
                                update.Value("N", Counter(hold.counter)) + " AND " +
                                update.Name("leaseOwner") + " = " + update.Value("S", hold.owner);
  auto answer = client_.Call("UpdateItem", update.Request(table_, shard_id, condition));
  if (answer) return next;
  if (answer.error().code() != ErrorCode::kConflict) {
    return Fail(answer.error().With("saving the checkpoint of shard " + shard_id));
  }
  ShardCheckpoint stored;
  auto now = Get(shard_id, &stored);
  if (!now) return Fail(now.error());
  if (*now && (*now)->owner == hold.owner && (*now)->counter == next && stored == state) {
    return next;
  }
  return Fail(ErrorCode::kConflict,
              "the checkpoint of shard " + shard_id + " was not saved: worker " + hold.owner +
                  " no longer holds its lease in DynamoDB table " + table_ + " (owner now " +
                  (*now && (*now)->owner ? *(*now)->owner : "none") + ")");
}

}  // namespace kc::checkpoint
