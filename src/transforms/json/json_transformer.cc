#include "transforms/json/json_transformer.h"

#include "base/json_fields.h"

namespace kc::transform {

Status JsonTransformer::Transform(Record& record) { return util::ValidateJson(record.data); }

}  // namespace kc::transform
