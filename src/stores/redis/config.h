// [checkpoint] store = "redis": checkpoints under the original library's
// keys, "{app}:checkpoint:{stream}:{shard}", at `url`.
#pragma once

#include <memory>
#include <string>

#include "clients/redis/redis_url.h"
#include "component/store.h"
#include "stores/redis/redis_checkpoint_store.h"

namespace kc::checkpoint {

struct RedisStoreConfig final : component::StoreConfig {
  // "redis://[user:password@]host[:port][/db]", or rediss:// for TLS; may
  // hold a password. Without one, REDIS_PASSWORD is used when set.
  RedisUrl url = *ParseRedisUrl(kDefaultRedisUrl);
  // With rediss://: PEM authorities to trust instead of the system's.
  std::string ca_file;

  Result<std::shared_ptr<CheckpointStore>> Build(
      const component::StoreContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;

 private:
  // The store's connection settings, the password from REDIS_PASSWORD when
  // the url has none.
  RedisStoreOptions Options() const;
};

std::unique_ptr<component::StoreConfig> ReadRedisStore(config::TableReader& table,
                                                       const component::StoreReadContext& context);

// The warning for a store that talks to Redis in plain text off this
// machine, or "" (rediss://, or a loopback host).
std::string PlainTextWarning(const RedisUrl& url);

}  // namespace kc::checkpoint
