#include "clients/aws/endpoint.h"

namespace kc::aws {

std::string WithoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string ServiceEndpoint(const AwsConfig& config, const std::string& service,
                            const std::string& region) {
  if (auto it = config.endpoints.find(service); it != config.endpoints.end()) return it->second;
  if (!config.endpoint.empty()) return config.endpoint;
  std::string suffix = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return "https://" + service + "." + region + "." + suffix;
}

AwsConfig WithRole(const AwsConfig& aws, const AwsRole& role) {
  AwsConfig out = aws;
  if (!role.arn.empty()) out.role = role;
  return out;
}

AwsConfig MovedTo(const AwsConfig& aws, const std::string& service, const std::string& region,
                  const std::string& endpoint) {
  AwsConfig moved = aws;
  if (!region.empty()) moved.region = region;
  if (!endpoint.empty()) {
    moved.endpoints[service] = endpoint;
  } else if (!region.empty()) {
    moved.endpoints[service] = ServiceEndpoint(AwsConfig{}, service, region);
  }
  return moved;
}

}  // namespace kc::aws
