// Transformer: turns the bytes read from the stream into the bytes the sink
// stores (the user's model, serialised). Every sink writes bytes, so the model
// travels as bytes: batching counts them exactly and emitters stay generic.
//
// Thread-safety: one instance serves every shard reader of a pipeline, and
// the readers run on their own threads: Transform is called concurrently, so
// keep it stateless or lock.
#pragma once

#include "kc/record.h"
#include "kc/status.h"

namespace kc {

class Transformer {
 public:
  virtual ~Transformer() = default;
  // Rewrites record.data in place. An error marks a bad record: the pipeline
  // never drops it silently (it stops, naming the shard and sequence number).
  virtual Status Transform(Record& record) = 0;
};

// Passes the bytes through as they are (the original library's StringToModel).
class StringTransformer final : public Transformer {
 public:
  Status Transform(Record&) override { return Ok(); }
};

}  // namespace kc
