// [pipeline.emitter] type = "stdout": each batch to standard output.
#pragma once

#include <memory>

#include "component/sink.h"
#include "kc/record_format.h"
#include "sinks/util/format.h"

namespace kc::emitter {

struct StdoutSinkConfig final : component::SinkConfig {
  FileFormat format = FileFormat::kLines;
  CsvColumns csv;  // with format kCsv

  Result<std::shared_ptr<Emitter>> Build(const component::SinkContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;
};

std::unique_ptr<component::SinkConfig> ReadStdoutSink(config::TableReader& table,
                                                      const component::SinkReadContext& context);

}  // namespace kc::emitter
