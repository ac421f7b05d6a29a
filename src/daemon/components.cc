#include "daemon/components.h"

#include <map>
#include <string>

#include "clients/aws/aws_context.h"
#include "clients/kinesis/kinesis_factory.h"
#include "clients/s3/s3_client.h"
#include "dead_letters/dead_letter.h"
#include "kc/builtins.h"
#include "stores/postgres/postgres_checkpoint_store.h"
#include "transforms/json/json_transformer.h"
#include "transforms/json_field/json_field_filter.h"

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
  if (pipeline.transformer == "string") {
    parts.transformer = std::make_shared<StringTransformer>();
  } else if (pipeline.transformer == "json") {
    parts.transformer = std::make_shared<transform::JsonTransformer>();
  } else {
    return Fail(ErrorCode::kConfig, "pipeline '" + pipeline.name + "': unknown transformer '" +
                                        pipeline.transformer + "'; known: string, json");
  }
  if (pipeline.filter == "all_pass") {
    parts.filter = std::make_shared<AllPassFilter>();
  } else if (pipeline.filter == "json_field") {
    auto filter = transform::JsonFieldFilter::Create(
        pipeline.filter_field, pipeline.filter_values,
        pipeline.filter_keeps_matches ? transform::JsonFieldFilter::Mode::kKeepMatches
                                      : transform::JsonFieldFilter::Mode::kDropMatches);
    if (!filter) return Fail(filter.error().With("pipeline '" + pipeline.name + "'"));
    parts.filter = std::move(*filter);
  } else {
    return Fail(ErrorCode::kConfig, "pipeline '" + pipeline.name + "': unknown filter '" +
                                        pipeline.filter + "'; known: all_pass, json_field");
  }
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
