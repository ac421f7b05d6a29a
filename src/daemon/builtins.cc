#include "daemon/builtins.h"

#include "dead_letters/file/config.h"
#include "dead_letters/kinesis/config.h"
#include "dead_letters/s3/config.h"
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
#include "transforms/all_pass/config.h"
#include "transforms/json/config.h"
#include "transforms/json_field/config.h"
#include "transforms/string/config.h"

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

std::span<const component::TransformerKind> BuiltinTransformers() {
  // clang-format off: one line per transformer
  static constexpr component::TransformerKind kTransformers[] = {
      {"string", &transform::ReadStringTransformer},
      {"json", &transform::ReadJsonTransformer},
  };
  // clang-format on
  return kTransformers;
}

std::span<const component::FilterKind> BuiltinFilters() {
  // clang-format off: one line per filter
  static constexpr component::FilterKind kFilters[] = {
      {"all_pass", &transform::ReadAllPassFilter},
      {"json_field", &transform::ReadJsonFieldFilter, "field and equals or not_equals"},
  };
  // clang-format on
  return kFilters;
}

std::span<const component::DeadLetterKind> BuiltinDeadLetters() {
  // clang-format off: one line per destination
  static constexpr component::DeadLetterKind kDeadLetters[] = {
      {"file", &dead_letter::ReadFileDeadLetters},
      {"s3", &dead_letter::ReadS3DeadLetters},
      {"kinesis", &dead_letter::ReadKinesisDeadLetters},
  };
  // clang-format on
  return kDeadLetters;
}

}  // namespace kc::daemon
