#include "dead_letters/letter/letter.h"

#include "base/base64.h"
#include "base/json_writer.h"
#include "sinks/util/format.h"

namespace kc {

std::string EncodeDeadLetter(const DeadLetter& letter) {
  util::JsonWriter w;
  w.BeginObject()
      .Field("pipeline", letter.pipeline)
      .Field("stream", letter.stream)
      .Field("shard_id", letter.shard_id)
      .Field("sequence_number", letter.record.sequence_number)
      .Field("sub_sequence_number", letter.record.sub_sequence_number)
      .Field("partition_key", letter.record.partition_key)
      .Field("approximate_arrival_timestamp", letter.record.approximate_arrival_ms)
      .Field("stage", letter.stage)
      .Field("error_code", letter.error_code)
      .Field("error", letter.error)
      .Field("data", util::Base64Encode(letter.record.data))
      .EndObject();
  return w.Take();
}

namespace dead_letter {

std::string DeadLetterName(const DeadLetter& letter) {
  return letter.pipeline + "/" + letter.stream + "/" + letter.shard_id + "/" +
         emitter::PositionName(letter.record.position()) + ".json";
}

}  // namespace dead_letter
}  // namespace kc
