#include "daemon/builtins.h"

#include <algorithm>

#include "sinks/dynamodb/config.h"
#include "sinks/file/config.h"
#include "sinks/kinesis/config.h"
#include "sinks/postgres/config.h"
#include "sinks/redshift/config.h"
#include "sinks/s3/config.h"
#include "sinks/s3_manifest/config.h"
#include "sinks/stdout/config.h"
#include "stores/dynamodb/config.h"
#include "stores/file/config.h"
#include "stores/postgres/config.h"
#include "stores/redis/config.h"

namespace kc::daemon {

std::span<const component::SinkKind> BuiltinSinks() {
  // clang-format off: one line per sink
  static constexpr component::SinkKind kSinks[] = {
      {"file", &emitter::ReadFileSink},
      {"stdout", &emitter::ReadStdoutSink},
      {"s3", &emitter::ReadS3Sink},
      {"s3_manifest", &emitter::ReadS3ManifestSink},
      {"kinesis", &emitter::ReadKinesisSink},
      {"postgres", &emitter::ReadPostgresSink},
      {"redshift", &emitter::ReadRedshiftSink},
      {"dynamodb", &emitter::ReadDynamoDbSink},
  };
  // clang-format on
  return kSinks;
}

std::vector<std::string_view> SinkTypes() {
  std::vector<std::string_view> types;
  for (const component::SinkKind& kind : BuiltinSinks()) types.push_back(kind.type);
  return types;
}

const component::SinkKind* FindSink(std::string_view type) {
  auto sinks = BuiltinSinks();
  auto it = std::ranges::find(sinks, type, &component::SinkKind::type);
  return it == sinks.end() ? nullptr : &*it;
}

std::span<const component::StoreKind> BuiltinStores() {
  // clang-format off: one line per store
  static constexpr component::StoreKind kStores[] = {
      {"file", &checkpoint::ReadFileStore},
      {"redis", &checkpoint::ReadRedisStore},
      {"postgres", &checkpoint::ReadPostgresStore},
      {"dynamodb", &checkpoint::ReadDynamoDbStore},
  };
  // clang-format on
  return kStores;
}

std::vector<std::string_view> StoreTypes() {
  std::vector<std::string_view> types;
  for (const component::StoreKind& kind : BuiltinStores()) types.push_back(kind.type);
  return types;
}

const component::StoreKind* FindStore(std::string_view type) {
  auto stores = BuiltinStores();
  auto it = std::ranges::find(stores, type, &component::StoreKind::type);
  return it == stores.end() ? nullptr : &*it;
}

}  // namespace kc::daemon
