// A dead-letter destination as the daemon sees it: settings read from
// [pipeline.dead_letter] by the destination's own reader, then built.
#pragma once

#include <memory>
#include <string_view>

#include "component/check.h"
#include "kc/aws.h"
#include "kc/dead_letter.h"
#include "kc/status.h"

namespace kc::config {
class TableReader;
}

namespace kc::component {

struct DeadLetterReadContext {
  std::string_view stream;  // the pipeline's own stream; empty when invalid
};

class DeadLetterConfig {
 public:
  DeadLetterConfig() = default;
  DeadLetterConfig(const DeadLetterConfig&) = default;
  DeadLetterConfig& operator=(const DeadLetterConfig&) = default;
  virtual ~DeadLetterConfig() = default;

  virtual Result<std::shared_ptr<DeadLetterSink>> Build(const AwsConfig& aws) const = 0;
  // Where the letters go, checked with a read-only call.
  virtual Checks Check(const CheckContext& context) const = 0;
  // The Kinesis stream the letters are put on, if any: a sink must not put
  // delivered records there too.
  virtual std::string_view kinesis_stream() const { return {}; }
};

// Reads a destination's own keys of [pipeline.dead_letter] (its `type` was
// read already); as SinkReader does for sinks.
using DeadLetterReader = std::unique_ptr<DeadLetterConfig> (*)(
    config::TableReader& table, const DeadLetterReadContext& context);

struct DeadLetterKind {
  std::string_view type;  // [pipeline.dead_letter] type
  DeadLetterReader read;
};

}  // namespace kc::component
