#include "core/components.h"

#include <map>
#include <string>

#include "aws/aws_context.h"
#include "aws/s3_client.h"
#include "emitter/s3/s3_emitter.h"
#include "kc/builtins.h"

namespace kc::core {

Result<std::shared_ptr<CheckpointStore>> MakeCheckpointStore(const Config& full) {
  const CheckpointConfig& config = full.checkpoint;
  if (config.store == "file") {
    return MakeFileCheckpointStore(config.path, config.app);
  }
  if (config.store == "redis") {
    std::map<std::string, std::string> apps;
    for (const PipelineConfig& p : full.pipelines) {
      if (!p.checkpoint_app.empty()) apps[p.name] = p.checkpoint_app;
    }
    return MakeRedisCheckpointStore(config.url, config.app, apps);
  }
  return Fail(ErrorCode::kConfig, "checkpoint.store: unknown store '" + config.store +
                                      "'; this build knows: file, redis");
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
  } else {
    return Fail(ErrorCode::kConfig, "pipeline '" + pipeline.name + "': unknown emitter '" + e.type +
                                        "'; known: file, stdout, s3");
  }
  return parts;
}

}  // namespace kc::core
