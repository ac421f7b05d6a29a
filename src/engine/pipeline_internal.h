// Builds a pipeline around a given Kinesis client: Pipeline::Create uses it
// with the client of the configured endpoint, unit tests with a client whose
// HTTP transport is a fake.
#pragma once

#include <memory>

#include "clients/kinesis/client.h"
#include "kc/pipeline.h"

namespace kc::core {

std::unique_ptr<Pipeline> MakePipeline(PipelineOptions config, PipelineParts parts,
                                       kinesis::KinesisClient client, bool once, Clock* clock);

}  // namespace kc::core
