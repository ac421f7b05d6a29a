#include "transforms/string/config.h"

namespace kc::transform {

std::unique_ptr<component::TransformerConfig> ReadStringTransformer(config::TableReader&) {
  return std::make_unique<StringTransformerConfig>();
}

Result<std::shared_ptr<Transformer>> StringTransformerConfig::Build() const {
  return std::make_shared<StringTransformer>();
}

}  // namespace kc::transform
