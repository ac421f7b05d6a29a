// Filter: decides which transformed records reach the sink. Dropped records
// still count as processed: the checkpoint moves past them.
//
// Thread-safety: as for Transformer, Keep is called concurrently by the
// readers of different shards.
#pragma once

#include "kc/record.h"
#include "kc/status.h"

namespace kc {

class Filter {
 public:
  virtual ~Filter() = default;
  // True to keep the record. An error marks a bad record (one the filter
  // cannot judge): as for a Transformer error, the pipeline stops there.
  virtual Result<bool> Keep(const Record& record) = 0;
};

// Keeps every record.
class AllPassFilter final : public Filter {
 public:
  Result<bool> Keep(const Record&) override { return true; }
};

}  // namespace kc
