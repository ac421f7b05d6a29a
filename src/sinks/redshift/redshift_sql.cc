#include "sinks/redshift/redshift_sql.h"

#include <simdjson.h>

#include "base/json_writer.h"
#include "clients/pg/connection.h"
#include "sinks/util/format.h"

namespace kc::emitter {
namespace {

constexpr std::string_view kS3Scheme = "s3://";
constexpr char kHidden[] = "'***'";

std::string TableAndColumns(const RedshiftSettings& config) {
  std::string out = pg::QuoteIdentifier(config.table);
  if (!config.columns.empty()) {
    out += " (";
    for (size_t i = 0; i < config.columns.size(); ++i) {
      if (i > 0) out += ", ";
      out += pg::QuoteIdentifier(config.columns[i]);
    }
    out += ")";
  }
  return out;
}

// Appends the same clause to both renderings, or a hidden value to the
// redacted one.
void Both(SqlText& sql, std::string_view text) {
  sql.text += text;
  sql.redacted += text;
}

void Secret(SqlText& sql, std::string_view keyword, std::string_view value) {
  Both(sql, " ");
  Both(sql, keyword);
  Both(sql, " ");
  sql.text += RedshiftLiteral(value);
  sql.redacted += kHidden;
}

}  // namespace

std::string RedshiftLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

std::string PostgresLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += c;
    out += c;
  }
  return out + "'";
}

std::string ObjectUrl(std::string_view bucket, std::string_view record) {
  if (record.starts_with(kS3Scheme)) return std::string(record);
  return std::string(kS3Scheme) + std::string(bucket) + "/" + std::string(record);
}

Result<S3Location> ParseS3Url(std::string_view url) {
  if (!url.starts_with(kS3Scheme)) {
    return Fail(ErrorCode::kParse, "not an s3:// URL");
  }
  std::string_view rest = url.substr(kS3Scheme.size());
  const size_t slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size()) {
    return Fail(ErrorCode::kParse, "an s3:// URL needs a bucket and a key: s3://bucket/key");
  }
  return S3Location{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

std::string ManifestKey(std::string_view prefix, const Batch& batch) {
  return std::string(prefix) + batch.stream + "/" + batch.shard_id + "/" + BatchRangeName(batch) +
         ".manifest";
}

std::string ManifestJson(std::span<const std::string> urls) {
  util::JsonWriter json;
  json.BeginObject().Key("entries").BeginArray();
  for (const std::string& url : urls) {
    json.BeginObject().Field("url", url).Field("mandatory", true).EndObject();
  }
  json.EndArray().EndObject();
  return json.Take();
}

Result<std::vector<std::string>> ManifestUrls(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(text.data(), text.size()).get(doc); error) {
    return Fail(ErrorCode::kParse,
                std::string("manifest is not valid JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::array entries;
  if (doc["entries"].get(entries) != simdjson::SUCCESS) {
    return Fail(ErrorCode::kParse, "manifest has no \"entries\" array");
  }
  std::vector<std::string> urls;
  for (simdjson::dom::element entry : entries) {
    std::string_view url;
    if (entry["url"].get(url) != simdjson::SUCCESS) {
      return Fail(ErrorCode::kParse,
                  "manifest entry " + std::to_string(urls.size()) + " has no \"url\" string");
    }
    urls.emplace_back(url);
  }
  return urls;
}

SqlText RedshiftCopySql(const RedshiftSettings& config, std::string_view source_url, bool manifest,
                        const aws::Credentials* credentials) {
  SqlText sql;
  Both(sql, "COPY " + TableAndColumns(config) + " FROM " + RedshiftLiteral(source_url));
  if (!config.iam_role.empty()) {
    Both(sql, " IAM_ROLE " + RedshiftLiteral(config.iam_role));
  } else {
    Secret(sql, "ACCESS_KEY_ID", credentials->access_key_id);
    Secret(sql, "SECRET_ACCESS_KEY", credentials->secret_access_key);
    if (!credentials->session_token.empty()) {
      Secret(sql, "SESSION_TOKEN", credentials->session_token);
    }
  }
  switch (config.copy_format) {
    case CopyFormat::kJson:
      Both(sql, " FORMAT AS JSON 'auto'");
      break;
    case CopyFormat::kJsonPaths:
      Both(sql, " FORMAT AS JSON " + RedshiftLiteral(config.jsonpaths));
      break;
    case CopyFormat::kCsv:
      Both(sql, " FORMAT AS CSV");
      break;
    case CopyFormat::kDelimited:
      // Redshift spells a tab '\t'.
      Both(sql, " DELIMITER " + (config.delimiter == '\t'
                                     ? std::string("'\\t'")
                                     : RedshiftLiteral(std::string(1, config.delimiter))));
      break;
  }
  if (config.compression == Compression::kGzip) Both(sql, " GZIP");
  if (config.compression == Compression::kZstd) Both(sql, " ZSTD");
  if (!config.copy_region.empty()) Both(sql, " REGION " + RedshiftLiteral(config.copy_region));
  if (manifest) Both(sql, " MANIFEST");
  return sql;
}

std::string PostgresCopySql(const RedshiftSettings& config) {
  std::string sql = "COPY " + TableAndColumns(config) + " FROM STDIN WITH (FORMAT ";
  if (config.copy_format == CopyFormat::kDelimited) {
    sql += "text, DELIMITER " + PostgresLiteral(std::string(1, config.delimiter)) + ")";
  } else {
    sql += "csv)";
  }
  return sql;
}

}  // namespace kc::emitter
