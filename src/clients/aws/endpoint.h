// Where each AWS service is reached: a per-service override, else the one
// endpoint for all services (local stand-ins), else the public regional one.
#pragma once

#include <string>

#include "kc/aws.h"
#include "kc/status.h"

namespace kc::aws {

// `service` is the config name: "kinesis", "s3", "dynamodb", "sts".
std::string ServiceEndpoint(const AwsConfig& config, const std::string& service,
                            const std::string& region);

}  // namespace kc::aws
