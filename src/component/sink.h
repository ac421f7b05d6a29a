// A sink as the daemon sees it: settings read from [pipeline.emitter] by the
// sink's own reader, then built into an Emitter.
//
// Each sink's folder (src/sinks/<name>/) holds a SinkConfig of its own, the
// function that reads it and its Build; the daemon's list of built-in
// components names each sink with one SinkKind. Values are checked and
// parsed when read (key templates, field paths, CSV columns), so Build only
// connects and constructs.
#pragma once

#include <memory>
#include <string_view>

#include "component/check.h"
#include "kc/aws.h"
#include "kc/checkpoint.h"
#include "kc/emitter.h"
#include "kc/pipeline.h"
#include "kc/status.h"

namespace kc::config {
class TableReader;
}

namespace kc::component {

// The pipeline around a sink, for checks that span both.
struct SinkReadContext {
  std::string_view stream;              // the pipeline's own stream; empty when invalid
  std::string_view dead_letter_stream;  // the Kinesis stream of its dead letters, if any
};

// What a sink is built with.
struct SinkContext {
  const AwsConfig& aws;
  const PipelineOptions& pipeline;
  // The checkpoint store of every pipeline of the process: a sink whose
  // writes can commit together with checkpoints (postgres) may use it.
  std::shared_ptr<CheckpointStore> checkpoints;
};

// A sink's settings, checked and parsed. Immutable once read.
class SinkConfig {
 public:
  SinkConfig() = default;
  SinkConfig(const SinkConfig&) = default;
  SinkConfig& operator=(const SinkConfig&) = default;
  virtual ~SinkConfig() = default;

  // Connects what the sink needs and builds it; kConfig when the settings do
  // not fit the place (e.g. a kinesis sink that resolves to its own source).
  virtual Result<std::shared_ptr<Emitter>> Build(const SinkContext& context) const = 0;
  // Each bucket, table, stream or directory the sink writes to, checked with
  // a read-only call (`kinesis-connect check`); none when it reaches nothing.
  virtual Checks Check(const CheckContext& context) const = 0;
};

// Reads a sink's settings from its table ([pipeline.emitter], whose `type`
// the daemon read). Every problem goes to `table`, with line and key; the
// settings returned are only used when there was none. The caller reports
// the keys nobody asked for.
using SinkReader = std::unique_ptr<SinkConfig> (*)(config::TableReader& table,
                                                   const SinkReadContext& context);

// One line of the daemon's list of built-in sinks.
struct SinkKind {
  std::string_view type;  // [pipeline.emitter] type
  SinkReader read;
};

}  // namespace kc::component
