#include "sinks/redshift/config.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>

#include "clients/aws/aws_context.h"
#include "clients/aws/endpoint.h"
#include "clients/pg/connection.h"
#include "clients/pg/settings.h"
#include "clients/s3/s3_client.h"
#include "component/probes.h"
#include "config/reader.h"
#include "sinks/redshift/redshift_emitter.h"
#include "sinks/util/settings.h"

namespace kc::emitter {
namespace {

constexpr uint64_t kMaxObjectSize = 1ull << 40;

using config::Need;
using config::TableReader;

constexpr std::array<std::string_view, 4> kCopyFormats = {"json", "jsonpaths", "csv", "delimited"};
constexpr std::array<std::string_view, 2> kLoadModes = {"manifest", "basic"};
constexpr std::array<std::string_view, 2> kLoadTargets = {"redshift", "postgres"};

// columns = ["id", "name"]: column names for COPY's column list.
void ReadColumns(TableReader& reader, RedshiftSettings* emitter) {
  const toml::node* node = reader.Get("columns", Need::kOptional);
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    reader.ReportWrongType("columns", *node, "an array of column names, e.g. [\"id\", \"name\"]");
    return;
  }
  if (array->empty()) {
    reader.Report("columns",
                  "must name at least one column; leave the key out to load every column");
    return;
  }
  std::vector<std::string> columns;
  for (const toml::node& element : *array) {
    const toml::value<std::string>* text = element.as_string();
    if (text == nullptr) {
      reader.Report("columns", "expected column names as strings, got " +
                                   std::string(config::TypeName(element.type())));
      return;
    }
    if (std::optional<std::string> problem = pg::IdentifierProblem(text->get(), false)) {
      reader.Report("columns", *problem);
      return;
    }
    columns.push_back(text->get());
  }
  emitter->columns = std::move(columns);
}

// allowed_buckets = ["archive"]: more buckets a record may name.
void ReadAllowedBuckets(TableReader& reader, RedshiftSettings* emitter) {
  const toml::node* node = reader.Get("allowed_buckets", Need::kOptional);
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    reader.ReportWrongType("allowed_buckets", *node,
                           "an array of bucket names, e.g. [\"archive\"]");
    return;
  }
  std::vector<std::string> buckets;
  for (const toml::node& element : *array) {
    const toml::value<std::string>* text = element.as_string();
    if (text == nullptr || !IsBucketName(text->get())) {
      reader.Report("allowed_buckets",
                    "must list S3 bucket names: 3 to 63 lowercase letters, digits, '.' and '-' "
                    "each");
      return;
    }
    buckets.push_back(text->get());
  }
  emitter->allowed_buckets = std::move(buckets);
}

