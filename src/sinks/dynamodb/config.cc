#include "sinks/dynamodb/config.h"

#include <array>
#include <string_view>

#include "clients/aws/aws_context.h"
#include "clients/aws/endpoint.h"
#include "component/probes.h"
#include "config/reader.h"
#include "sinks/util/settings.h"

namespace kc::emitter {
namespace {

using config::Need;
using config::TableReader;

constexpr std::array<std::string_view, 4> kDynamoAttributeTypes = {"S", "N", "B", "BOOL"};

}  // namespace

// table, hash_key, range_key and [pipeline.emitter.attribute_types].
std::unique_ptr<component::SinkConfig> ReadDynamoDbSink(TableReader& reader,
                                                        const component::SinkReadContext&) {
  auto sink = std::make_unique<DynamoDbSinkConfig>();
  DynamoDbEmitterOptions* emitter = &sink->items;
  ReadServiceLocation(reader, &sink->region, &sink->endpoint);
  config::ReadRole(reader, &sink->role);
  if (auto table = reader.String("table", Need::kRequired)) {
    if (auto problem = config::DynamoTableProblem(*table)) {
      reader.Report("table", *problem);
    } else {
      emitter->table = *table;
    }
  }
  if (auto hash = reader.NonEmptyString("hash_key", Need::kRequired)) emitter->hash_key = *hash;
  if (auto range = reader.NonEmptyString("range_key", Need::kOptional)) {
    if (*range == emitter->hash_key) {
      reader.Report("range_key", "must differ from hash_key");
    } else {
      emitter->range_key = *range;
    }
  }
  const toml::table* types = reader.Table("attribute_types", Need::kOptional);
  if (types == nullptr) return sink;
  TableReader entries = reader.Child(*types, "attribute_types");
  for (auto&& [key, value] : *types) {
    const std::string_view name = key.str();
    if (name.empty()) {
      entries.Report(name, "an attribute name must not be empty");
      continue;
    }
    const toml::value<std::string>* text = value.as_string();
    if (text == nullptr) {
      entries.ReportWrongType(name, value, "\"S\", \"N\", \"B\" or \"BOOL\"");
      continue;
    }
    auto type = dynamodb::ParseAttributeType(text->get());
    if (!type) {
      entries.Report(name,
                     config::UnknownChoice("attribute type", text->get(), kDynamoAttributeTypes,
                                           config::Join(kDynamoAttributeTypes)));
      continue;
    }
    emitter->declared[std::string(name)] = *type;
  }
  return sink;
}

AwsConfig DynamoDbSinkConfig::Target(const AwsConfig& pipeline) const {
  return aws::WithRole(aws::MovedTo(pipeline, "dynamodb", region, endpoint), role);
}

Result<std::shared_ptr<Emitter>> DynamoDbSinkConfig::Build(
    const component::SinkContext& context) const {
  auto aws = aws::MakeAwsContext(Target(context.aws));
  if (!aws) return Fail(aws.error());
  // One attempt per call: the emitter retries what DynamoDB refused.
  return std::make_shared<DynamoDbEmitter>(
      dynamodb::MakeDynamoClient(*aws, RetryPolicy(RetryOptions{.max_attempts = 1})), items);
}

component::Checks DynamoDbSinkConfig::Check(const component::CheckContext& context) const {
  auto aws = aws::MakeAwsContext(Target(context.aws));
  if (!aws) return {{"table " + items.table, Fail(aws.error())}};
  return {component::ProbeDynamoTable(*aws, context.retry, items.table, items.hash_key,
                                      items.range_key, component::IfMissing::kFail)};
}

}  // namespace kc::emitter
