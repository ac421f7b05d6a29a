// [pipeline.filter] type = "json_field": keep (equals) or drop (not_equals)
// the records whose field, a path into each JSON record, has one of the
// values.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/json_fields.h"
#include "component/step.h"
#include "transforms/json_field/json_field_filter.h"

namespace kc::transform {

struct JsonFieldFilterConfig final : component::FilterConfig {
  util::JsonPath field;             // parsed
  std::vector<std::string> values;  // as JSON text: "click", "42", "true"
  JsonFieldFilter::Mode mode = JsonFieldFilter::Mode::kKeepMatches;

  Result<std::shared_ptr<Filter>> Build() const override;
};

std::unique_ptr<component::FilterConfig> ReadJsonFieldFilter(config::TableReader& table);

}  // namespace kc::transform
