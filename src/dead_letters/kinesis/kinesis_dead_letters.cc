#include "dead_letters/kinesis/kinesis_dead_letters.h"

#include <span>

namespace kc::dead_letter {

KinesisDeadLetters::KinesisDeadLetters(std::shared_ptr<kinesis::KinesisClient> client,
                                       std::string stream, RetryPolicy retry)
    : client_(std::move(client)),
      stream_(std::move(stream)),
      writer_(emitter::PartialBatchLimits{.max_items = 500, .max_bytes = 5u << 20}, retry) {}

Status KinesisDeadLetters::Write(const std::vector<DeadLetter>& letters, std::stop_token stop) {
  std::vector<kinesis::PutRecordsEntry> entries;
  entries.reserve(letters.size());
  for (const DeadLetter& letter : letters) {
    // A record's own partition key keeps its shard's letters together; a
    // record's key may be empty only in tests, where "dead-letter" stands in.
    entries.push_back(
        {EncodeDeadLetter(letter),
         letter.record.partition_key.empty() ? "dead-letter" : letter.record.partition_key, ""});
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    // Base64 and the JSON around it make a letter a third larger than its
    // record: records over about 780 KB do not fit in a Kinesis record.
    const uint64_t size = entries[i].data.size() + entries[i].partition_key.size();
    if (size > (1u << 20)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the dead letter of record " + letters[i].record.sequence_number + " of shard " +
                      letters[i].shard_id + " is " + std::to_string(size) +
                      " bytes, over the 1 MiB a Kinesis record holds; send dead letters of "
                      "records this large to a file or S3 destination");
    }
  }
  auto send = [&](std::span<const size_t> indices) -> Result<emitter::Refused> {
    std::vector<kinesis::PutRecordsEntry> request;
    request.reserve(indices.size());
    for (size_t i : indices) request.push_back(entries[i]);
    auto answer = client_->PutRecords(stream_, request, stop);
    if (!answer) return Fail(answer.error());
    if (answer->records.size() != indices.size()) {
      return Fail(ErrorCode::kParse, "PutRecords answered " +
                                         std::to_string(answer->records.size()) + " results for " +
                                         std::to_string(indices.size()) + " records");
    }
    emitter::Refused refused;
    for (size_t p = 0; p < answer->records.size(); ++p) {
      if (!answer->records[p].error_code.empty()) {
        refused.error = kinesis::PutRecordsEntryError(answer->records[p]);
        refused.positions.push_back(p);
      }
    }
    return refused;
  };
  return writer_.Write(
      "writing " + std::to_string(letters.size()) + " dead letters to stream " + stream_,
      entries.size(),
      [&](size_t i) { return entries[i].data.size() + entries[i].partition_key.size(); }, send,
      stop);
}

}  // namespace kc::dead_letter
