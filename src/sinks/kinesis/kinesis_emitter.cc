#include "sinks/kinesis/kinesis_emitter.h"

#include <span>

#include "sinks/util/format.h"

namespace kc::emitter {
namespace {

using KeySource = KinesisSettings::KeySource;

std::string RecordName(const Batch& batch, const Record& record) {
  return "record in stream " + batch.stream + " shard " + batch.shard_id + " at sequence number " +
         PositionName(record.position());
}

const char* KindName(util::JsonField::Kind kind) {
  switch (kind) {
    case util::JsonField::Kind::kMissing:
      return "missing";
    case util::JsonField::Kind::kNull:
      return "null";
    case util::JsonField::Kind::kBool:
      return "a boolean";
    case util::JsonField::Kind::kObject:
      return "an object";
    case util::JsonField::Kind::kArray:
      return "an array";
    case util::JsonField::Kind::kString:
      return "a string";
    case util::JsonField::Kind::kNumber:
      return "a number";
  }
  return "of an unknown kind";
}

}  // namespace

Result<std::unique_ptr<KinesisEmitter>> KinesisEmitter::Create(
    KinesisSettings settings, std::shared_ptr<kinesis::KinesisClient> client, RetryPolicy retry,
    Clock* clock) {
  if (settings.partition_key == KeySource::kField && !settings.partition_key_field) {
    return Fail(ErrorCode::kConfig,
                "kinesis emitter: partition_key = \"field\" needs partition_key_field");
  }
  if (settings.partition_key == KeySource::kConstant) {
    const size_t length = kinesis::PartitionKeyLength(settings.partition_key_value);
    if (length == 0 || length > kinesis::kMaxPartitionKeyLength) {
      return Fail(ErrorCode::kConfig,
                  "kinesis emitter partition_key_value: a partition key must have 1 to 256 "
                  "characters");
    }
  }
  return std::unique_ptr<KinesisEmitter>(
      new KinesisEmitter(std::move(settings), std::move(client),
                         PartialBatchWriter({kMaxRecordsPerCall, kMaxBytesPerCall}, retry, clock)));
}

KinesisEmitter::KinesisEmitter(KinesisSettings settings,
                               std::shared_ptr<kinesis::KinesisClient> client,
                               PartialBatchWriter writer)
    : config_(std::move(settings)), client_(std::move(client)), writer_(std::move(writer)) {}

Result<std::string> KinesisEmitter::FieldKey(const Batch& batch, const Record& record,
                                             std::vector<util::JsonField>& scratch) const {
  const std::string& path = config_.partition_key_field->text();
  if (auto s =
          util::ReadJsonFields(record.data, std::span(&*config_.partition_key_field, 1), scratch);
      !s) {
    return Fail(ErrorCode::kInvalidArgument,
                "bad " + RecordName(batch, record) + ": " + s.error().message() +
                    "; with partition_key = \"field\" the kinesis emitter takes each record's "
                    "partition key from its field " +
                    path +
                    " and needs every record to be a JSON object (send JSON objects, or use "
                    "partition_key = \"source\" or \"constant\")");
  }
  util::JsonField& value = scratch.front();
  if (value.kind != util::JsonField::Kind::kString &&
      value.kind != util::JsonField::Kind::kNumber) {
    return Fail(ErrorCode::kInvalidArgument,
                "bad " + RecordName(batch, record) + ": its field " + path +
                    ", the partition key, is " + KindName(value.kind) +
                    "; the kinesis emitter needs a string or a number there (fix the record, "
                    "or choose another partition_key_field or partition_key)");
  }
  return std::move(value.text);
}

Result<std::vector<std::string>> KinesisEmitter::PartitionKeys(const Batch& batch) const {
  std::vector<std::string> keys;
  keys.reserve(batch.records.size());
  std::vector<util::JsonField> scratch;
  for (const Record& record : batch.records) {
    std::string key;
    switch (config_.partition_key) {
      case KeySource::kSource:
        key = record.partition_key;
        break;
      case KeySource::kConstant:
        key = config_.partition_key_value;
        break;
      case KeySource::kField: {
        auto value = FieldKey(batch, record, scratch);
        if (!value) return Fail(value.error());
        key = std::move(*value);
        break;
      }
    }
    const size_t length = kinesis::PartitionKeyLength(key);
    if (length == 0 || length > kinesis::kMaxPartitionKeyLength) {
      const std::string whose =
          config_.partition_key == KeySource::kField
              ? "its partition key (from field " + config_.partition_key_field->text() + ")"
              : "its partition key";
      return Fail(ErrorCode::kInvalidArgument,
                  "bad " + RecordName(batch, record) + ": " + whose + " has " +
                      std::to_string(length) +
                      " characters, and Kinesis takes partition keys of 1 to 256 characters "
                      "(fix the record, or choose another partition_key)");
    }
    const uint64_t size = record.data.size() + key.size();
    if (size > kMaxRecordBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  "bad " + RecordName(batch, record) + ": its data and partition key come to " +
                      std::to_string(size) +
                      " bytes, more than the 1 MiB (1048576 bytes) Kinesis takes per record; "
                      "it cannot be put on stream " +
                      config_.stream +
                      " (make the records smaller upstream, or send them to another sink)");
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

Status KinesisEmitter::Emit(const Batch& batch, std::stop_token stop) {
  if (batch.records.empty()) return Ok();
  auto keys = PartitionKeys(batch);
  if (!keys) return Fail(keys.error());
  const std::vector<Record>& records = batch.records;
  const std::string what = "putting " + std::to_string(records.size()) + " records of stream " +
                           batch.stream + " shard " + batch.shard_id + " on stream " +
                           config_.stream;
  std::vector<kinesis::PutRecordsEntry> entries;
  const auto send = [&](std::span<const size_t> indices) -> Result<Refused> {
    entries.resize(indices.size());
    for (size_t p = 0; p < indices.size(); ++p) {
      entries[p].data = records[indices[p]].data;
      entries[p].partition_key = (*keys)[indices[p]];
    }
    auto answer = client_->PutRecords(config_.stream, entries, stop);
    if (!answer) return Fail(answer.error());
    if (answer->records.size() != indices.size()) {
      return Fail(ErrorCode::kParse, "PutRecords answered " +
                                         std::to_string(answer->records.size()) + " results for " +
                                         std::to_string(indices.size()) + " records");
    }
    Refused refused;
    for (size_t p = 0; p < indices.size(); ++p) {
      const kinesis::PutRecordsResultEntry& result = answer->records[p];
      if (result.error_code.empty() && !result.sequence_number.empty()) continue;
      const Error error = kinesis::PutRecordsEntryError(result);
      if (!error.retriable()) {
        return Fail(error.With("stream " + config_.stream + " refused the " +
                               RecordName(batch, records[indices[p]])));
      }
      if (refused.positions.empty()) {
        refused.error = error.With("stream " + config_.stream + " refused records");
      }
      refused.positions.push_back(p);
    }
    return refused;
  };
  const auto size_of = [&](size_t i) -> uint64_t {
    return records[i].data.size() + (*keys)[i].size();
  };
  std::function<std::string_view(size_t)> order_key;
  if (config_.ordered) {
    order_key = [&](size_t i) -> std::string_view { return (*keys)[i]; };
  }
  return writer_.Write(what, records.size(), size_of, send, stop, order_key);
}

std::string KinesisEmitter::Describe() const {
  std::string keys;
  switch (config_.partition_key) {
    case KeySource::kSource:
      keys = "the source records' partition keys";
      break;
    case KeySource::kField:
      keys = "partition keys from field " + config_.partition_key_field->text();
      break;
    case KeySource::kConstant:
      keys = "one constant partition key";
      break;
  }
  return "records on Kinesis stream " + config_.stream + " (" + keys +
         (config_.ordered ? ", in order per partition key" : "") + "), at least once";
}

}  // namespace kc::emitter
