#include "sinks/dynamodb/dynamodb_emitter.h"

#include <simdjson.h>

#include <unordered_map>
#include <utility>
#include <vector>

#include "base/json_writer.h"

namespace kc::emitter {
namespace {

// BatchWriteItem's limits: 25 items, 16 MB a request.
constexpr PartialBatchLimits kLimits{.max_items = 25, .max_bytes = 15'000'000};
// What a PutRequest adds around an item's JSON.
constexpr uint64_t kPutRequestOverhead = 32;

std::string RecordName(const Batch& batch, const Record& r) {
  std::string name = "record " + r.sequence_number;
  if (r.sub_sequence_number != 0) name += "/" + std::to_string(r.sub_sequence_number);
  return name + " of shard " + batch.shard_id + " of stream " + batch.stream;
}

}  // namespace

DynamoDbEmitter::DynamoDbEmitter(dynamodb::DynamoClient client, DynamoDbEmitterOptions options,
                                 RetryPolicy retry, Clock* clock)
    : client_(std::move(client)),
      options_(std::move(options)),
      retry_(retry),
      writer_(kLimits, retry, clock) {}

std::string DynamoDbEmitter::Describe() const {
  return "DynamoDB table " + options_.table + " (" + client_.Describe() + ")";
}

Result<dynamodb::ItemSchema> DynamoDbEmitter::Schema(std::stop_token stop) {
  {
    std::lock_guard lock(mu_);
    if (schema_) return *schema_;
  }
  // Retried like the writes: one throttled or dropped call must not stop the pipeline.
  auto table = retry_.Run("describing DynamoDB table " + options_.table, stop,
                          [&] { return client_.DescribeActive(options_.table, stop); });
  if (!table) {
    if (table.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kConfig,
                  "DynamoDB table " + options_.table + " does not exist (" + client_.Describe() +
                      "); create it with the key " + options_.hash_key +
                      (options_.range_key.empty() ? "" : ", " + options_.range_key) +
                      " or name another table");
    }
    return Fail(table.error().With("describing DynamoDB table " + options_.table));
  }
  if (table->hash_key != options_.hash_key || table->range_key != options_.range_key) {
    auto key = [](const std::string& hash, const std::string& range) {
      return "hash key '" + hash + "'" + (range.empty() ? "" : " and range key '" + range + "'");
    };
    return Fail(ErrorCode::kConfig, "DynamoDB table " + options_.table + " has the " +
                                        key(table->hash_key, table->range_key) +
                                        ", but the emitter names the " +
                                        key(options_.hash_key, options_.range_key) +
                                        "; set hash_key and range_key to the table's");
  }
  dynamodb::ItemSchema schema;
  schema.hash_key = options_.hash_key;
  schema.range_key = options_.range_key;
  schema.declared = options_.declared;
  auto type_of = [&](const std::string& name) -> Result<dynamodb::AttributeType> {
    auto it = table->attribute_types.find(name);
    auto type = it == table->attribute_types.end() ? std::nullopt
                                                   : dynamodb::ParseAttributeType(it->second);
    if (!type) {
      return Fail(ErrorCode::kConfig, "DynamoDB table " + options_.table +
                                          ": no S, N or B type for key attribute " + name);
    }
    return *type;
  };
  auto hash_type = type_of(schema.hash_key);
  if (!hash_type) return Fail(hash_type.error());
  schema.hash_type = *hash_type;
  if (!schema.range_key.empty()) {
    auto range_type = type_of(schema.range_key);
    if (!range_type) return Fail(range_type.error());
    schema.range_type = *range_type;
  }
  std::lock_guard lock(mu_);
  schema_ = schema;
  return schema;
}

Status DynamoDbEmitter::Emit(const Batch& batch, std::stop_token stop) {
  if (batch.records.empty()) return Ok();
  auto schema = Schema(stop);
  if (!schema) return Fail(schema.error());

  // Convert every record; a later record with the same key replaces an earlier one.
  std::vector<dynamodb::Item> items;
  items.reserve(batch.records.size());
  std::unordered_map<std::string, size_t> by_key;
  for (const Record& r : batch.records) {
    auto item = dynamodb::ConvertRecord(r.data, *schema);
    if (!item) {
      return Fail(ErrorCode::kInvalidArgument, RecordName(batch, r) +
                                                   " cannot be an item of DynamoDB table " +
                                                   options_.table + ": " + item.error().message());
    }
    if (item->size > dynamodb::kMaxItemBytes) {
      return Fail(ErrorCode::kInvalidArgument, RecordName(batch, r) + " makes an item of " +
                                                   std::to_string(item->size) +
                                                   " bytes; DynamoDB's limit is 400 KB");
    }
    auto [it, inserted] = by_key.try_emplace(item->key, items.size());
    if (inserted) {
      items.push_back(std::move(*item));
    } else {
      items[it->second] = std::move(*item);
    }
  }

  const std::string& table = options_.table;
  auto send = [&](std::span<const size_t> indices) -> Result<Refused> {
    util::JsonWriter w;
    w.BeginObject().Key("RequestItems").BeginObject().Key(table).BeginArray();
    for (size_t i : indices) {
      w.BeginObject().Key("PutRequest").BeginObject().Key("Item");
      w.Raw(items[i].json);
      w.EndObject().EndObject();
    }
    w.EndArray().EndObject().EndObject();
    auto answer = client_.Call("BatchWriteItem", w.str(), stop);
    if (!answer) return Fail(answer.error());

    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(*answer).get(doc) != simdjson::SUCCESS) {
      return Fail(ErrorCode::kParse, "BatchWriteItem answered with something other than JSON");
    }
    simdjson::dom::array unprocessed;
    if (doc["UnprocessedItems"][table].get(unprocessed) != simdjson::SUCCESS ||
        unprocessed.size() == 0) {
      return Refused{};
    }
    std::unordered_map<std::string, size_t> position;
    for (size_t p = 0; p < indices.size(); ++p) position[items[indices[p]].key] = p;
    Refused refused;
    refused.error = Error(ErrorCode::kThrottled,
                          "DynamoDB left " + std::to_string(unprocessed.size()) + " of " +
                              std::to_string(indices.size()) + " items unprocessed");
    for (simdjson::dom::element request : unprocessed) {
      simdjson::dom::element item;
      std::optional<std::string> key;
      if (request["PutRequest"]["Item"].get(item) == simdjson::SUCCESS) {
        key = dynamodb::KeyOfTypedItem(simdjson::to_string(item), *schema);
      }
      auto found = key ? position.find(*key) : position.end();
      if (found == position.end()) {
        // Not recognised: send the whole request again (puts are idempotent).
        refused.positions.resize(indices.size());
        for (size_t p = 0; p < indices.size(); ++p) refused.positions[p] = p;
        return refused;
      }
      refused.positions.push_back(found->second);
    }
    return refused;
  };
  return writer_.Write(
      "writing " + std::to_string(items.size()) + " items of shard " + batch.shard_id +
          " to DynamoDB table " + table,
      items.size(), [&](size_t i) { return items[i].json.size() + kPutRequestOverhead; }, send,
      stop);
}

}  // namespace kc::emitter
