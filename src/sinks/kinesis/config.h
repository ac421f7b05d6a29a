// [pipeline.emitter] type = "kinesis": each record put on another Kinesis
// stream, possibly in another region or at another endpoint.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/json_fields.h"
#include "component/sink.h"

namespace kc::emitter {

// What the emitter puts where.
struct KinesisSettings {
  // Where each record's partition key comes from: the source record's, the
  // value of a field of each record (a JSON object), or one constant.
  enum class KeySource { kSource, kField, kConstant };

  std::string stream;
  KeySource partition_key = KeySource::kSource;
  std::optional<util::JsonPath> partition_key_field;  // with kField
  std::string partition_key_value;                    // with kConstant: 1 to 256 characters
  // The records of one partition key land in the order they were read,
  // retries included (one record per key in each call).
  bool ordered = false;
};

struct KinesisSinkConfig final : component::SinkConfig {
  KinesisSettings records;
  // Where the target stream is, when not where [aws] points (e.g. a copy of
  // a stream into a second region). Empty: [aws]'s region and endpoint.
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

std::unique_ptr<component::SinkConfig> ReadKinesisSink(config::TableReader& table,
                                                       const component::SinkReadContext& context);

}  // namespace kc::emitter
