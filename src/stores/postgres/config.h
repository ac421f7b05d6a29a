// [checkpoint] store = "postgres": one row per shard in `table` of the
// database at `url`; with the postgres sink on the same database, rows and
// checkpoints commit together.
#pragma once

#include <memory>
#include <string>

#include "component/store.h"

namespace kc::checkpoint {

struct PostgresStoreConfig final : component::StoreConfig {
  // A libpq connection string (URL or key=value pairs; the password there or
  // in PGPASSWORD).
  std::string url;
  std::string table = "kc_checkpoints";  // created if missing

  Result<std::shared_ptr<CheckpointStore>> Build(
      const component::StoreContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;
};

std::unique_ptr<component::StoreConfig> ReadPostgresStore(
    config::TableReader& table, const component::StoreReadContext& context);

}  // namespace kc::checkpoint
