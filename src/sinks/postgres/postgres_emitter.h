// PostgresEmitter: each batch becomes rows of a table, loaded with one COPY
// in a transaction: all of a batch's rows or none. Two ways to make a row:
// - `column`: each record's data is the row's value of that column, as text
//   (`COPY <table> (<column>) FROM STDIN`); a record that is not valid UTF-8
//   or holds a NUL byte is a bad record;
// - `columns`: each record is a JSON object and each column gets the value
//   of its field path (`COPY <table> (<columns>) FROM STDIN (FORMAT csv)`,
//   rows written by emitter/csv.h): strings unquoted, numbers and booleans
//   as written, objects and arrays as their JSON text, a missing field or
//   null as SQL NULL. A record that is not a JSON object, or a value holding
//   a NUL character, is a bad record.
// A bad record is an error naming it, and nothing of its batch is loaded.
//
// Delivery: given the pipeline's checkpoint store when that is the postgres
// store on the same database (the same url), the emitter commits each batch
// and the shard's checkpoint in one transaction (EmitAndCheckpoint): every
// record exactly once, whenever the process dies. Before loading, it reads
// the shard's checkpoint row FOR UPDATE; a batch the checkpoint already
// covers (a COMMIT whose answer was lost) is not loaded again. With another
// store, delivery is at least once: a crash between the commit and the
// store's save loads that batch again.
//
// Failures: connection losses, serialization failures and the server's
// resource and shutdown errors are retried with the retry policy (the whole
// transaction, on a new connection); others are final. A failed attempt
// rolls back.
//
// Thread-safety: Emit may be called concurrently for different shards (a
// pool of connections, the store's when they share the database).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/json_fields.h"
#include "base/retry.h"
#include "clients/pg/connection.h"
#include "kc/emitter.h"
#include "sinks/postgres/config.h"
#include "stores/postgres/postgres_checkpoint_store.h"

namespace kc::emitter {

class PostgresEmitter final : public Emitter {
 public:
  // `store`: the pipeline's store when batches and checkpoints commit
  // together, else null. kConfig unless the settings name exactly one of
  // column and columns (the config reader reports it first).
  static Result<std::unique_ptr<PostgresEmitter>> Create(
      PostgresSettings settings, std::shared_ptr<checkpoint::PostgresCheckpointStore> store,
      RetryPolicy retry = RetryPolicy());

  Status Emit(const Batch& batch, std::stop_token stop) override;
  bool CommitsCheckpoints() const override { return store_ != nullptr; }
  Status EmitAndCheckpoint(const Batch& batch, const ShardKey& key, const ShardCheckpoint& after,
                           std::stop_token stop) override;
  std::string Describe() const override;

  // The COPY statement for `config`: the text format with `column`, csv
  // with `columns`.
  static std::string CopySql(const PostgresSettings& settings);
  // The batch as COPY text-format input, one row per record; a bad record
  // is a kParse error naming its shard and sequence number.
  static Result<std::string> CopyText(const Batch& batch);
  // The batch as COPY csv-format input, one row per record and one value
  // per path; a bad record is a kParse error naming its shard and sequence
  // number.
  static Result<std::string> CopyCsv(const Batch& batch, std::span<const util::JsonPath> paths);

 private:
  PostgresEmitter(PostgresSettings settings,
                  std::shared_ptr<checkpoint::PostgresCheckpointStore> store, RetryPolicy retry);
  Result<std::string> CopyInput(const Batch& batch) const;
  Status Load(const Batch& batch, const ShardKey* key, const ShardCheckpoint* after,
              std::stop_token stop);
  Status Attempt(const std::string& rows, const Batch& batch, const ShardKey* key,
                 const ShardCheckpoint* after);

  PostgresSettings config_;
  std::shared_ptr<checkpoint::PostgresCheckpointStore> store_;
  RetryPolicy retry_;
  pg::Pool own_pool_;
  pg::Pool* pool_;                     // the store's when they share a database, else own_pool_
  std::vector<util::JsonPath> paths_;  // with `columns`, one per column; else empty
  std::string copy_sql_;
};

}  // namespace kc::emitter
