#include "stores/codec/checkpoint_codec.h"

#include <simdjson.h>

#include "base/json_writer.h"

namespace kc::checkpoint {
namespace {

void WritePosition(util::JsonWriter& w, const char* seq_key, const char* sub_key,
                   const ShardPosition& p) {
  w.Field(seq_key, p.sequence_number).Field(sub_key, p.sub_sequence_number);
}

Result<ShardPosition> ReadPosition(simdjson::dom::object o, const char* seq_key,
                                   const char* sub_key) {
  std::string_view seq;
  if (o[seq_key].get(seq) != simdjson::SUCCESS || !IsValidSequenceNumber(seq)) {
    return Fail(ErrorCode::kParse, std::string(seq_key) + " is missing or not a sequence number");
  }
  uint64_t sub = 0;
  simdjson::dom::element e;
  if (o[sub_key].get(e) == simdjson::SUCCESS && e.get(sub) != simdjson::SUCCESS) {
    return Fail(ErrorCode::kParse, std::string(sub_key) + " is not an unsigned integer");
  }
  return ShardPosition{std::string(seq), sub};
}

void WritePending(util::JsonWriter& w, const std::vector<BatchRange>& pending) {
  w.BeginArray();
  for (const auto& r : pending) {
    w.BeginObject();
    WritePosition(w, "first", "first_sub", r.first);
    WritePosition(w, "last", "last_sub", r.last);
    w.EndObject();
  }
  w.EndArray();
}

Result<std::vector<BatchRange>> ReadPending(simdjson::dom::array pending) {
  std::vector<BatchRange> out;
  for (simdjson::dom::element item : pending) {
    simdjson::dom::object o;
    if (item.get(o) != simdjson::SUCCESS) {
      return Fail(ErrorCode::kParse, "a pending range is not an object");
    }
    auto first = ReadPosition(o, "first", "first_sub");
    if (!first) return Fail(first.error());
    auto last = ReadPosition(o, "last", "last_sub");
    if (!last) return Fail(last.error());
    out.push_back({std::move(*first), std::move(*last)});
  }
  return out;
}

}  // namespace

std::string EncodePendingRanges(const std::vector<BatchRange>& pending) {
  util::JsonWriter w;
  WritePending(w, pending);
  return w.Take();
}

Result<std::vector<BatchRange>> DecodePendingRanges(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::array pending;
  auto err = parser.parse(json.data(), json.size()).get(pending);
  if (err != simdjson::SUCCESS) {
    return Fail(ErrorCode::kParse, std::string("pending ranges are not a JSON array: ") +
                                       simdjson::error_message(err));
  }
  return ReadPending(pending);
}

std::string EncodeShardCheckpoint(const ShardCheckpoint& state) {
  util::JsonWriter w;
  w.BeginObject();
  if (state.position) {
    WritePosition(w, "sequence_number", "sub_sequence_number", *state.position);
  }
  w.Field("shard_end", state.shard_end);
  w.Key("pending");
  WritePending(w, state.pending);
  w.EndObject();
  std::string out = w.Take();
  out.push_back('\n');
  return out;
}

Result<ShardCheckpoint> DecodeShardCheckpoint(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  auto err = parser.parse(json.data(), json.size()).get(root);
  if (err != simdjson::SUCCESS) {
    return Fail(ErrorCode::kParse,
                std::string("not a JSON object: ") + simdjson::error_message(err));
  }
  ShardCheckpoint state;
  simdjson::dom::element e;
  if (root["sequence_number"].get(e) == simdjson::SUCCESS) {
    auto p = ReadPosition(root, "sequence_number", "sub_sequence_number");
    if (!p) return Fail(p.error());
    state.position = std::move(*p);
  }
  bool end = false;
  if (root["shard_end"].get(e) == simdjson::SUCCESS) {
    if (e.get(end) != simdjson::SUCCESS)
      return Fail(ErrorCode::kParse, "shard_end is not a boolean");
  }
  state.shard_end = end;
  simdjson::dom::array pending;
  if (root["pending"].get(pending) == simdjson::SUCCESS) {
    auto ranges = ReadPending(pending);
    if (!ranges) return Fail(ranges.error());
    state.pending = std::move(*ranges);
  }
  return state;
}

}  // namespace kc::checkpoint
