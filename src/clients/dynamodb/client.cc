#include "clients/dynamodb/client.h"

#include <simdjson.h>

#include <chrono>

#include "base/json_writer.h"
#include "clients/aws/endpoint.h"

namespace kc::dynamodb {
Result<TableDescription> ParseDescribeTable(std::string_view body, const std::string& table) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object desc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS ||
      doc["Table"].get(desc) != simdjson::SUCCESS) {
    return Fail(ErrorCode::kParse, "DescribeTable " + table + ": no Table in the answer");
  }
  TableDescription d;
  std::string_view status;
  if (desc["TableStatus"].get(status) == simdjson::SUCCESS) d.status = std::string(status);
  simdjson::dom::array keys;
  if (desc["KeySchema"].get(keys) == simdjson::SUCCESS) {
    for (simdjson::dom::element k : keys) {
      std::string_view name, type;
      if (k["AttributeName"].get(name) != simdjson::SUCCESS ||
          k["KeyType"].get(type) != simdjson::SUCCESS) {
        continue;
      }
      if (type == "HASH") d.hash_key = std::string(name);
      if (type == "RANGE") d.range_key = std::string(name);
    }
  }
  simdjson::dom::array attributes;
  if (desc["AttributeDefinitions"].get(attributes) == simdjson::SUCCESS) {
    for (simdjson::dom::element a : attributes) {
      std::string_view name, type;
      if (a["AttributeName"].get(name) == simdjson::SUCCESS &&
          a["AttributeType"].get(type) == simdjson::SUCCESS) {
        d.attribute_types[std::string(name)] = std::string(type);
      }
    }
  }
  return d;
}

Result<TableDescription> DynamoClient::DescribeTable(const std::string& table,
                                                     std::stop_token stop) const {
  util::JsonWriter w;
  w.BeginObject().Field("TableName", table).EndObject();
  auto answer = Call("DescribeTable", w.str(), stop);
  if (!answer) return Fail(answer.error());
  return ParseDescribeTable(*answer, table);
}

Status DynamoClient::EnsureTable(const std::string& table, const std::string& hash_key,
                                 std::stop_token stop) const {
  auto described = DescribeTable(table, stop);
  if (!described && described.error().code() != ErrorCode::kNotFound) {
    return Fail(described.error());
  }
  if (!described) {
    util::JsonWriter create;
    create.BeginObject()
        .Field("TableName", table)
        .Key("AttributeDefinitions")
        .BeginArray()
        .BeginObject()
        .Field("AttributeName", hash_key)
        .Field("AttributeType", "S")
        .EndObject()
        .EndArray()
        .Key("KeySchema")
        .BeginArray()
        .BeginObject()
        .Field("AttributeName", hash_key)
        .Field("KeyType", "HASH")
        .EndObject()
        .EndArray()
        .Field("BillingMode", "PAY_PER_REQUEST")
        .EndObject();
    auto created = Call("CreateTable", create.str(), stop);
    // Another process may have created it meanwhile: that is as good.
    if (!created && created.error().message().find("ResourceInUseException") == std::string::npos) {
      return Fail(created.error().With("creating DynamoDB table " + table));
    }
  }
  auto state = DescribeActive(table, stop);
  if (!state) return Fail(state.error());
  auto type = state->attribute_types.find(hash_key);
  if (state->hash_key != hash_key || !state->range_key.empty() ||
      type == state->attribute_types.end() || type->second != "S") {
    return Fail(
        ErrorCode::kConfig,
        "DynamoDB table " + table + " has the hash key '" + state->hash_key + "'" +
            (state->range_key.empty() ? "" : " and the range key '" + state->range_key + "'") +
            ", not the one string hash key '" + hash_key +
            "'; name another table or delete this one");
  }
  return Ok();
}

Result<TableDescription> DynamoClient::DescribeActive(const std::string& table,
                                                      std::stop_token stop) const {
  // A new table takes seconds to become ACTIVE on DynamoDB, and refuses
  // reads and writes until then.
  const auto deadline = clock_->Now() + std::chrono::minutes(5);
  for (auto wait = std::chrono::milliseconds(50);;
       wait = std::min(wait * 2, decltype(wait)(2000))) {
    auto state = DescribeTable(table, stop);
    if (!state) return Fail(state.error());
    if (state->status != "CREATING") return state;
    if (clock_->Now() > deadline) {
      return Fail(ErrorCode::kUnavailable,
                  "DynamoDB table " + table + " is still CREATING after 5 minutes");
    }
    if (!clock_->SleepFor(wait, stop)) {
      return Fail(ErrorCode::kCancelled, "waiting for DynamoDB table " + table + " cancelled");
    }
  }
}

Status DynamoClient::DeleteTable(const std::string& table, std::stop_token stop) const {
  util::JsonWriter w;
  w.BeginObject().Field("TableName", table).EndObject();
  auto r = Call("DeleteTable", w.str(), stop);
  if (!r) return Fail(r.error());
  return Ok();
}

DynamoClient MakeDynamoClient(const aws::AwsContext& context, RetryPolicy retry) {
  aws::AwsJsonClientOptions options;
  options.endpoint = aws::ServiceEndpoint(context.config, "dynamodb", context.region);
  options.region = context.region;
  options.service = "dynamodb";
  options.target_prefix = "DynamoDB_20120810";
  options.content_type = "application/x-amz-json-1.0";
  return DynamoClient(aws::AwsJsonClient(std::move(options), context.TransportFor("dynamodb"),
                                         context.credentials, retry));
}

}  // namespace kc::dynamodb
