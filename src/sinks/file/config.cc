#include "sinks/file/config.h"

#include "component/probes.h"
#include "config/reader.h"
#include "sinks/file/file_emitter.h"
#include "sinks/util/settings.h"

namespace kc::emitter {

std::unique_ptr<component::SinkConfig> ReadFileSink(config::TableReader& reader,
                                                    const component::SinkReadContext&) {
  auto sink = std::make_unique<FileSinkConfig>();
  if (auto directory = reader.NonEmptyString("directory", config::Need::kRequired)) {
    sink->directory = *directory;
  }
  ReadFormat(reader, &sink->format);
  ReadCsv(reader, sink->format, &sink->csv);
  ReadCompression(reader, &sink->compression);
  if (auto direct = reader.Bool("direct_io", config::Need::kOptional)) sink->direct_io = *direct;
  config::ReadFileModes(reader, &sink->modes);
  return sink;
}

Result<std::shared_ptr<Emitter>> FileSinkConfig::Build(const component::SinkContext&) const {
  return std::make_shared<FileEmitter>(directory, format, compression, RetryPolicy(), csv,
                                       direct_io, modes);
}

component::Checks FileSinkConfig::Check(const component::CheckContext&) const {
  return {component::ProbeDirectory(directory)};
}

}  // namespace kc::emitter
