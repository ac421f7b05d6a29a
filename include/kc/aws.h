// Where the AWS services are and how to reach them: the [aws] section of the
// daemon's config, and what a program gives Pipeline::Create.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace kc {

// How the certificate of an HTTPS endpoint is checked.
struct TlsSettings {
  bool verify = true;
  std::string ca_file;  // a PEM file of the authorities to trust; empty: the system's

  friend bool operator==(const TlsSettings&, const TlsSettings&) = default;
};

// An IAM role to assume; `arn` empty: none. The rest only apply with it.
struct AwsRole {
  std::string arn;
  std::string external_id;
  std::string session_name;  // empty: "kinesis-connect-<unix seconds>"

  friend bool operator==(const AwsRole&, const AwsRole&) = default;
};

struct AwsConfig {
  std::string region;                            // empty: AWS_REGION / AWS_DEFAULT_REGION / profile
  std::string endpoint;                          // empty: the service's public endpoint in `region`
  std::map<std::string, std::string> endpoints;  // per-service override: "kinesis" → URL
  std::string profile;                           // empty: AWS_PROFILE or "default"
  // A role assumed, through STS, with the credentials the chain finds.
  AwsRole role;
  bool verify_tls = true;
  std::string ca_file;  // every service; empty: the system's authorities
  // Per-service TLS ([aws.tls.<service>]), starting from the two above.
  std::map<std::string, TlsSettings> service_tls;
  // Every call: the longest it may take, and the slowest it may move (over
  // 30 s) before it is abandoned and retried.
  std::chrono::milliseconds request_timeout{600'000};
  uint64_t min_bytes_per_second = 1024;
};

}  // namespace kc
