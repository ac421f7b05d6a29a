// [pipeline] transformer = "string" (the default): the bytes as they are.
#pragma once

#include <memory>

#include "component/step.h"

namespace kc::transform {

struct StringTransformerConfig final : component::TransformerConfig {
  Result<std::shared_ptr<Transformer>> Build() const override;
};

std::unique_ptr<component::TransformerConfig> ReadStringTransformer(config::TableReader& table);

}  // namespace kc::transform
