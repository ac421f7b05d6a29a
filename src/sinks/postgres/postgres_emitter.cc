#include "sinks/postgres/postgres_emitter.h"

#include <simdjson.h>

#include "sinks/util/csv.h"
#include "sinks/util/format.h"

namespace kc::emitter {

Result<std::unique_ptr<PostgresEmitter>> PostgresEmitter::Create(
    PostgresSettings settings, std::shared_ptr<checkpoint::PostgresCheckpointStore> store,
    RetryPolicy retry) {
  if (settings.column.empty() == settings.columns.empty()) {
    return Fail(ErrorCode::kConfig,
                "the postgres emitter of table " + settings.table +
                    " needs exactly one of column and columns; check the configuration with "
                    "kinesis-connect validate");
  }
  return std::unique_ptr<PostgresEmitter>(
      new PostgresEmitter(std::move(settings), std::move(store), retry));
}

PostgresEmitter::PostgresEmitter(PostgresSettings settings,
                                 std::shared_ptr<checkpoint::PostgresCheckpointStore> store,
                                 RetryPolicy retry)
    : config_(std::move(settings)),
      store_(std::move(store)),
      retry_(retry),
      own_pool_(config_.url),
      pool_(store_ ? &store_->pool() : &own_pool_),
      copy_sql_(CopySql(config_)) {
  for (const auto& [column, path] : config_.columns) paths_.push_back(path);
}

std::string PostgresEmitter::CopySql(const PostgresSettings& config) {
  std::string sql = "COPY " + pg::QuoteIdentifier(config.table) + " (";
  if (config.columns.empty()) {
    sql += pg::QuoteIdentifier(config.column) + ") FROM STDIN";
    return sql;
  }
  for (size_t i = 0; i < config.columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += pg::QuoteIdentifier(config.columns[i].first);
  }
  sql += ") FROM STDIN (FORMAT csv)";
  return sql;
}

Result<std::string> PostgresEmitter::CopyCsv(const Batch& batch,
                                             std::span<const util::JsonPath> paths) {
  std::string out;
  out.reserve(batch.bytes + batch.records.size() * 2);
  for (const Record& r : batch.records) {
    const size_t row_start = out.size();
    std::string problem;
    if (auto s = AppendCsvRow(out, r.data, paths, ','); !s) {
      problem = s.error().message() +
                "; with columns, the postgres emitter needs each record to be a JSON object "
                "(send JSON objects, or use column = \"...\" to store the data as text)";
    } else if (std::string_view(out).substr(row_start).find('\0') != std::string_view::npos) {
      problem =
          "a field's value holds a NUL character (\\u0000), which PostgreSQL cannot store in "
          "text";
    }
    if (!problem.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "bad record in stream " + batch.stream + " shard " +
                                                   batch.shard_id + " at sequence number " +
                                                   PositionName(r.position()) + ": " + problem);
    }
  }
  return out;
}

Result<std::string> PostgresEmitter::CopyInput(const Batch& batch) const {
  if (paths_.empty()) return CopyText(batch);
  return CopyCsv(batch, paths_);
}

Result<std::string> PostgresEmitter::CopyText(const Batch& batch) {
  std::string out;
  out.reserve(batch.bytes + batch.records.size() * 2);
  for (const Record& r : batch.records) {
    const std::string_view data = r.data;
    std::string problem;
    if (data.find('\0') != std::string_view::npos) {
      problem = "contains a NUL byte";
    } else if (!simdjson::validate_utf8(data.data(), data.size())) {
      problem = "is not valid UTF-8";
    }
    if (!problem.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "bad record in stream " + batch.stream + " shard " + batch.shard_id +
                      " at sequence number " + PositionName(r.position()) + ": its data " +
                      problem +
                      ", and the postgres emitter stores each record as text; send text "
                      "records, or use a sink that keeps bytes (file or s3 with format = "
                      "\"envelope\")");
    }
    // COPY's text format: backslash escapes for the characters it reserves.
    for (char c : data) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += c;
      }
    }
    out += '\n';
  }
  return out;
}

Status PostgresEmitter::Attempt(const std::string& rows, const Batch& batch, const ShardKey* key,
                                const ShardCheckpoint* after) {
  auto conn = pool_->Acquire();
  auto tx = pg::Transaction::Begin(*conn);
  if (!tx) return Fail(tx.error());
  if (key != nullptr) {
    // Locks the shard's row until COMMIT, and tells whether an earlier
    // attempt committed this batch after all.
    auto current = store_->LoadOn(*conn, *key, /*for_update=*/true);
    if (!current) return Fail(current.error());
    if (current->position && *current->position >= batch.last) return Ok();
  }
  auto copied = conn->CopyIn(copy_sql_, rows);
  if (!copied) return Fail(copied.error().With("loading into table " + config_.table));
  if (key != nullptr) {
    if (auto s = store_->SaveOn(*conn, *key, *after); !s) return s;
  }
  return tx->Commit();
}

Status PostgresEmitter::Load(const Batch& batch, const ShardKey* key, const ShardCheckpoint* after,
                             std::stop_token stop) {
  auto rows = CopyInput(batch);
  if (!rows) return Fail(rows.error());
  return retry_.Run("loading a batch into table " + config_.table, stop,
                    [&] { return Attempt(*rows, batch, key, after); });
}

Status PostgresEmitter::Emit(const Batch& batch, std::stop_token stop) {
  return Load(batch, nullptr, nullptr, stop);
}

Status PostgresEmitter::EmitAndCheckpoint(const Batch& batch, const ShardKey& key,
                                          const ShardCheckpoint& after, std::stop_token stop) {
  if (store_ == nullptr) return Emitter::EmitAndCheckpoint(batch, key, after, stop);
  return Load(batch, &key, &after, stop);
}

std::string PostgresEmitter::Describe() const {
  std::string columns;
  if (config_.columns.empty()) {
    columns = "column " + config_.column;
  } else {
    columns = "columns ";
    for (size_t i = 0; i < config_.columns.size(); ++i) {
      if (i > 0) columns += ", ";
      columns += config_.columns[i].first + " from field " + config_.columns[i].second.text();
    }
  }
  return "rows of table " + config_.table + " (" + columns + ") at " + pool_->redacted() +
         (store_ ? ", exactly once (checkpoints commit with the rows)"
                 : ", at least once (the checkpoint store is not this database)");
}

}  // namespace kc::emitter
