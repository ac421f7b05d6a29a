#include "core/components.h"

#include "aws/aws_context.h"
#include "aws/s3_client.h"
#include "checkpoint/postgres/postgres_checkpoint_store.h"
#include "emitter/postgres/postgres_emitter.h"
#include "emitter/s3/s3_emitter.h"
#include "kc/builtins.h"

namespace kc::core {

Result<std::shared_ptr<CheckpointStore>> MakeCheckpointStore(const CheckpointConfig& config) {
  if (config.store == "file") {
    return MakeFileCheckpointStore(config.path, config.app);
  }
  if (config.store == "postgres") {
    return std::make_shared<checkpoint::PostgresCheckpointStore>(config.postgres_url,
                                                                 config.postgres_table, config.app);
  }
  return Fail(ErrorCode::kConfig, "checkpoint.store: unknown store '" + config.store +
                                      "'; this build knows: file, postgres");
}

Result<PipelineParts> MakePipelineParts(const AwsConfig& aws, const PipelineConfig& pipeline,
                                        std::shared_ptr<CheckpointStore> checkpoints) {
  PipelineParts parts;
  parts.checkpoints = std::move(checkpoints);
  if (pipeline.transformer == "string") {
    parts.transformer = std::make_shared<StringTransformer>();
  } else {
    return Fail(ErrorCode::kConfig, "pipeline '" + pipeline.name + "': unknown transformer '" +
                                        pipeline.transformer + "'; known: string");
  }
  if (pipeline.filter == "all_pass") {
    parts.filter = std::make_shared<AllPassFilter>();
  } else {
    return Fail(ErrorCode::kConfig, "pipeline '" + pipeline.name + "': unknown filter '" +
                                        pipeline.filter + "'; known: all_pass");
  }
  const EmitterConfig& e = pipeline.emitter;
  if (e.type == "file") {
    parts.emitter = MakeFileEmitter(e.directory, e.format, e.compression);
  } else if (e.type == "stdout") {
    parts.emitter = MakeStdoutEmitter(e.format);
  } else if (e.type == "s3") {
    auto context = aws::MakeAwsContext(aws);
    if (!context) return Fail(context.error());
    auto client = std::make_shared<aws::S3Client>(aws::MakeS3Client(*context));
    auto s3 = emitter::S3Emitter::Create(std::move(client), e);
    if (!s3) return Fail(s3.error().With("pipeline '" + pipeline.name + "'"));
    parts.emitter = std::move(*s3);
  } else if (e.type == "postgres") {
    // Rows and checkpoints commit together when the store is this database.
    auto store = std::dynamic_pointer_cast<checkpoint::PostgresCheckpointStore>(parts.checkpoints);
    if (store && store->url() != e.url) store = nullptr;
    parts.emitter = std::make_shared<emitter::PostgresEmitter>(e, std::move(store));
  } else {
    return Fail(ErrorCode::kConfig, "pipeline '" + pipeline.name + "': unknown emitter '" + e.type +
                                        "'; known: file, stdout, s3, postgres");
  }
  return parts;
}

}  // namespace kc::core
