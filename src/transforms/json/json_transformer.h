// JsonTransformer (transformer = "json"): passes each record on unchanged
// after checking that it is one complete JSON document (any JSON value,
// numbers of any size). Anything else is a bad record, which stops the
// pipeline at that record instead of handing the sink something it cannot
// load.
//
// Thread-safety: stateless; Transform may be called concurrently.
#pragma once

#include "kc/transformer.h"

namespace kc::transform {

class JsonTransformer final : public Transformer {
 public:
  Status Transform(Record& record) override;
};

}  // namespace kc::transform
