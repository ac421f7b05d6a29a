// What every AWS client of a process shares: the resolved region, the
// credentials chain and one HTTP transport (so connections are pooled).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
  // Services whose TLS settings differ from the rest ([aws.tls.<service>]).
  std::map<std::string, std::shared_ptr<HttpTransport>> service_transports;

  // The transport for calls to `service` ("kinesis", "s3", ...).
  const std::shared_ptr<HttpTransport>& TransportFor(const std::string& service) const;
};

// `config` with what the SDKs read from the environment where the
// configuration is silent: AWS_ENDPOINT_URL_<SERVICE> (then
// AWS_ENDPOINT_URL) for each service whose endpoint it does not set (a
// configured `endpoint` for all services wins over both), and
// AWS_CA_BUNDLE as the authorities to trust when no ca_file is set. kConfig
// when a variable is not an http(s) URL or the bundle cannot be read.
Result<AwsConfig> WithEnvironment(const AwsConfig& config, const GetEnvFn& getenv);

// Resolves the region and the credentials chain from the configuration and
// the environment. Fails with a message naming what to set when the region
// cannot be found; credentials are looked up lazily, on first use.
Result<AwsContext> MakeAwsContext(const AwsConfig& config);

// A credentials chain the process uses now: how it was configured and when
// what it holds expires (Unix ms; nullopt for keys that do not expire, or
// before its first lookup). Never a key.
struct CredentialsInUse {
  std::string profile;   // as configured; empty: AWS_PROFILE or "default"
  std::string role_arn;  // the role on top; empty: none
  std::optional<int64_t> expiration_ms;
};
std::vector<CredentialsInUse> CredentialsInUseNow();

// One line for each way `config` lets an AWS call go unverified: TLS
// verification off (for every service, or for one), or a plain-HTTP
// endpoint on another machine. The daemon logs them as warnings at start.
std::vector<std::string> TlsWarnings(const AwsConfig& config);

}  // namespace kc::aws
