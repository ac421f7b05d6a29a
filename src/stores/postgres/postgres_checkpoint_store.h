// PostgresCheckpointStore: one row per (app, pipeline, stream, shard) in a
// table of the user's database, created if missing:
//
//   app, pipeline, stream, shard   the key (pipeline included, so pipelines
//                                  reading one stream keep their own rows)
//   sequence_number text           NULL until the first batch is emitted
//   sub_sequence_number numeric    0 unless a KPL record was split
//   shard_end boolean
//   pending jsonb                  [{"first","first_sub","last","last_sub"}]
//   updated_at timestamptz
//
// Save is one INSERT ... ON CONFLICT DO UPDATE, atomic like every statement.
// LoadOn/SaveOn run on a caller's connection, inside its transaction: the
// postgres emitter uses them to commit a batch's rows and the shard's
// checkpoint together.
//
// Thread-safety: safe for concurrent use (a pool of connections).
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "clients/pg/connection.h"
#include "kc/checkpoint.h"

namespace kc::checkpoint {

class PostgresCheckpointStore final : public CheckpointStore {
 public:
  static constexpr char kDefaultTable[] = "kc_checkpoints";

  // `url`: a libpq connection string; `table`: optionally schema-qualified
  // (validated by the config reader; empty means kDefaultTable).
  PostgresCheckpointStore(std::string url, std::string table, std::string app);

  Result<ShardCheckpoint> Load(const ShardKey& key) override;
  Status Save(const ShardKey& key, const ShardCheckpoint& state) override;
  std::string Describe() const override;

  // The same on `conn`, e.g. inside the caller's transaction. `for_update`
  // locks the row until that transaction ends.
  Result<ShardCheckpoint> LoadOn(pg::Connection& conn, const ShardKey& key, bool for_update);
  Status SaveOn(pg::Connection& conn, const ShardKey& key, const ShardCheckpoint& state);

  const std::string& url() const { return url_; }
  // The store's connections, for an emitter on the same database: a shard
  // then holds one connection at a time for both.
  pg::Pool& pool() { return pool_; }

 private:
  Status EnsureTable(pg::Connection& conn);

  std::string url_;
  std::string table_;  // as configured, for messages
  std::string quoted_;
  std::string app_;
  pg::Pool pool_;
  std::mutex create_mu_;
  std::atomic<bool> table_ready_{false};
};

}  // namespace kc::checkpoint
