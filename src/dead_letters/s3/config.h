// [pipeline.dead_letter] type = "s3".
#pragma once

#include <memory>
#include <string>

#include "component/dead_letter.h"

namespace kc::dead_letter {

struct S3DeadLetterConfig final : component::DeadLetterConfig {
  std::string bucket;
  std::string prefix;  // keys start with it, as written

  Result<std::shared_ptr<DeadLetterSink>> Build(const AwsConfig& aws) const override;
  component::Checks Check(const component::CheckContext& context) const override;
};

std::unique_ptr<component::DeadLetterConfig> ReadS3DeadLetters(
    config::TableReader& table, const component::DeadLetterReadContext& context);

}  // namespace kc::dead_letter
