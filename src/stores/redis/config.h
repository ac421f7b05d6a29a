// [checkpoint] store = "redis": checkpoints under the original library's
// keys, "{app}:checkpoint:{stream}:{shard}", at `url`.
#pragma once

#include <memory>
#include <string>

#include "component/store.h"

namespace kc::checkpoint {

struct RedisStoreConfig final : component::StoreConfig {
  // "redis://[user:password@]host[:port][/db]"; may hold a password. Without
  // one, REDIS_PASSWORD is used when set.
  std::string url = "redis://127.0.0.1:6379";

  Result<std::shared_ptr<CheckpointStore>> Build(
      const component::StoreContext& context) const override;
};

std::unique_ptr<component::StoreConfig> ReadRedisStore(config::TableReader& table,
                                                       const component::StoreReadContext& context);

}  // namespace kc::checkpoint
