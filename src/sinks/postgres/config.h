// [pipeline.emitter] type = "postgres": each record a row of a table, its
// data as text in one column or its JSON fields in several.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/json_fields.h"
#include "component/sink.h"

namespace kc::emitter {

struct PostgresSettings {
  std::string url;  // a libpq connection string; may hold a password
  std::string table;
  // Exactly one of: `column`, which gets each record's data as text;
  // `columns`, column name → field path into each record (a JSON object),
  // in the order they are written in the file.
  std::string column;
  std::vector<std::pair<std::string, util::JsonPath>> columns;
};

struct PostgresSinkConfig final : component::SinkConfig {
  PostgresSettings rows;

  // Rows and checkpoints commit in one transaction when the pipelines'
  // checkpoint store is the postgres store of the same database.
  Result<std::shared_ptr<Emitter>> Build(const component::SinkContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;
};

std::unique_ptr<component::SinkConfig> ReadPostgresSink(config::TableReader& table,
                                                        const component::SinkReadContext& context);

}  // namespace kc::emitter
