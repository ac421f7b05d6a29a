#include "stores/postgres/postgres_checkpoint_store.h"

#include <charconv>

#include "stores/codec/checkpoint_codec.h"

namespace kc::checkpoint {
PostgresCheckpointStore::PostgresCheckpointStore(std::string url, std::string table,
                                                 std::string app)
    : url_(std::move(url)),
      table_(table.empty() ? kDefaultTable : std::move(table)),
      quoted_(pg::QuoteIdentifier(table_)),
      app_(std::move(app)),
      pool_(url_) {}

Status PostgresCheckpointStore::EnsureTable(pg::Connection& conn) {
  if (table_ready_.load()) return Ok();
  std::lock_guard lock(create_mu_);
  if (table_ready_.load()) return Ok();
  const std::string sql = "CREATE TABLE IF NOT EXISTS " + quoted_ +
                          " (app text NOT NULL, pipeline text NOT NULL, stream text NOT NULL,"
                          " shard text NOT NULL, sequence_number text,"
                          " sub_sequence_number numeric(20) NOT NULL DEFAULT 0,"
                          " shard_end boolean NOT NULL DEFAULT false,"
                          " pending jsonb NOT NULL DEFAULT '[]',"
                          " updated_at timestamptz NOT NULL DEFAULT now(),"
                          " PRIMARY KEY (app, pipeline, stream, shard))";
  auto created = conn.Exec(sql);
  // Another process creating the same table at the same instant makes the
  // loser fail on the catalog's unique index; by then the table is there.
  if (!created && !conn.in_transaction() &&
      (pg::IsSqlState(created.error(), "23505") || pg::IsSqlState(created.error(), "42P07"))) {
    created = conn.Exec(sql);
  }
  if (!created) return Fail(created.error().With("creating checkpoint table " + table_));
  table_ready_.store(true);
  return Ok();
}

Result<ShardCheckpoint> PostgresCheckpointStore::LoadOn(pg::Connection& conn, const ShardKey& key,
                                                        bool for_update) {
  if (auto s = EnsureTable(conn); !s) return Fail(s.error());
  auto rows =
      conn.Exec("SELECT sequence_number, sub_sequence_number, shard_end, pending FROM " + quoted_ +
                    " WHERE app = $1 AND pipeline = $2 AND stream = $3 AND shard = $4" +
                    (for_update ? " FOR UPDATE" : ""),
                {app_, key.pipeline, key.stream, key.shard});
  if (!rows) return Fail(rows.error().With("loading the checkpoint from table " + table_));
  ShardCheckpoint state;
  if (rows->size() == 0) return state;
  const std::string row = "checkpoint row (app '" + app_ + "', pipeline '" + key.pipeline +
                          "', stream '" + key.stream + "', shard '" + key.shard + "') in table " +
                          table_;
  auto damaged = [&](const std::string& what) {
    return Fail(ErrorCode::kParse, row + " is damaged (" + what +
                                       "); correct it, or delete it to start the shard again "
                                       "from start_at");
  };
  if (!rows->IsNull(0, 0)) {
    std::string_view seq = rows->Get(0, 0);
    if (!IsValidSequenceNumber(seq)) return damaged("sequence_number is not a sequence number");
    uint64_t sub = 0;
    std::string_view text = rows->Get(0, 1);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), sub);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return damaged("sub_sequence_number is not an unsigned 64-bit integer");
    }
    state.position = ShardPosition{std::string(seq), sub};
  }
  state.shard_end = rows->Get(0, 2) == "t";
  auto pending = DecodePendingRanges(rows->Get(0, 3));
  if (!pending) return damaged("pending: " + pending.error().message());
  state.pending = std::move(*pending);
  return state;
}

Status PostgresCheckpointStore::SaveOn(pg::Connection& conn, const ShardKey& key,
                                       const ShardCheckpoint& state) {
  if (auto s = EnsureTable(conn); !s) return s;
  std::optional<std::string> seq;
  std::string sub = "0";
  if (state.position) {
    seq = state.position->sequence_number;
    sub = std::to_string(state.position->sub_sequence_number);
  }
  auto saved = conn.Exec(
      "INSERT INTO " + quoted_ +
          " AS c (app, pipeline, stream, shard, sequence_number, sub_sequence_number, shard_end,"
          " pending, updated_at) VALUES ($1, $2, $3, $4, $5, $6::numeric, $7::boolean, $8::jsonb,"
          " now()) ON CONFLICT (app, pipeline, stream, shard) DO UPDATE SET"
          " sequence_number = EXCLUDED.sequence_number,"
          " sub_sequence_number = EXCLUDED.sub_sequence_number, shard_end = EXCLUDED.shard_end,"
          " pending = EXCLUDED.pending, updated_at = EXCLUDED.updated_at",
      {app_, key.pipeline, key.stream, key.shard, seq, sub, state.shard_end ? "true" : "false",
       EncodePendingRanges(state.pending)});
  if (!saved) return Fail(saved.error().With("saving the checkpoint in table " + table_));
  return Ok();
}

Result<ShardCheckpoint> PostgresCheckpointStore::Load(const ShardKey& key) {
  auto conn = pool_.Acquire();
  return LoadOn(*conn, key, /*for_update=*/false);
}

Status PostgresCheckpointStore::Save(const ShardKey& key, const ShardCheckpoint& state) {
  auto conn = pool_.Acquire();
  return SaveOn(*conn, key, state);
}

std::string PostgresCheckpointStore::Describe() const {
  return "postgres store in table " + table_ + " at " + pool_.redacted();
}

}  // namespace kc::checkpoint
