#include "clients/kinesis/kinesis_factory.h"

#include "clients/aws/endpoint.h"

namespace kc::kinesis {

KinesisClient MakeKinesisClient(const aws::AwsContext& context, RetryPolicy retry) {
  aws::AwsJsonClientOptions options;
  options.endpoint = aws::ServiceEndpoint(context.config, "kinesis", context.region);
  options.region = context.region;
  options.service = "kinesis";
  options.target_prefix = "Kinesis_20131202";
  return KinesisClient(aws::AwsJsonClient(std::move(options), context.TransportFor("kinesis"),
                                          context.credentials, retry));
}

Result<KinesisClient> MakeKinesisClient(const AwsConfig& aws, RetryPolicy retry) {
  auto context = aws::MakeAwsContext(aws);
  if (!context) return Fail(context.error());
  return MakeKinesisClient(*context, std::move(retry));
}

}  // namespace kc::kinesis
