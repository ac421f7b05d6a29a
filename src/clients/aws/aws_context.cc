#include "clients/aws/aws_context.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/hosts.h"
#include "clients/aws/endpoint.h"
#include "clients/aws/metadata_credentials.h"
#include "clients/aws/sts.h"

namespace kc::aws {
namespace {

constexpr std::array<std::string_view, 5> kServices = {"kinesis", "s3", "dynamodb", "sts", "sso"};

// The SDKs' names for the services, in AWS_ENDPOINT_URL_<NAME>.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kEnvironmentNames = {
    {{"kinesis", "KINESIS"},
     {"s3", "S3"},
     {"dynamodb", "DYNAMODB"},
     {"sts", "STS"},
     {"sso", "SSO"}}};

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

// STS calls are small: a minute is ample, and a renewal that hangs must not
// hold back the callers waiting for it much longer.
constexpr std::chrono::milliseconds kStsRequestTimeout{60'000};

// The TLS settings of `service`: its own section, else the global ones.
TlsSettings TlsFor(const AwsConfig& config, const std::string& service) {
  const auto it = config.service_tls.find(service);
  return it != config.service_tls.end()
             ? it->second
             : TlsSettings{.verify = config.verify_tls, .ca_file = config.ca_file};
}

// A transport for the small calls of credential services.
std::shared_ptr<HttpTransport> CredentialsTransport(const AwsConfig& config,
                                                    const TlsSettings& tls) {
  HttpOptions http = OptionsFor(config, tls);
  http.request_timeout = std::min(http.request_timeout, kStsRequestTimeout);
  return MakeCurlTransport(http);
}

// One credentials chain per way of finding credentials, for the whole
// process: every pipeline, sink and thread shares its cache, so a rollover
// of temporary credentials costs one lookup. Held weakly: once no context
// uses a chain it goes, and the next one starts afresh.
struct SharedChain {
  std::weak_ptr<DefaultCredentialsChain> chain;
  std::string profile;
  std::string role_arn;
};
struct SharedChains {
  std::mutex mu;
  std::map<std::string, SharedChain> by_key;  // guarded by mu
};
SharedChains& Chains() {
  static auto* chains = new SharedChains();
  return *chains;
}

std::shared_ptr<CredentialsProvider> SharedCredentials(const AwsConfig& config,
                                                       const std::string& region) {
  const std::string sts_endpoint = ServiceEndpoint(config, "sts", region);
  const auto sso_it = config.endpoints.find("sso");
  const std::string sso_endpoint = sso_it != config.endpoints.end() ? sso_it->second
                                   : !config.endpoint.empty()       ? config.endpoint
                                                                    : std::string();
  const TlsSettings sts_tls = TlsFor(config, "sts");
  const TlsSettings sso_tls = TlsFor(config, "sso");
  const TlsSettings all_tls{.verify = config.verify_tls, .ca_file = config.ca_file};
  std::string key;
  for (const std::string* part : {&config.profile, &config.role.arn, &config.role.external_id,
                                  &config.role.session_name, &sts_endpoint, &sso_endpoint, &region,
                                  &sts_tls.ca_file, &sso_tls.ca_file, &all_tls.ca_file}) {
    key += *part;
    key += '\n';
  }
  for (const TlsSettings* tls : {&sts_tls, &sso_tls, &all_tls}) key += tls->verify ? 'v' : '-';

  SharedChains& chains = Chains();
  std::lock_guard lock(chains.mu);
  SharedChain& slot = chains.by_key[key];
  if (auto shared = slot.chain.lock()) return shared;

  CredentialsChainOptions options;
  options.profile = config.profile;
  options.role_arn = config.role.arn;
  options.external_id = config.role.external_id;
  options.role_session_name = config.role.session_name;
  options.services.sts =
      std::make_shared<StsClient>(sts_endpoint, region, CredentialsTransport(config, sts_tls));
  options.services.sso_transport = CredentialsTransport(config, sso_tls);
  options.services.sso_endpoint = sso_endpoint;
  std::shared_ptr<HttpTransport> local =
      MakeCurlTransport(MetadataHttpOptions(OptionsFor(config, all_tls)));
  options.services.container = std::make_shared<ContainerCredentialsProvider>(RealGetEnv, local);
  options.services.instance_metadata =
      std::make_shared<InstanceMetadataProvider>(RealGetEnv, local);
  auto made = std::make_shared<DefaultCredentialsChain>(std::move(options));
  slot = SharedChain{made, config.profile, config.role.arn};
  return made;
}

}  // namespace

std::vector<CredentialsInUse> CredentialsInUseNow() {
  std::vector<CredentialsInUse> out;
  SharedChains& chains = Chains();
  std::lock_guard lock(chains.mu);
  for (const auto& [key, slot] : chains.by_key) {
    auto chain = slot.chain.lock();
    if (!chain) continue;
    out.push_back(CredentialsInUse{slot.profile, slot.role_arn, chain->Expiration()});
  }
  return out;
}

const std::shared_ptr<HttpTransport>& AwsContext::TransportFor(const std::string& service) const {
  if (auto it = service_transports.find(service); it != service_transports.end()) {
    return it->second;
  }
  return transport;
}

Result<AwsConfig> WithEnvironment(const AwsConfig& config, const GetEnvFn& getenv) {
  AwsConfig out = config;
  if (auto bundle = NonEmptyEnv(getenv, "AWS_CA_BUNDLE"); bundle && config.ca_file.empty()) {
    if (::access(bundle->c_str(), R_OK) != 0) {
      return Fail(ErrorCode::kConfig, "the environment variable AWS_CA_BUNDLE names " + *bundle +
                                          ", which cannot be read; name a PEM file of the "
                                          "authorities to trust, or unset it");
    }
    out.ca_file = *bundle;
    for (auto& [service, tls] : out.service_tls) {
      if (tls.ca_file.empty()) tls.ca_file = *bundle;
    }
  }
  if (!config.endpoint.empty()) return out;  // one endpoint for every service
  const auto global = NonEmptyEnv(getenv, "AWS_ENDPOINT_URL");
  for (const auto& [service, env_name] : kEnvironmentNames) {
    const std::string name(service);
    if (out.endpoints.contains(name)) continue;
    const std::string var = "AWS_ENDPOINT_URL_" + std::string(env_name);
    std::optional<std::string> url = NonEmptyEnv(getenv, var);
    std::string from = var;
    if (!url && global) {
      url = global;
      from = "AWS_ENDPOINT_URL";
    }
    if (!url) continue;
    if (!url->starts_with("http://") && !url->starts_with("https://")) {
      return Fail(ErrorCode::kConfig, "the environment variable " + from +
                                          " must be an http:// or https:// URL, such as "
                                          "https://" +
                                          name + ".example.internal");
    }
    out.endpoints[name] = *url;
  }
  return out;
}

Result<AwsContext> MakeAwsContext(const AwsConfig& given) {
  auto with_env = WithEnvironment(given, RealGetEnv);
  if (!with_env) return Fail(with_env.error());
  const AwsConfig& config = *with_env;
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
  context.credentials = SharedCredentials(config, context.region);
  return context;
}

std::vector<std::string> TlsWarnings(const AwsConfig& given) {
  std::vector<std::string> out;
  auto with_env = WithEnvironment(given, RealGetEnv);
  const AwsConfig& config = with_env ? *with_env : given;
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
