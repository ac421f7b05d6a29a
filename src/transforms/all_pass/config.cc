#include "transforms/all_pass/config.h"

namespace kc::transform {

std::unique_ptr<component::FilterConfig> ReadAllPassFilter(config::TableReader&) {
  return std::make_unique<AllPassFilterConfig>();
}

Result<std::shared_ptr<Filter>> AllPassFilterConfig::Build() const {
  return std::make_shared<AllPassFilter>();
}

}  // namespace kc::transform
