#include "stores/postgres/config.h"

#include "clients/pg/settings.h"
#include "component/probes.h"
#include "config/reader.h"
#include "stores/postgres/postgres_checkpoint_store.h"

namespace kc::checkpoint {

std::unique_ptr<component::StoreConfig> ReadPostgresStore(config::TableReader& reader,
                                                          const component::StoreReadContext&) {
  auto store = std::make_unique<PostgresStoreConfig>();
  if (auto url = pg::ReadConninfo(reader, "url")) store->url = *url;
  if (auto table = pg::ReadSqlName(reader, "table", config::Need::kOptional, true)) {
    store->table = *table;
  }
  return store;
}

Result<std::shared_ptr<CheckpointStore>> PostgresStoreConfig::Build(
    const component::StoreContext& context) const {
  return std::make_shared<PostgresCheckpointStore>(url, table, context.app);
}

// The store reads, inserts and updates its rows.
component::Checks PostgresStoreConfig::Check(const component::CheckContext&) const {
  static constexpr std::string_view kPrivileges[] = {"SELECT", "INSERT", "UPDATE"};
  return {component::ProbeSqlTable(url, table, {}, kPrivileges, component::IfMissing::kCreated)};
}

}  // namespace kc::checkpoint
