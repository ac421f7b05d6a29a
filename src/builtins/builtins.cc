#include "kc/builtins.h"

#include "sinks/file/file_emitter.h"
#include "sinks/stdout/stdout_emitter.h"
#include "stores/dynamodb/config.h"
#include "stores/file/file_checkpoint_store.h"
#include "stores/redis/config.h"

namespace kc {

std::shared_ptr<Emitter> MakeFileEmitter(const std::string& directory, FileFormat format,
                                         Compression compression) {
  return std::make_shared<emitter::FileEmitter>(directory, format, compression);
}

std::shared_ptr<Emitter> MakeStdoutEmitter(FileFormat format) {
  return std::make_shared<emitter::StdoutEmitter>(format);
}

std::shared_ptr<CheckpointStore> MakeFileCheckpointStore(const std::string& directory,
                                                         const std::string& app) {
  return std::make_shared<checkpoint::FileCheckpointStore>(directory, app);
}

Result<std::shared_ptr<CheckpointStore>> MakeRedisCheckpointStore(
    const std::string& url, const std::string& app,
    const std::map<std::string, std::string>& pipeline_apps) {
  checkpoint::RedisStoreConfig store;
  auto parsed = checkpoint::ParseRedisUrl(url);
  if (!parsed) return Fail(ErrorCode::kConfig, "checkpoint.url: " + parsed.error().message());
  store.url = std::move(*parsed);
  return store.Build({.aws = AwsConfig{}, .app = app, .pipeline_apps = pipeline_apps});
}

Result<std::shared_ptr<CheckpointStore>> MakeDynamoDbCheckpointStore(const AwsConfig& aws,
                                                                     const std::string& table) {
  checkpoint::DynamoDbStoreConfig store;
  store.table = table;
  return store.Build({.aws = aws, .app = table, .pipeline_apps = {}});
}

}  // namespace kc
