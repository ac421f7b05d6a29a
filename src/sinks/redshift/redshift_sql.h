// The text the redshift emitter sends: COPY statements for Redshift and for
// PostgreSQL, Redshift manifests, and the names of objects and manifests.
// Pure functions, so that the exact SQL can be checked without a cluster.
//
// Identifiers come from a validated config (letters, digits and '_') and are
// double-quoted; every value is a single-quoted literal. Redshift reads
// backslash escapes in literals (its QUOTE_LITERAL doubles backslashes as
// well as quotes), so RedshiftLiteral doubles both; PostgreSQL literals
// (standard_conforming_strings) double quotes only.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clients/aws/credentials.h"
#include "kc/record.h"
#include "kc/status.h"
#include "sinks/redshift/config.h"

namespace kc::emitter {

std::string RedshiftLiteral(std::string_view text);
std::string PostgresLiteral(std::string_view text);

// A statement and the same statement fit for logs and errors: key id,
// secret and session token replaced by '***'.
struct SqlText {
  std::string text;
  std::string redacted;
};

// The URL of the object a manifest record names: the record itself when it
// starts with "s3://", else "s3://<bucket>/<record>".
std::string ObjectUrl(std::string_view bucket, std::string_view record);

struct S3Location {
  std::string bucket;
  std::string key;
};
// "s3://bucket/key" → {bucket, key}; kParse when it is not such a URL.
Result<S3Location> ParseS3Url(std::string_view url);

// Where the manifest of `batch` goes: "<prefix><stream>/<shard>/<first>-<last>.manifest",
// the same key for a replay of the same batch.
std::string ManifestKey(std::string_view prefix, const Batch& batch);

// {"entries":[{"url":"s3://...","mandatory":true},...]}
std::string ManifestJson(std::span<const std::string> urls);
// The entries' URLs of a manifest; kParse naming what is wrong.
Result<std::vector<std::string>> ManifestUrls(std::string_view json);

// COPY <table> [(<columns>)] FROM '<source>' <authorization> <format>
// [GZIP|ZSTD] [REGION '<r>'] [MANIFEST]. Authorization is IAM_ROLE when the
// config names one, else ACCESS_KEY_ID/SECRET_ACCESS_KEY[/SESSION_TOKEN]
// from `credentials` (REQUIRES: non-null then).
SqlText RedshiftCopySql(const RedshiftSettings& config, std::string_view source_url, bool manifest,
                        const aws::Credentials* credentials);

// COPY <table> [(<columns>)] FROM STDIN with (FORMAT csv) or
// (FORMAT text, DELIMITER '<d>'), for load_target = "postgres".
std::string PostgresCopySql(const RedshiftSettings& config);

}  // namespace kc::emitter
