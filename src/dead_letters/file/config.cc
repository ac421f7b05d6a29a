#include "dead_letters/file/config.h"

#include "component/probes.h"
#include "config/reader.h"
#include "dead_letters/file/file_dead_letters.h"

namespace kc::dead_letter {

std::unique_ptr<component::DeadLetterConfig> ReadFileDeadLetters(
    config::TableReader& reader, const component::DeadLetterReadContext&) {
  auto letters = std::make_unique<FileDeadLetterConfig>();
  if (auto directory = reader.NonEmptyString("directory", config::Need::kRequired)) {
    letters->directory = *directory;
  }
  config::ReadFileModes(reader, &letters->modes);
  return letters;
}

Result<std::shared_ptr<DeadLetterSink>> FileDeadLetterConfig::Build(const AwsConfig&) const {
  return std::make_shared<FileDeadLetters>(directory, modes);
}

component::Checks FileDeadLetterConfig::Check(const component::CheckContext&) const {
  return {component::ProbeDirectory(directory)};
}

}  // namespace kc::dead_letter
