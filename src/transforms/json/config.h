// [pipeline] transformer = "json": each record must be one JSON document.
#pragma once

#include <memory>

#include "component/step.h"

namespace kc::transform {

struct JsonTransformerConfig final : component::TransformerConfig {
  Result<std::shared_ptr<Transformer>> Build() const override;
};

std::unique_ptr<component::TransformerConfig> ReadJsonTransformer(config::TableReader& table);

}  // namespace kc::transform
