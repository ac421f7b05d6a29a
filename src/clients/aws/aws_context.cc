#include "clients/aws/aws_context.h"

namespace kc::aws {

Result<AwsContext> MakeAwsContext(const AwsConfig& config) {
  AwsContext context;
  context.config = config;
  auto region = ResolveRegion(config.region, config.profile);
  if (!region) return Fail(region.error());
  context.region = std::move(*region);
  HttpOptions http;
  http.verify_tls = config.verify_tls;
  context.transport = MakeCurlTransport(http);
  context.credentials = std::make_shared<DefaultCredentialsChain>(config.profile);
  return context;
}

}  // namespace kc::aws
