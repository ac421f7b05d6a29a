#include "sinks/stdout/config.h"

#include "component/check.h"
#include "config/reader.h"
#include "sinks/stdout/stdout_emitter.h"
#include "sinks/util/settings.h"

namespace kc::emitter {

std::unique_ptr<component::SinkConfig> ReadStdoutSink(config::TableReader& reader,
                                                      const component::SinkReadContext&) {
  auto sink = std::make_unique<StdoutSinkConfig>();
  ReadFormat(reader, &sink->format);
  ReadCsv(reader, sink->format, &sink->csv);
  if (reader.Has("directory")) {
    reader.Get("directory", config::Need::kOptional);
    reader.Report("directory", "'directory' is not used by emitter type 'stdout'");
  }
  return sink;
}

Result<std::shared_ptr<Emitter>> StdoutSinkConfig::Build(const component::SinkContext&) const {
  return std::make_shared<StdoutEmitter>(format, 1, csv);
}

// Standard output is there or the process would not be.
component::Checks StdoutSinkConfig::Check(const component::CheckContext&) const { return {}; }

}  // namespace kc::emitter
