// What every AWS client of a process shares: the resolved region, the
// credentials chain and one HTTP transport (so connections are pooled).
#pragma once

#include <memory>
#include <string>

#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "kc/aws.h"
#include "kc/status.h"

namespace kc::aws {

struct AwsContext {
  AwsConfig config;
  std::string region;
  std::shared_ptr<HttpTransport> transport;
  std::shared_ptr<CredentialsProvider> credentials;
};

// Resolves the region and the credentials chain from the configuration and
// the environment. Fails with a message naming what to set when the region
// cannot be found; credentials are looked up lazily, on first use.
Result<AwsContext> MakeAwsContext(const AwsConfig& config);

}  // namespace kc::aws
