// [checkpoint] store = "dynamodb": one item per shard in a table, with the
// Kinesis Client Library's lease attribute names, saved with conditional
// writes. The endpoint and credentials are those of [aws].
#pragma once

#include <memory>
#include <string>

#include "component/store.h"

namespace kc::checkpoint {

struct DynamoDbStoreConfig final : component::StoreConfig {
  std::string table;  // created if missing; empty: the app's name

  Result<std::shared_ptr<CheckpointStore>> Build(
      const component::StoreContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;
  bool KeepsLeases() const override { return true; }
  Result<std::shared_ptr<LeaseTable>> BuildLeases(
      const component::StoreContext& context, const std::string& table,
      std::chrono::milliseconds call_timeout) const override;
  component::Checks CheckLeases(const component::CheckContext& context,
                                const std::string& table) const override;
};

std::unique_ptr<component::StoreConfig> ReadDynamoDbStore(
    config::TableReader& table, const component::StoreReadContext& context);

}  // namespace kc::checkpoint
