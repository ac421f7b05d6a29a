#include "daemon/components.h"

#include <chrono>
#include <map>
#include <string>

#include "clients/aws/aws_context.h"
#include "clients/kinesis/kinesis_factory.h"
#include "clients/s3/s3_client.h"
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

Result<std::shared_ptr<LeaseTable>> MakeLeaseTable(const Config& full,
                                                   const PipelineConfig& pipeline) {
  const std::string table = LeaseTableOf(full, pipeline);
  component::StoreContext context{.aws = full.aws, .app = full.checkpoint.app, .pipeline_apps = {}};
  // A call that hangs must not outlast the lease it renews: a third of the
  // failover time.
  const auto call_timeout = full.leases->options.failover_time / 3;
  auto leases = full.checkpoint.settings->BuildLeases(context, table, call_timeout);
  if (!leases) return Fail(leases.error().With("pipeline '" + pipeline.name + "': leases"));
  return leases;
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
  if (pipeline.dead_letter.settings) {
    auto letters = pipeline.dead_letter.settings->Build(aws);
    if (!letters) return Fail(letters.error().With("pipeline '" + pipeline.name + "'"));
    parts.dead_letter = std::move(*letters);
  }

  auto emitter = pipeline.emitter.settings->Build(
      component::SinkContext{.aws = aws, .pipeline = pipeline, .checkpoints = parts.checkpoints});
  if (!emitter) return Fail(emitter.error().With("pipeline '" + pipeline.name + "'"));
  parts.emitter = std::move(*emitter);
  return parts;
}

}  // namespace kc::core
