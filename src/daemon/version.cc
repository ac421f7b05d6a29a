#include "daemon/version.h"

#include <civetweb.h>
#include <curl/curl.h>
#include <fmt/core.h>
#include <google/protobuf/stubs/common.h>
#include <hiredis/hiredis.h>
#include <libdeflate.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <simdjson.h>
#include <spdlog/version.h>
#include <toml++/toml.h>
#include <zlib.h>
#include <zstd.h>
#include <CLI/Version.hpp>
#include <pugixml.hpp>

#include "kc_commit.h"

#define KC_STRING(x) KC_STRING_(x)
#define KC_STRING_(x) #x

namespace kc::daemon {
namespace {

// 150018 → "15.18", the form PQlibVersion gives from PostgreSQL 10 on.
std::string PostgresVersion(int v) { return fmt::format("{}.{}", v / 10000, v % 10000); }

}  // namespace

std::string VersionText() {
  std::string out = fmt::format("kinesis-connect {}\ncommit {}, build type {}", KC_VERSION,
                                KC_GIT_COMMIT, KC_BUILD_TYPE);
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  const std::pair<const char*, std::string> libraries[] = {
      {"libcurl", curl->version},
      {"OpenSSL", OpenSSL_version(OPENSSL_VERSION_STRING)},
      {"simdjson", KC_STRING(SIMDJSON_VERSION)},
      {"toml++", fmt::format("{}.{}.{}", TOML_LIB_MAJOR, TOML_LIB_MINOR, TOML_LIB_PATCH)},
      {"spdlog", fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
      {"fmt",
       fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
      {"CLI11", CLI11_VERSION},
      {"pugixml", fmt::format("{}.{}", PUGIXML_VERSION / 1000, PUGIXML_VERSION % 1000 / 10)},
      {"zlib", zlibVersion()},
      {"zstd", ZSTD_versionString()},
      {"libdeflate", LIBDEFLATE_VERSION_STRING},
      {"libpq", PostgresVersion(PQlibVersion())},
      {"hiredis", fmt::format("{}.{}.{}", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH)},
      {"protobuf-lite",
       fmt::format("{}.{}.{}", GOOGLE_PROTOBUF_VERSION / 1000000,
                   GOOGLE_PROTOBUF_VERSION / 1000 % 1000, GOOGLE_PROTOBUF_VERSION % 1000)},
      {"prometheus-cpp", KC_PROMETHEUS_CPP_VERSION},
      {"civetweb", mg_version()},
  };
  for (const auto& [name, version] : libraries) {
    out += fmt::format("\n  {} {}", name, version.empty() ? "(version unknown)" : version);
  }
  return out;
}

}  // namespace kc::daemon
