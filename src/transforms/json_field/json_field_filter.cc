#include "transforms/json_field/json_field_filter.h"

#include <algorithm>
#include <span>
#include <utility>

namespace kc::transform {

Result<std::unique_ptr<JsonFieldFilter>> JsonFieldFilter::Create(std::string_view field,
                                                                 std::vector<std::string> values,
                                                                 Mode mode) {
  auto path = util::JsonPath::Parse(field);
  if (!path) return Fail(ErrorCode::kConfig, "filter field: " + path.error().message());
  return std::unique_ptr<JsonFieldFilter>(
      new JsonFieldFilter(std::move(*path), std::move(values), mode));
}

Result<bool> JsonFieldFilter::Keep(const Record& record) {
  thread_local std::vector<util::JsonField> fields;
  if (auto s = util::ReadJsonFields(record.data, std::span(&path_, 1), fields); !s) {
    return Fail(s.error().With("filter on field \"" + path_.text() + "\""));
  }
  const util::JsonField& field = fields.front();
  const bool comparable = field.kind == util::JsonField::Kind::kString ||
                          field.kind == util::JsonField::Kind::kNumber ||
                          field.kind == util::JsonField::Kind::kBool;
  const bool match =
      comparable && std::find(values_.begin(), values_.end(), field.text) != values_.end();
  return mode_ == Mode::kKeepMatches ? match : !match;
}

}  // namespace kc::transform
