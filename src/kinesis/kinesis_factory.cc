#include "kinesis/kinesis_factory.h"

#include "aws/endpoint.h"

namespace kc::kinesis {

KinesisClient MakeKinesisClient(const aws::AwsContext& context, RetryPolicy retry) {
  aws::AwsJsonClientOptions options;
  options.endpoint = aws::ServiceEndpoint(context.config, "kinesis", context.region);
  options.region = context.region;
  options.service = "kinesis";
  options.target_prefix = "Kinesis_20131202";
  return KinesisClient(
      aws::AwsJsonClient(std::move(options), context.transport, context.credentials, retry));
}

}  // namespace kc::kinesis
