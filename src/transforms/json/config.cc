#include "transforms/json/config.h"

#include "transforms/json/json_transformer.h"

namespace kc::transform {

std::unique_ptr<component::TransformerConfig> ReadJsonTransformer(config::TableReader&) {
  return std::make_unique<JsonTransformerConfig>();
}

Result<std::shared_ptr<Transformer>> JsonTransformerConfig::Build() const {
  return std::make_shared<JsonTransformer>();
}

}  // namespace kc::transform
