#include "stores/redis/config.h"

#include <cstdlib>

#include "clients/redis/redis_url.h"
#include "config/reader.h"
#include "stores/redis/redis_checkpoint_store.h"

namespace kc::checkpoint {

std::unique_ptr<component::StoreConfig> ReadRedisStore(config::TableReader& reader,
                                                       const component::StoreReadContext&) {
  using config::Need;
  auto store = std::make_unique<RedisStoreConfig>();
  if (reader.NonEmptyString("path", Need::kOptional)) {
    reader.Report("path",
                  "'path' is not used by checkpoint store 'redis'; it keeps checkpoints at "
                  "checkpoint.url");
  }
  if (auto url = reader.NonEmptyString("url", Need::kOptional)) {
    if (Result<RedisUrl> parsed = ParseRedisUrl(*url); !parsed) {
      // The message never repeats the URL: it may hold a password.
      reader.Report("url", parsed.error().message());
    } else {
      store->url = *url;
    }
  }
  return store;
}

Result<std::shared_ptr<CheckpointStore>> RedisStoreConfig::Build(
    const component::StoreContext& context) const {
  auto parsed = ParseRedisUrl(url);
  if (!parsed) return Fail(ErrorCode::kConfig, "checkpoint.url: " + parsed.error().message());
  if (parsed->password.empty()) {
    const char* password = std::getenv("REDIS_PASSWORD");
    if (password != nullptr) parsed->password = password;
  }
  RedisStoreOptions options;
  options.url = std::move(*parsed);
  options.default_app = context.app;
  options.apps = context.pipeline_apps;
  return std::make_shared<RedisCheckpointStore>(std::move(options));
}

}  // namespace kc::checkpoint
