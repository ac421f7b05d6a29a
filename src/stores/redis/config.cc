#include "stores/redis/config.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "base/hosts.h"
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
      store->url = std::move(*parsed);
    }
  }
  if (auto ca = reader.ReadableFile("ca_file", Need::kOptional, config::kCaFileHolds)) {
    if (!store->url.tls) {
      reader.Report("ca_file",
                    "is used only with TLS; write the url as rediss://host:port to use it");
    }
    store->ca_file = *ca;
  }
  return store;
}

std::string PlainTextWarning(const RedisUrl& url) {
  if (url.tls || util::IsLoopbackHost(url.host)) {
    return "";
  }
  return "checkpoint store redis at " + url.Address() + " is reached without TLS: checkpoints" +
         (url.password.empty() ? std::string() : std::string(" and the password")) +
         " cross the network in plain text; use rediss:// if the server has a TLS port";
}

RedisStoreOptions RedisStoreConfig::Options() const {
  RedisStoreOptions options;
  options.url = url;
  if (options.url.password.empty()) {
    const char* password = std::getenv("REDIS_PASSWORD");
    if (password != nullptr) options.url.password = password;
  }
  options.ca_file = ca_file;
  return options;
}

Result<std::shared_ptr<CheckpointStore>> RedisStoreConfig::Build(
    const component::StoreContext& context) const {
  RedisStoreOptions options = Options();
  if (std::string warning = PlainTextWarning(options.url); !warning.empty()) {
    spdlog::warn("{}", warning);
  }
  options.default_app = context.app;
  options.apps = context.pipeline_apps;
  return std::make_shared<RedisCheckpointStore>(std::move(options));
}

// Connects as the store will, with its password and database, and PINGs.
component::Checks RedisStoreConfig::Check(const component::CheckContext&) const {
  RedisCheckpointStore store(Options());
  component::Checked checked{"server " + url.Address() + " db " + std::to_string(url.db), ""};
  if (auto s = store.Ping(); !s) {
    checked.found = Fail(s.error());
  } else {
    checked.found = "answers PING";
  }
  return {checked};
}

}  // namespace kc::checkpoint
