// [pipeline] filter = "all_pass" (the default): every record is kept.
#pragma once

#include <memory>

#include "component/step.h"

namespace kc::transform {

struct AllPassFilterConfig final : component::FilterConfig {
  Result<std::shared_ptr<Filter>> Build() const override;
};

std::unique_ptr<component::FilterConfig> ReadAllPassFilter(config::TableReader& table);

}  // namespace kc::transform
