#include "core/components.h"

#include "kc/builtins.h"

namespace kc::core {

Result<std::shared_ptr<CheckpointStore>> MakeCheckpointStore(const CheckpointConfig& config) {
  if (config.store == "file") {
    return MakeFileCheckpointStore(config.path, config.app);
  }
  return Fail(ErrorCode::kConfig,
              "checkpoint.store: unknown store '" + config.store + "'; this build knows: file");
}

Result<PipelineParts> MakePipelineParts(const PipelineConfig& pipeline,
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
  } else {
    return Fail(ErrorCode::kConfig, "pipeline '" + pipeline.name + "': unknown emitter '" + e.type +
                                        "'; known: file, stdout");
  }
  return parts;
}

}  // namespace kc::core
