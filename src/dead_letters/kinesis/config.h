// [pipeline.dead_letter] type = "kinesis".
#pragma once

#include <memory>
#include <string>

#include "component/dead_letter.h"

namespace kc::dead_letter {

struct KinesisDeadLetterConfig final : component::DeadLetterConfig {
  std::string stream;

  Result<std::shared_ptr<DeadLetterSink>> Build(const AwsConfig& aws) const override;
  component::Checks Check(const component::CheckContext& context) const override;
  std::string_view kinesis_stream() const override { return stream; }
};

std::unique_ptr<component::DeadLetterConfig> ReadKinesisDeadLetters(
    config::TableReader& table, const component::DeadLetterReadContext& context);

}  // namespace kc::dead_letter
