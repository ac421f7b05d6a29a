#include "sinks/postgres/config.h"

#include <algorithm>

#include "clients/pg/connection.h"
#include "clients/pg/settings.h"
#include "component/probes.h"
#include "config/reader.h"
#include "sinks/postgres/postgres_emitter.h"
#include "stores/postgres/postgres_checkpoint_store.h"

namespace kc::emitter {
namespace {

using config::Need;
using config::TableReader;

// [pipeline.emitter.columns]: column name = field path, at least one, kept
// in the order of the file.
void ReadColumns(TableReader& reader, PostgresSettings* settings) {
  const toml::table* table = reader.Table("columns", Need::kOptional);
  if (table == nullptr) return;
  TableReader columns = reader.Child(*table, "columns");
  if (table->empty()) {
    reader.Report("columns",
                  "must map at least one column to a field path, e.g. user_id = \"user.id\"");
    return;
  }
  struct Entry {
    toml::source_position where;
    std::string column;
    util::JsonPath path;
  };
  std::vector<Entry> entries;
  bool ok = true;
  for (auto&& [key, value] : *table) {
    const std::string_view name = key.str();
    if (std::optional<std::string> problem = pg::IdentifierProblem(name, false)) {
      columns.Report(name, *problem);
      ok = false;
      continue;
    }
    const toml::value<std::string>* text = value.as_string();
    if (text == nullptr) {
      columns.ReportWrongType(name, value, "a field path as a string, e.g. \"user.id\"");
      ok = false;
      continue;
    }
    Result<util::JsonPath> path = util::JsonPath::Parse(text->get());
    if (!path) {
      columns.Report(name, path.error().message());
      ok = false;
      continue;
    }
    entries.push_back(Entry{key.source().begin, std::string(name), std::move(*path)});
  }
  if (!ok) return;
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
  });
  for (Entry& e : entries) settings->columns.emplace_back(std::move(e.column), std::move(e.path));
}

// url, table, and exactly one of column (the data as text) and columns
// (JSON fields into columns).
void ReadRows(TableReader& reader, PostgresSettings* emitter) {
  if (auto url = pg::ReadConninfo(reader, "url")) emitter->url = *url;
  if (auto table = pg::ReadSqlName(reader, "table", Need::kRequired, true)) emitter->table = *table;
  const bool has_column = reader.Has("column");
  const bool has_columns = reader.Has("columns");
  if (has_column && has_columns) {
    reader.Get("column", Need::kOptional);
    reader.Get("columns", Need::kOptional);
    reader.Report("columns",
                  "give either column = \"...\" (each record's data as text) or columns "
                  "(JSON fields into columns), not both");
    return;
  }
  if (!has_column && !has_columns) {
    reader.Get("column", Need::kOptional);
    reader.Report("column", "missing 'column' or 'columns' " + reader.Where() +
                                ": add column = \"data\" (each record's data as text) or a "
                                "[pipeline.emitter.columns] table of column = \"field.path\" "
                                "(fields of JSON records into columns)");
    return;
  }
  if (has_column) {
    if (auto column = pg::ReadSqlName(reader, "column", Need::kRequired, false)) {
      emitter->column = *column;
    }
    return;
  }
  ReadColumns(reader, emitter);
}

}  // namespace

std::unique_ptr<component::SinkConfig> ReadPostgresSink(TableReader& reader,
                                                        const component::SinkReadContext&) {
  auto sink = std::make_unique<PostgresSinkConfig>();
  ReadRows(reader, &sink->rows);
  return sink;
}

Result<std::shared_ptr<Emitter>> PostgresSinkConfig::Build(
    const component::SinkContext& context) const {
  auto store = std::dynamic_pointer_cast<checkpoint::PostgresCheckpointStore>(context.checkpoints);
  if (store && store->url() != rows.url) store = nullptr;
  auto emitter = PostgresEmitter::Create(rows, std::move(store));
  if (!emitter) return Fail(emitter.error());
  return std::shared_ptr<Emitter>(std::move(*emitter));
}

// The table and the columns rows are copied into, and that the user may
// INSERT there.
component::Checks PostgresSinkConfig::Check(const component::CheckContext&) const {
  static constexpr std::string_view kInsert[] = {"INSERT"};
  std::vector<std::string> columns;
  if (!rows.column.empty()) columns.push_back(rows.column);
  for (const auto& [name, path] : rows.columns) columns.push_back(name);
  return {component::ProbeSqlTable(rows.url, rows.table, columns, kInsert,
                                   component::IfMissing::kFail)};
}

}  // namespace kc::emitter
