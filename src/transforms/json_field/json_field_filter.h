// JsonFieldFilter ([pipeline.filter] type = "json_field"): keeps, or drops,
// the records whose field equals one of a list of values.
//
// Values are compared as text: a string field matches a value equal to the
// string, a number or boolean field a value equal to its JSON text as
// written ("3" matches 3 but not 3.0; "true" matches true). Null, objects,
// arrays and missing fields match nothing, so `equals` drops such records
// and `not_equals` keeps them. A record that is not a JSON object is a bad
// record.
//
// Thread-safety: immutable after Create; Keep may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_fields.h"
#include "kc/filter.h"

namespace kc::transform {

class JsonFieldFilter final : public Filter {
 public:
  enum class Mode { kKeepMatches, kDropMatches };  // equals, not_equals
  // kConfig when `field` is not a valid path.
  static Result<std::unique_ptr<JsonFieldFilter>> Create(std::string_view field,
                                                         std::vector<std::string> values,
                                                         Mode mode);

  JsonFieldFilter(util::JsonPath path, std::vector<std::string> values, Mode mode)
      : path_(std::move(path)), values_(std::move(values)), mode_(mode) {}

  Result<bool> Keep(const Record& record) override;

 private:
  util::JsonPath path_;
  std::vector<std::string> values_;
  Mode mode_;
};

}  // namespace kc::transform
