// The registry of built-in components: turns a validated configuration into
// the parts of a pipeline. One place knows every built-in type name.
#pragma once

#include <memory>

#include "daemon/config.h"
#include "kc/checkpoint.h"
#include "kc/pipeline.h"

namespace kc::core {

// The store of `config.checkpoint`, shared by all of `config.pipelines`.
Result<std::shared_ptr<CheckpointStore>> MakeCheckpointStore(const Config& config);

// Builds the transformer, filter and emitter of `pipeline`; the checkpoint
// store is shared by all pipelines of a process and passed in.
Result<PipelineParts> MakePipelineParts(const AwsConfig& aws, const PipelineConfig& pipeline,
                                        std::shared_ptr<CheckpointStore> checkpoints);

// With [leases]: the lease table of `pipeline` in the checkpoint store.
Result<std::shared_ptr<LeaseTable>> MakeLeaseTable(const Config& config,
                                                   const PipelineConfig& pipeline);

}  // namespace kc::core
