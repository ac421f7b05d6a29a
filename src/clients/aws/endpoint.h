// Where each AWS service is reached: a per-service override, else the one
// endpoint for all services (local stand-ins), else the public regional one.
#pragma once

#include <string>

#include "kc/aws.h"
#include "kc/status.h"

namespace kc::aws {

// `url` without the slashes it ends with: "https://host/" -> "https://host",
// so that paths can be appended.
std::string WithoutTrailingSlash(std::string url);

// `service` is the config name: "kinesis", "s3", "dynamodb", "sts".
std::string ServiceEndpoint(const AwsConfig& config, const std::string& service,
                            const std::string& region);

// `aws`, moved to `region` and `endpoint` for `service` (either may be
// empty: unchanged). A region without an endpoint means the service's public
// endpoint there: an endpoint of `aws` belongs to `aws`'s region.
AwsConfig MovedTo(const AwsConfig& aws, const std::string& service, const std::string& region,
                  const std::string& endpoint);

// `aws` with `role` assumed instead of [aws]'s, when it names one: a sink
// writing into another account. The role is assumed with the credentials
// the chain finds.
AwsConfig WithRole(const AwsConfig& aws, const AwsRole& role);

}  // namespace kc::aws
