// Filter: decides which transformed records reach the sink. Dropped records
// still count as processed: the checkpoint moves past them.
//
// Thread-safety: as for Transformer, Keep is called concurrently by the
// readers of different shards.
#pragma once

#include "kc/record.h"

namespace kc {

class Filter {
 public:
  virtual ~Filter() = default;
  virtual bool Keep(const Record& record) = 0;
};

// Keeps every record.
class AllPassFilter final : public Filter {
 public:
  bool Keep(const Record&) override { return true; }
};

}  // namespace kc
