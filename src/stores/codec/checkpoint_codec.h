// The one encoding of a shard's checkpoint that every store keeps: the
// position, SHARD_END and the pending batch ranges, as JSON. The file store
// writes it whole, the Redis store keeps it beside the Go library's key, and
// the PostgreSQL and DynamoDB stores keep the position in columns or
// attributes of their own and the pending ranges alone in this form.
//
// Decoding is strict: a field of the wrong type or a sequence number that is
// not one is a kParse error naming the field, never a default.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kc/checkpoint.h"

namespace kc::checkpoint {

// The file's JSON; also the state the Redis store keeps next to its key.
std::string EncodeShardCheckpoint(const ShardCheckpoint& state);
Result<ShardCheckpoint> DecodeShardCheckpoint(std::string_view json);
// The "pending" array alone, for stores that keep the other fields in columns.
std::string EncodePendingRanges(const std::vector<BatchRange>& pending);
Result<std::vector<BatchRange>> DecodePendingRanges(std::string_view json);

}  // namespace kc::checkpoint
