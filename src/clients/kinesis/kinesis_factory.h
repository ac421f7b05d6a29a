#pragma once

#include "base/retry.h"
#include "clients/aws/aws_context.h"
#include "clients/kinesis/client.h"

namespace kc::kinesis {

// A client for the context's Kinesis endpoint.
KinesisClient MakeKinesisClient(const aws::AwsContext& context, RetryPolicy retry = RetryPolicy());
// A client for the Kinesis endpoint of `aws`, with credentials from its chain;
// fails as MakeAwsContext does (no region, a bad profile).
Result<KinesisClient> MakeKinesisClient(const AwsConfig& aws, RetryPolicy retry = RetryPolicy());

}  // namespace kc::kinesis
