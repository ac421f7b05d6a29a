// [pipeline.emitter] type = "s3_manifest": objects as the s3 sink writes
// them, each key then put on a manifest stream (the first half of the S3 →
// Redshift flow).
#pragma once

#include <memory>
#include <string>

#include "component/sink.h"
#include "sinks/s3/config.h"

namespace kc::emitter {

struct S3ManifestSinkConfig final : component::SinkConfig {
  S3Settings objects;
  // role_arn (external_id, role_session_name): the sink writes as this
  // role, e.g. into another account. Empty: as the pipeline reads.
  AwsRole role;
  std::string manifest_stream;
  // Every key goes with it, so the keys stay in order; empty: the source
  // stream's name.
  std::string manifest_partition_key;

  Result<std::shared_ptr<Emitter>> Build(const component::SinkContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;
};

std::unique_ptr<component::SinkConfig> ReadS3ManifestSink(
    config::TableReader& table, const component::SinkReadContext& context);

}  // namespace kc::emitter
