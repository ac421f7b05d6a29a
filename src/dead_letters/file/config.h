// [pipeline.dead_letter] type = "file".
#pragma once

#include <memory>
#include <string>

#include "base/files.h"
#include "component/dead_letter.h"

namespace kc::dead_letter {

struct FileDeadLetterConfig final : component::DeadLetterConfig {
  std::string directory;
  util::FileModes modes;  // file_mode, dir_mode

  Result<std::shared_ptr<DeadLetterSink>> Build(const AwsConfig& aws) const override;
  component::Checks Check(const component::CheckContext& context) const override;
};

std::unique_ptr<component::DeadLetterConfig> ReadFileDeadLetters(
    config::TableReader& table, const component::DeadLetterReadContext& context);

}  // namespace kc::dead_letter
