// Where the AWS services are and how to reach them: the [aws] section of the
// daemon's config, and what a program gives Pipeline::Create.
#pragma once

#include <map>
#include <string>

namespace kc {

struct AwsConfig {
  std::string region;                            // empty: AWS_REGION / AWS_DEFAULT_REGION / profile
  std::string endpoint;                          // empty: the service's public endpoint in `region`
  std::map<std::string, std::string> endpoints;  // per-service override: "kinesis" → URL
  std::string profile;                           // empty: AWS_PROFILE or "default"
  bool verify_tls = true;
};

}  // namespace kc
