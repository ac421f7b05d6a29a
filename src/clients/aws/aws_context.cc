#include "clients/aws/aws_context.h"

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/hosts.h"

namespace kc::aws {
namespace {

constexpr std::array<std::string_view, 4> kServices = {"kinesis", "s3", "dynamodb", "sts"};

HttpOptions OptionsFor(const AwsConfig& config, const TlsSettings& tls) {
  HttpOptions http;
  http.verify_tls = tls.verify;
  http.ca_file = tls.ca_file;
  http.request_timeout = config.request_timeout;
  http.min_bytes_per_second = config.min_bytes_per_second;
  return http;
}

// The host of an http:// or https:// URL, without port or brackets.
std::string_view HostOf(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with('[')) return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.find(':'));
}

// One credentials chain per profile for the whole process: every pipeline,
// sink and thread shares its cache, so a rollover of temporary credentials
// costs one lookup. Held weakly: once no context uses a chain it goes, and
// the next one starts afresh.
std::shared_ptr<CredentialsProvider> SharedCredentials(const std::string& profile) {
  static std::mutex mu;
  static auto* chains = new std::map<std::string, std::weak_ptr<CredentialsProvider>>();
  std::lock_guard lock(mu);
  std::weak_ptr<CredentialsProvider>& slot = (*chains)[profile];
  if (auto shared = slot.lock()) return shared;
  auto made = std::make_shared<DefaultCredentialsChain>(profile);
  slot = made;
  return made;
}

}  // namespace

const std::shared_ptr<HttpTransport>& AwsContext::TransportFor(const std::string& service) const {
  if (auto it = service_transports.find(service); it != service_transports.end()) {
    return it->second;
  }
  return transport;
}

Result<AwsContext> MakeAwsContext(const AwsConfig& config) {
  AwsContext context;
  context.config = config;
  auto region = ResolveRegion(config.region, config.profile);
  if (!region) return Fail(region.error());
  context.region = std::move(*region);
  const TlsSettings all{.verify = config.verify_tls, .ca_file = config.ca_file};
  context.transport = MakeCurlTransport(OptionsFor(config, all));
  for (const auto& [service, tls] : config.service_tls) {
    if (tls != all)
      context.service_transports[service] = MakeCurlTransport(OptionsFor(config, tls));
  }
  context.credentials = SharedCredentials(config.profile);
  return context;
}

std::vector<std::string> TlsWarnings(const AwsConfig& config) {
  std::vector<std::string> out;
  constexpr std::string_view kRisk =
      ": anyone on the network path can read and change those calls, credentials included";
  if (!config.verify_tls) {
    out.push_back("TLS certificates of AWS endpoints are not verified ([aws] verify_tls = false)" +
                  std::string(kRisk));
  }
  for (const auto& [service, tls] : config.service_tls) {
    if (!tls.verify && config.verify_tls) {
      out.push_back("TLS certificates of the " + service + " endpoint are not verified ([aws.tls." +
                    service + "] verify_tls = false)" + std::string(kRisk));
    }
  }
  for (std::string_view service : kServices) {
    // The configured endpoint only: a public one is always https.
    const std::string name(service);
    const auto it = config.endpoints.find(name);
    const std::string url = it != config.endpoints.end() ? it->second : config.endpoint;
    if (url.starts_with("http://") && !util::IsLoopbackHost(HostOf(url))) {
      out.push_back("the " + name + " endpoint " + url + " is plain HTTP" + std::string(kRisk));
    }
  }
  return out;
}

}  // namespace kc::aws
