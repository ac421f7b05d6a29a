#include "daemon/components.h"

#include <map>
#include <string>

#include "clients/aws/aws_context.h"
#include "clients/kinesis/kinesis_factory.h"
#include "clients/s3/s3_client.h"
#include "dead_letters/dead_letter.h"
#include "kc/builtins.h"
#include "stores/postgres/postgres_checkpoint_store.h"

namespace kc::core {

Result<std::shared_ptr<CheckpointStore>> MakeCheckpointStore(const Config& full) {
  component::StoreContext context{.aws = full.aws, .app = full.checkpoint.app, .pipeline_apps = {}};
  for (const PipelineConfig& p : full.pipelines) {
    if (!p.checkpoint_app.empty()) context.pipeline_apps[p.name] = p.checkpoint_app;
  }
  return full.checkpoint.settings->Build(context);
}

Result<PipelineParts> MakePipelineParts(const AwsConfig& aws, const PipelineConfig& pipeline,
                                        std::shared_ptr<CheckpointStore> checkpoints) {
  PipelineParts parts;
  parts.checkpoints = std::move(checkpoints);
  auto transformer = pipeline.transformer.settings->Build();
  if (!transformer) return Fail(transformer.error().With("pipeline '" + pipeline.name + "'"));
  parts.transformer = std::move(*transformer);
  auto filter = pipeline.filter.settings->Build();
  if (!filter) return Fail(filter.error().With("pipeline '" + pipeline.name + "'"));
  parts.filter = std::move(*filter);
  if (const DeadLetterConfig& dl = pipeline.dead_letter; !dl.type.empty()) {
    if (dl.type == "file") {
      parts.dead_letter = std::make_shared<dead_letter::FileDeadLetters>(dl.directory);
    } else {
      auto context = aws::MakeAwsContext(aws);
      if (!context) return Fail(context.error());
      if (dl.type == "s3") {
        parts.dead_letter = std::make_shared<dead_letter::S3DeadLetters>(
            std::make_shared<aws::S3Client>(aws::MakeS3Client(*context)), dl.bucket, dl.prefix);
      } else if (dl.type == "kinesis") {
        // One attempt per call: the dead-letter writer retries what was refused.
        parts.dead_letter = std::make_shared<dead_letter::KinesisDeadLetters>(
            std::make_shared<kinesis::KinesisClient>(
                kinesis::MakeKinesisClient(*context, RetryPolicy(RetryOptions{.max_attempts = 1}))),
            dl.stream);
      } else {
        return Fail(ErrorCode::kConfig, "pipeline '" + pipeline.name +
                                            "': unknown dead-letter type '" + dl.type +
                                            "'; known: file, s3, kinesis");
      }
    }
  }
  auto emitter = pipeline.emitter.settings->Build(
      component::SinkContext{.aws = aws, .pipeline = pipeline, .checkpoints = parts.checkpoints});
  if (!emitter) return Fail(emitter.error().With("pipeline '" + pipeline.name + "'"));
  parts.emitter = std::move(*emitter);
  return parts;
}

}  // namespace kc::core
