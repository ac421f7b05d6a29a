// Transformers and filters as the daemon sees them: settings read from
// [pipeline.transformer] or [pipeline.filter] by the component's own reader,
// then built, once per pipeline.
//
// A type without settings may be named as the key's value
// (transformer = "json"); one with settings needs its table, and its kind
// says what to put there.
#pragma once

#include <memory>
#include <string_view>

#include "kc/filter.h"
#include "kc/status.h"
#include "kc/transformer.h"

namespace kc::config {
class TableReader;
}

namespace kc::component {

// The settings of a component that builds a `Built` (Transformer, Filter).
template <class Built>
class StepConfig {
 public:
  StepConfig() = default;
  StepConfig(const StepConfig&) = default;
  StepConfig& operator=(const StepConfig&) = default;
  virtual ~StepConfig() = default;

  virtual Result<std::shared_ptr<Built>> Build() const = 0;
};

using TransformerConfig = StepConfig<Transformer>;
using FilterConfig = StepConfig<Filter>;

// Reads the component's own keys of its table (an empty one for a type
// named as a value); as SinkReader does for sinks.
template <class Built>
using StepReader = std::unique_ptr<StepConfig<Built>> (*)(config::TableReader& table);

template <class Built>
struct StepKind {
  std::string_view type;
  StepReader<Built> read;
  // Empty for a type without settings; else what its table needs, for the
  // message when it is named as a value ("field and equals or not_equals").
  std::string_view settings = {};
};

using TransformerKind = StepKind<Transformer>;
using FilterKind = StepKind<Filter>;

}  // namespace kc::component
