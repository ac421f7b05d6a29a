// Dead-letter destinations: where a pipeline puts the records it cannot
// deliver (with `on_error = "dead_letter"`), so that the shard can go on and
// nothing vanishes.
//
// A record goes there when its transformer fails, its filter's parser
// refuses it, or the emitter cannot write its batch: a record-level error,
// or transient errors past the retry budget (errors of the setup itself —
// credentials, a missing table, a conflicting checkpoint writer — still
// stop the pipeline). Each record is written as one JSON object:
//
//   {"pipeline", "stream", "shard_id", "sequence_number",
//    "sub_sequence_number", "partition_key", "approximate_arrival_timestamp"
//    (ms since the epoch), "stage" ("transform" | "filter" | "emit"),
//    "error_code" (e.g. "invalid argument" for the record's own data,
//    "unavailable" or "throttled" for a sink past its retry budget),
//    "error", "data" (base64, as handed to the stage that refused it)}
//
// Contract: Write returns success only once every record is durably at the
// destination; the shard's checkpoint moves past them only after that. The
// same records may be written again after a crash; file and S3 destinations
// name each record by its position, so a repeat overwrites.
//
// Thread-safety: Write may be called concurrently for different shards.
#pragma once

#include <stop_token>
#include <string>
#include <vector>

#include "kc/record.h"
#include "kc/status.h"

namespace kc {

struct DeadLetter {
  std::string pipeline;
  std::string stream;
  std::string shard_id;
  std::string stage;       // "transform" | "filter" | "emit"
  std::string error_code;  // ErrorCodeName: "invalid argument", "unavailable", ...
  std::string error;
  Record record;
};

class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  DeadLetterSink() = default;
  DeadLetterSink(const DeadLetterSink&) = delete;
  DeadLetterSink& operator=(const DeadLetterSink&) = delete;

  virtual Status Write(const std::vector<DeadLetter>& letters, std::stop_token stop) = 0;
  // For logs, e.g. "dead letters as files under dlq/".
  virtual std::string Describe() const = 0;
};

// The JSON object a dead letter is written as (no newline).
std::string EncodeDeadLetter(const DeadLetter& letter);

}  // namespace kc
