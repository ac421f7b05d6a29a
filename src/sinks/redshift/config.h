// [pipeline.emitter] type = "redshift": the second half of the S3 →
// Redshift flow. Each record names an S3 object (a key in `bucket`, or a
// full s3:// URL); each batch of them is loaded into `table` of the database
// at `url` with COPY, and the loaded objects are recorded in `file_table` in
// the same transaction.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "component/sink.h"
#include "kc/record_format.h"

namespace kc::emitter {

// How COPY reads the objects, how a batch is loaded, and where.
enum class CopyFormat { kJson, kJsonPaths, kCsv, kDelimited };
enum class LoadMode { kManifest, kBasic };
enum class LoadTarget { kRedshift, kPostgres };

struct RedshiftSettings {
  std::string url;  // a libpq connection string; may hold a password
  std::string table;
  std::vector<std::string> columns;  // COPY's column list; empty: every column
  std::string file_table = "kc_loaded_files";
  std::string bucket;
  std::string manifest_prefix = "manifests/";
  CopyFormat copy_format = CopyFormat::kJson;
  std::string jsonpaths;                         // an s3:// URL, with kJsonPaths
  char delimiter = '|';                          // with kDelimited
  Compression compression = Compression::kNone;  // of the objects
  std::string iam_role;     // empty: keys from the AWS credential chain at COPY time
  std::string copy_region;  // REGION of the objects; empty: the cluster's own
  LoadMode load_mode = LoadMode::kManifest;
  // kPostgres: the objects are read here and sent with COPY ... FROM STDIN,
  // for running the flow against PostgreSQL, which cannot read S3.
  LoadTarget load_target = LoadTarget::kRedshift;
  // kPostgres: the largest object the loader fetches (as stored) and the
  // most data one may decompress to; past either the batch is not loaded.
  uint64_t max_object_size = 4ull << 30;
  uint64_t max_loaded_size = 4ull << 30;
  // Buckets besides `bucket` whose objects a record may name (s3://...); an
  // object anywhere else is a bad record, never fetched or loaded.
  std::vector<std::string> allowed_buckets;
  // When set, the keys a record may name in `bucket` begin with this.
  std::string key_prefix;
};

struct RedshiftSinkConfig final : component::SinkConfig {
  RedshiftSettings load;
  // role_arn (external_id, role_session_name): the sink writes as this
  // role, e.g. into another account. Empty: as the pipeline reads.
  AwsRole role;

  // Manifests go up and objects come down with the pipeline's S3 client;
  // COPY gets the same credentials unless an IAM role is configured.
  Result<std::shared_ptr<Emitter>> Build(const component::SinkContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;
};

std::unique_ptr<component::SinkConfig> ReadRedshiftSink(config::TableReader& table,
                                                        const component::SinkReadContext& context);

}  // namespace kc::emitter
