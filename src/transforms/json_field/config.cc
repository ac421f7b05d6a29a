#include "transforms/json_field/config.h"

#include "config/reader.h"

namespace kc::transform {

using config::Need;
using config::TableReader;

std::unique_ptr<component::FilterConfig> ReadJsonFieldFilter(TableReader& reader) {
  auto filter = std::make_unique<JsonFieldFilterConfig>();
  if (std::optional<std::string> field = reader.String("field", Need::kRequired)) {
    if (Result<util::JsonPath> path = util::JsonPath::Parse(*field); !path) {
      reader.Report("field", path.error().message());
    } else {
      filter->field = std::move(*path);
    }
  }
  const toml::node* equals = reader.Get("equals", Need::kOptional);
  const toml::node* not_equals = reader.Get("not_equals", Need::kOptional);
  if ((equals == nullptr) == (not_equals == nullptr)) {
    reader.Report(equals != nullptr ? "not_equals" : "equals",
                  "filter type 'json_field' needs exactly one of equals = [...] (keep the "
                  "records whose field has one of the values) and not_equals = [...] (drop "
                  "them)");
    return filter;
  }
  const std::string_view key = equals != nullptr ? "equals" : "not_equals";
  filter->mode =
      equals != nullptr ? JsonFieldFilter::Mode::kKeepMatches : JsonFieldFilter::Mode::kDropMatches;
  const toml::node& node = equals != nullptr ? *equals : *not_equals;
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    reader.ReportWrongType(key, node, "an array of values, e.g. [\"click\", \"view\"]");
    return filter;
  }
  if (array->empty()) {
    reader.Report(key, "must list at least one value, e.g. [\"click\", \"view\"]");
    return filter;
  }
  std::vector<std::string> values;
  for (const toml::node& element : *array) {
    if (const toml::value<std::string>* s = element.as_string()) {
      values.push_back(s->get());
    } else if (const toml::value<int64_t>* i = element.as_integer()) {
      values.push_back(std::to_string(i->get()));
    } else if (const toml::value<bool>* b = element.as_boolean()) {
      values.push_back(b->get() ? "true" : "false");
    } else {
      reader.Report(key, "expected strings, integers or booleans, got " +
                             std::string(config::TypeName(element.type())) +
                             "; numbers are compared by their JSON text, so write other "
                             "numbers as strings, e.g. \"1.5\"");
      return filter;
    }
  }
  filter->values = std::move(values);
  return filter;
}

Result<std::shared_ptr<Filter>> JsonFieldFilterConfig::Build() const {
  return std::make_shared<JsonFieldFilter>(field, values, mode);
}

}  // namespace kc::transform
