// DynamoDbEmitter: each record, a JSON object, becomes an item of one table
// (see dynamodb/item.h for the mapping), written with BatchWriteItem.
//
// - Requests hold at most 25 items; the items DynamoDB leaves unprocessed
//   are sent again, and only those, with the shared backoff
//   (PartialBatchWriter).
// - Items of one batch with the same key are collapsed, the last in
//   sequence order winning, because BatchWriteItem refuses a request that
//   names one key twice, and a later record is the newer state.
// - A replay writes the same items again: puts are idempotent by key, so a
//   batch emitted twice leaves the table as once.
// - A record that cannot be an item (not a JSON object, a key missing, a
//   value of the wrong declared type, a number DynamoDB cannot hold, over
//   400 KB) fails the batch with a kInvalidArgument error naming it.
// - On the first batch the table is described: a key schema other than
//   the configured one is a kConfig error naming both; the key attributes'
//   types come from the table.
//
// Thread-safety: Emit may be called concurrently.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "base/retry.h"
#include "clients/dynamodb/client.h"
#include "clients/dynamodb/item.h"
#include "kc/emitter.h"
#include "sinks/util/partial_batch.h"

namespace kc::emitter {

struct DynamoDbEmitterOptions {
  std::string table;
  std::string hash_key;
  std::string range_key;  // empty: the table has a hash key only
  std::map<std::string, dynamodb::AttributeType, std::less<>> declared;  // attribute → type
};

class DynamoDbEmitter final : public Emitter {
 public:
  // `client` should make one attempt per call: this emitter retries.
  DynamoDbEmitter(dynamodb::DynamoClient client, DynamoDbEmitterOptions options,
                  RetryPolicy retry = RetryPolicy(), Clock* clock = &Clock::Real());

  Status Emit(const Batch& batch, std::stop_token stop) override;
  std::string Describe() const override;

 private:
  // The schema, from the config and the table's description (once).
  Result<dynamodb::ItemSchema> Schema(std::stop_token stop);

  dynamodb::DynamoClient client_;
  DynamoDbEmitterOptions options_;
  RetryPolicy retry_;
  PartialBatchWriter writer_;
  std::mutex mu_;
  std::optional<dynamodb::ItemSchema> schema_;  // guarded by mu_
};

}  // namespace kc::emitter