void ReadLoad(TableReader& reader, RedshiftSettings* emitter) {
  if (auto url = pg::ReadConninfo(reader, "url")) emitter->url = *url;
  if (auto table = pg::ReadSqlName(reader, "table", Need::kRequired, true)) emitter->table = *table;
  ReadColumns(reader, emitter);
  if (auto table = pg::ReadSqlName(reader, "file_table", Need::kOptional, true)) {
    emitter->file_table = *table;
  }
  ReadBucket(reader, &emitter->bucket);
  ReadAllowedBuckets(reader, emitter);
  ReadKeyPrefix(reader, "key_prefix", "it is the start of a key in the bucket, e.g. \"events/\"",
                &emitter->key_prefix);
  ReadKeyPrefix(reader, "manifest_prefix",
                "it is the start of a key in the bucket, e.g. \"manifests/\"",
                &emitter->manifest_prefix);
  const bool format_given = reader.Has("copy_format");
  if (std::optional<std::string> format =
          reader.Choice("copy_format", Need::kOptional, "copy format", kCopyFormats)) {
    if (*format == "json") emitter->copy_format = CopyFormat::kJson;
    if (*format == "jsonpaths") emitter->copy_format = CopyFormat::kJsonPaths;
    if (*format == "csv") emitter->copy_format = CopyFormat::kCsv;
    if (*format == "delimited") emitter->copy_format = CopyFormat::kDelimited;
  }
  const bool jsonpaths = emitter->copy_format == CopyFormat::kJsonPaths;
  if (std::optional<std::string> paths =
          reader.NonEmptyString("jsonpaths", jsonpaths ? Need::kRequired : Need::kOptional)) {
    if (!jsonpaths) {
      reader.Report("jsonpaths", "'jsonpaths' is only used with copy_format = \"jsonpaths\"");
    } else if (!paths->starts_with("s3://") || paths->size() <= 5) {
      reader.Report("jsonpaths",
                    "must be the s3:// URL of a JSONPaths file, e.g. "
                    "\"s3://my-bucket/jsonpaths/events.json\"");
    } else {
      emitter->jsonpaths = *paths;
    }
  }
  if (std::optional<std::string> delimiter = reader.String("delimiter", Need::kOptional)) {
    const unsigned char c = delimiter->empty() ? 0 : static_cast<unsigned char>(delimiter->front());
    const bool letter_or_digit =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (emitter->copy_format != CopyFormat::kDelimited) {
      reader.Report("delimiter", "'delimiter' is only used with copy_format = \"delimited\"");
    } else if (delimiter->size() != 1 || c == 0 || c >= 0x80 || letter_or_digit || c == '\\' ||
               c == '.' || c == '\r' || c == '\n') {
      reader.Report("delimiter",
                    "must be one ASCII character other than a letter, a digit, '\\', '.', CR "
                    "or LF, e.g. \"|\", \",\" or \"\\t\"");
    } else {
      emitter->delimiter = delimiter->front();
    }
  }
  ReadCompression(reader, &emitter->compression);
  if (std::optional<uint64_t> size =
          config::ReadByteSize(reader, "max_object_size", kMaxObjectSize, "must be at most 1TiB")) {
    emitter->max_object_size = std::max<uint64_t>(1, *size);
  }
  if (std::optional<uint64_t> size =
          config::ReadByteSize(reader, "max_loaded_size", kMaxObjectSize, "must be at most 1TiB")) {
    emitter->max_loaded_size = std::max<uint64_t>(1, *size);
  }
  if (std::optional<std::string> role = reader.NonEmptyString("iam_role", Need::kOptional)) {
    // arn:<partition>:iam::<account>:role/<name>
    if (!role->starts_with("arn:aws") || role->find(":iam::") == std::string::npos ||
        role->find(":role/") == std::string::npos || role->find('\'') != std::string::npos) {
      reader.Report("iam_role",
                    "must be the ARN of an IAM role, e.g. "
                    "\"arn:aws:iam::123456789012:role/redshift-copy\"");
    } else {
      emitter->iam_role = *role;
    }
  }
  if (std::optional<std::string> region = config::ReadRegion(reader))
    emitter->copy_region = *region;
  if (std::optional<std::string> mode =
          reader.Choice("mode", Need::kOptional, "load mode", kLoadModes)) {
    emitter->load_mode = *mode == "basic" ? LoadMode::kBasic : LoadMode::kManifest;
  }
  if (std::optional<std::string> target =
          reader.Choice("load_target", Need::kOptional, "load target", kLoadTargets)) {
    emitter->load_target = *target == "postgres" ? LoadTarget::kPostgres : LoadTarget::kRedshift;
  }
  // Without a role, COPY carries the AWS keys in its text: only over a
  // connection whose server is verified (or that stays on this machine).
  if (emitter->load_target == LoadTarget::kRedshift && emitter->iam_role.empty() &&
      !emitter->url.empty() && !pg::OnlyLoopback(emitter->url)) {
    const std::string mode = pg::EffectiveSslMode(emitter->url, std::getenv("PGSSLMODE"));
    if (mode != "verify-full") {
      reader.Report("iam_role",
                    "without iam_role, COPY sends AWS keys in its text, and the connection to "
                    "the cluster does not verify the server (sslmode " +
                        mode +
                        "): set iam_role (better), or let the url use sslmode=verify-full, "
                        "the default for a server on another machine");
    }
  }
  if (emitter->load_target == LoadTarget::kPostgres &&
      (emitter->copy_format == CopyFormat::kJson ||
       emitter->copy_format == CopyFormat::kJsonPaths)) {
    reader.Report(format_given ? "copy_format" : "load_target",
                  "load_target = \"postgres\" needs copy_format = \"csv\" or \"delimited\": "
                  "COPY of JSON (copy_format \"json\", the default, and \"jsonpaths\") needs "
                  "Redshift");
  }
}

}  // namespace

std::unique_ptr<component::SinkConfig> ReadRedshiftSink(TableReader& reader,
                                                        const component::SinkReadContext&) {
  auto sink = std::make_unique<RedshiftSinkConfig>();
  config::ReadRole(reader, &sink->role);
  ReadLoad(reader, &sink->load);
  return sink;
}

Result<std::shared_ptr<Emitter>> RedshiftSinkConfig::Build(
    const component::SinkContext& context) const {
  auto aws = aws::MakeAwsContext(aws::WithRole(context.aws, role));
  if (!aws) return Fail(aws.error());
  auto client = std::make_shared<aws::S3Client>(aws::MakeS3Client(*aws));
  return std::make_shared<RedshiftEmitter>(load, std::move(client), aws->credentials);
}

// The bucket of the manifests and the table COPY loads (its columns, and
// that the user may INSERT). The file table is created at the first load.
component::Checks RedshiftSinkConfig::Check(const component::CheckContext& context) const {
  static constexpr std::string_view kInsert[] = {"INSERT"};
  component::Checks checks;
  if (auto aws = aws::MakeAwsContext(aws::WithRole(context.aws, role)); !aws) {
    checks.push_back({"bucket " + load.bucket, Fail(aws.error())});
  } else {
    checks.push_back(component::ProbeBucket(*aws, context.retry, load.bucket));
  }
  checks.push_back(component::ProbeSqlTable(load.url, load.table, load.columns, kInsert,
                                            component::IfMissing::kFail));
  return checks;
}

}  // namespace kc::emitter
