#include "core/components.h"

#include "aws/aws_context.h"
#include "aws/s3_client.h"
#include "emitter/s3/s3_emitter.h"
#include "emitter/s3_manifest/s3_manifest_emitter.h"
#include "kc/builtins.h"
#include "kinesis/kinesis_factory.h"

namespace kc::core {

Result<std::shared_ptr<CheckpointStore>> MakeCheckpointStore(const CheckpointConfig& config) {
  if (config.store == "file") {
    return MakeFileCheckpointStore(config.path, config.app);
  }
  return Fail(ErrorCode::kConfig,
              "checkpoint.store: unknown store '" + config.store + "'; this build knows: file");
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
  } else if (e.type == "s3" || e.type == "s3_manifest") {
    auto context = aws::MakeAwsContext(aws);
    if (!context) return Fail(context.error());
    auto client = std::make_shared<aws::S3Client>(aws::MakeS3Client(*context));
    auto s3 = emitter::S3Emitter::Create(std::move(client), e);
    if (!s3) return Fail(s3.error().With("pipeline '" + pipeline.name + "'"));
    if (e.type == "s3") {
      parts.emitter = std::move(*s3);
    } else {
      parts.emitter = std::make_shared<emitter::S3ManifestEmitter>(
          std::move(*s3),
          std::make_shared<kinesis::KinesisClient>(kinesis::MakeKinesisClient(*context)),
          e.manifest_stream, e.manifest_partition_key);
    }
  } else {
    return Fail(ErrorCode::kConfig, "pipeline '" + pipeline.name + "': unknown emitter '" + e.type +
                                        "'; known: file, stdout, s3, s3_manifest");
  }
  return parts;
}

}  // namespace kc::core
