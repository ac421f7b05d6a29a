#pragma once

#include "aws/aws_context.h"
#include "core/retry.h"
#include "kinesis/client.h"

namespace kc::kinesis {

// A client for the context's Kinesis endpoint.
KinesisClient MakeKinesisClient(const aws::AwsContext& context, RetryPolicy retry = RetryPolicy());

}  // namespace kc::kinesis
