#include "kc/builtins.h"

#include <cstdlib>

#include "clients/aws/aws_context.h"
#include "sinks/file/file_emitter.h"
#include "sinks/stdout/stdout_emitter.h"
#include "stores/dynamodb/dynamodb_checkpoint_store.h"
#include "stores/file/file_checkpoint_store.h"
#include "stores/redis/redis_checkpoint_store.h"

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
  auto parsed = checkpoint::ParseRedisUrl(url);
  if (!parsed) return Fail(ErrorCode::kConfig, "checkpoint.url: " + parsed.error().message());
  if (parsed->password.empty()) {
    const char* password = std::getenv("REDIS_PASSWORD");
    if (password != nullptr) parsed->password = password;
  }
  checkpoint::RedisStoreOptions options;
  options.url = std::move(*parsed);
  options.default_app = app;
  options.apps = pipeline_apps;
  return std::make_shared<checkpoint::RedisCheckpointStore>(std::move(options));
}

Result<std::shared_ptr<CheckpointStore>> MakeDynamoDbCheckpointStore(const AwsConfig& aws,
                                                                     const std::string& table) {
  auto context = aws::MakeAwsContext(aws);
  if (!context) return Fail(context.error().With("checkpoint store dynamodb"));
  // One attempt per call: the pipeline retries checkpoint loads and saves.
  return std::make_shared<checkpoint::DynamoDbCheckpointStore>(
      dynamodb::MakeDynamoClient(*context, RetryPolicy(RetryOptions{.max_attempts = 1})), table);
}

}  // namespace kc
