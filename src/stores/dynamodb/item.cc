#include "stores/dynamodb/item.h"

#include <spdlog/spdlog.h>

#include "base/json_writer.h"
#include "stores/codec/checkpoint_codec.h"

namespace kc::checkpoint::dynamo_item {

std::optional<std::string_view> Attribute(simdjson::dom::object item, std::string_view name,
                                          std::string_view type) {
  std::string_view v;
  if (item[name][type].get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

Result<ShardCheckpoint> ReadState(simdjson::dom::object attrs, const std::string& what) {
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
  ShardCheckpoint state;
  // What this project wrote: `checkpoint` mirrors the position, or is
  // SHARD_END beside it. Anything else was written by someone else (a user
  // moving the shard with the AWS CLI, another program), and wins.
  // A lease keeps the sentinel it was created with until the first
  // position, so a sentinel without a position beside it is ours as well
  // (and the pending range of a shard's first batch is kept).
  const bool sentinel =
      checkpoint == "TRIM_HORIZON" || checkpoint == "LATEST" || checkpoint == "AT_TIMESTAMP";
  const bool ours = checkpoint == kShardEnd || (!last && (!checkpoint || sentinel)) ||
                    (checkpoint && last == checkpoint && *checkpoint_sub == *last_sub);
  const bool has_ours = last || attrs["kcPendingBatches"].error() == simdjson::SUCCESS;
  if (!ours) {
    if (checkpoint && IsValidSequenceNumber(*checkpoint)) {
      state.position = ShardPosition{std::string(*checkpoint), *checkpoint_sub};
    } else if (checkpoint && !sentinel) {
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
    return state;
  }
  state.shard_end = checkpoint == kShardEnd;
  if (last) state.position = ShardPosition{std::string(*last), *last_sub};
  if (auto pending = Attribute(attrs, "kcPendingBatches", "S")) {
    auto ranges = DecodePendingRanges(*pending);
    if (!ranges) return Fail(ranges.error().With(what + ", kcPendingBatches"));
    state.pending = std::move(*ranges);
  }
  return state;
}

void Update::SetState(const ShardCheckpoint& state, bool keep_sentinel) {
  if (state.position) {
    Set("checkpoint", "S", state.shard_end ? kShardEnd : state.position->sequence_number);
    Set("checkpointSubSequenceNumber", "N",
        std::to_string(state.shard_end ? 0 : state.position->sub_sequence_number));
    Set("kcLastSequenceNumber", "S", state.position->sequence_number);
    Set("kcLastSubSequenceNumber", "N", std::to_string(state.position->sub_sequence_number));
  } else {
    if (state.shard_end) {
      Set("checkpoint", "S", kShardEnd);
      Set("checkpointSubSequenceNumber", "N", "0");
    } else if (!keep_sentinel) {
      Remove("checkpoint");
      Remove("checkpointSubSequenceNumber");
    }
    Remove("kcLastSequenceNumber");
    Remove("kcLastSubSequenceNumber");
  }
  if (state.pending.empty()) {
    Remove("kcPendingBatches");
  } else {
    Set("kcPendingBatches", "S", EncodePendingRanges(state.pending));
  }
}

std::string Update::Name(const char* attribute) {
  for (const auto& [placeholder, name] : names_) {
    if (name == attribute) return placeholder;
  }
  std::string placeholder = "#a" + std::to_string(names_.size());
  names_.emplace_back(placeholder, attribute);
  return placeholder;
}

std::string Update::Value(const char* type, std::string value) {
  std::string placeholder = ":v" + std::to_string(values_.size());
  values_.push_back({placeholder, type, std::move(value), {}});
  return placeholder;
}

std::string Update::SetValue(const std::vector<std::string>& strings) {
  std::string placeholder = ":v" + std::to_string(values_.size());
  values_.push_back({placeholder, "SS", {}, strings});
  return placeholder;
}

std::string Update::Request(const std::string& table, const std::string& lease_key,
                            const std::string& condition, bool return_new) const {
  std::string expression;
  for (size_t i = 0; i < sets_.size(); ++i) expression += (i ? ", " : "SET ") + sets_[i];
  for (size_t i = 0; i < removes_.size(); ++i) {
    expression += (i ? ", " : (expression.empty() ? "REMOVE " : " REMOVE ")) + removes_[i];
  }
  for (size_t i = 0; i < adds_.size(); ++i) {
    expression += (i ? ", " : (expression.empty() ? "ADD " : " ADD ")) + adds_[i];
  }
  util::JsonWriter w;
  w.BeginObject().Field("TableName", table).Key("Key").BeginObject().Key(kHashKey);
  w.BeginObject().Field("S", lease_key).EndObject().EndObject();
  w.Field("UpdateExpression", expression).Field("ConditionExpression", condition);
  if (return_new) w.Field("ReturnValues", "ALL_NEW");
  w.Key("ExpressionAttributeNames").BeginObject();
  for (const auto& [placeholder, name] : names_) w.Field(placeholder, name);
  w.EndObject();
  if (!values_.empty()) {
    w.Key("ExpressionAttributeValues").BeginObject();
    for (const auto& v : values_) {
      w.Key(v.placeholder).BeginObject();
      if (v.strings.empty()) {
        w.Field(v.type, v.value);
      } else {
        w.Key(v.type).BeginArray();
        for (const auto& s : v.strings) w.String(s);
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
  return w.Take();
}

}  // namespace kc::checkpoint::dynamo_item
