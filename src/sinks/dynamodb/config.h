// [pipeline.emitter] type = "dynamodb": each record (a JSON object) an item
// of a table.
#pragma once

#include <memory>
#include <string>

#include "component/sink.h"
#include "sinks/dynamodb/dynamodb_emitter.h"

namespace kc::emitter {

struct DynamoDbSinkConfig final : component::SinkConfig {
  DynamoDbEmitterOptions items;  // attribute types declared, parsed
  // Where the table is, when not where [aws] points. Empty: [aws]'s region
  // and endpoint.
  std::string region;
  std::string endpoint;
  // role_arn (external_id, role_session_name): the sink writes as this
  // role, e.g. into another account. Empty: as the pipeline reads.
  AwsRole role;

  Result<std::shared_ptr<Emitter>> Build(const component::SinkContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;

  // Where the sink writes, and as whom: the pipeline's settings with this
  // sink's region, endpoint and role. Build and Check both use it.
  AwsConfig Target(const AwsConfig& pipeline) const;
};

std::unique_ptr<component::SinkConfig> ReadDynamoDbSink(config::TableReader& table,
                                                        const component::SinkReadContext& context);

}  // namespace kc::emitter
