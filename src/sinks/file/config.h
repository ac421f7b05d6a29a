// [pipeline.emitter] type = "file": one file per batch under `directory`.
#pragma once

#include <memory>
#include <string>

#include "base/files.h"
#include "component/sink.h"
#include "kc/record_format.h"
#include "sinks/util/format.h"

namespace kc::emitter {

struct FileSinkConfig final : component::SinkConfig {
  std::string directory;
  FileFormat format = FileFormat::kLines;
  CsvColumns csv;  // with format kCsv
  Compression compression = Compression::kNone;
  // Write files around the page cache (O_DIRECT), falling back to ordinary
  // writes where the file system refuses it.
  bool direct_io = true;
  util::FileModes modes;  // file_mode, dir_mode

  Result<std::shared_ptr<Emitter>> Build(const component::SinkContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;
};

std::unique_ptr<component::SinkConfig> ReadFileSink(config::TableReader& table,
                                                    const component::SinkReadContext& context);

}  // namespace kc::emitter
