// KinesisEmitter: each batch's records are put on another Kinesis stream,
// their data unchanged, with PutRecords.
//
// Calls: at most 500 records and 5 MiB (data and partition keys) each, the
// service's limits. A record whose data and partition key come to more than
// 1 MiB, or whose partition key cannot be made (see below), is a bad record:
// Emit fails with a final error naming it and the limit, before anything of
// the batch is put.
//
// Partition keys: the source record's own (the default), the value of a
// field of each record (a JSON object; a string, or a number as written),
// or one constant. A key must have 1 to 256 characters.
//
// Failures: PutRecords may take part of a call and refuse records one by
// one (a shard over its write limit, an internal failure); only the refused
// records are sent again, after a backoff of the retry policy, through
// PartialBatchWriter, which also sends a failed call's records again when
// the failure is worth retrying. The client must therefore not retry itself
// (give it a RetryPolicy of one attempt), or retries would nest.
//
// Order: Kinesis keeps the order of the records of one partition key that
// one call takes, but a refused record sent again lands after the later
// records of its key that were taken. With `ordered`, a call holds at most
// one record per partition key and a record is sent only once every earlier
// record of its key is in: the order per key is kept, at the cost of one
// record per key and call (a batch of one hot key is one call per record).
//
// Delivery is at least once: Kinesis has no way to recognise a record put
// twice, and a batch emitted again after a crash (or whose call's answer was
// lost) is put again. Readers of the target stream see such duplicates.
//
// Thread-safety: Emit may be called concurrently for different shards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/json_fields.h"
#include "base/retry.h"
#include "clients/kinesis/client.h"
#include "kc/clock.h"
#include "kc/emitter.h"
#include "sinks/kinesis/config.h"
#include "sinks/util/partial_batch.h"

namespace kc::emitter {

class KinesisEmitter final : public Emitter {
 public:
  // PutRecords' limits.
  static constexpr size_t kMaxRecordsPerCall = 500;
  static constexpr uint64_t kMaxBytesPerCall = 5ull << 20;  // data and partition keys
  static constexpr uint64_t kMaxRecordBytes = 1ull << 20;   // data and partition key

  // `client` should make one attempt per call (see above). kConfig when the
  // partition key field is missing or the constant key is not 1 to 256
  // characters (the config reader reports both first).
  static Result<std::unique_ptr<KinesisEmitter>> Create(
      KinesisSettings settings, std::shared_ptr<kinesis::KinesisClient> client,
      RetryPolicy retry = RetryPolicy(), Clock* clock = &Clock::Real());

  Status Emit(const Batch& batch, std::stop_token stop) override;
  std::string Describe() const override;

  // The partition key of each record of `batch`, in order. A record whose
  // key cannot be made, or that is over the per-record limit with it, is a
  // final error naming the record.
  Result<std::vector<std::string>> PartitionKeys(const Batch& batch) const;

 private:
  KinesisEmitter(KinesisSettings settings, std::shared_ptr<kinesis::KinesisClient> client,
                 PartialBatchWriter writer);
  Result<std::string> FieldKey(const Batch& batch, const Record& record,
                               std::vector<util::JsonField>& scratch) const;

  KinesisSettings config_;
  std::shared_ptr<kinesis::KinesisClient> client_;
  PartialBatchWriter writer_;
};

}  // namespace kc::emitter
