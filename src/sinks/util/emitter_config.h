// [pipeline.emitter]: the settings of every sink in one struct, as the
// config reader fills it in.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kc/record_format.h"

namespace kc {

// redshift: how COPY reads the objects, how a batch is loaded, and where.
enum class CopyFormat { kJson, kJsonPaths, kCsv, kDelimited };
enum class LoadMode { kManifest, kBasic };
enum class LoadTarget { kRedshift, kPostgres };

struct EmitterConfig {
  // "file" | "stdout" | "s3" | "s3_manifest" | "kinesis" | "postgres" | "redshift" |
  // "dynamodb"
  std::string type;
  // file, stdout, s3
  FileFormat format = FileFormat::kLines;
  Compression compression = Compression::kNone;  // file, s3: "none" | "gzip" | "zstd"
  // format = "csv" (file, stdout, s3): one column per field path ("user.id",
  // see docs/sinks/file.md); required with csv. One-character delimiter.
  std::vector<std::string> fields;
  char delimiter = ',';
  // file
  std::string directory;
  // Write files around the page cache (O_DIRECT), falling back to ordinary
  // writes where the file system refuses it.
  bool direct_io = true;
  // s3: objects <prefix><key> in <bucket>; the key is a template (see the
  // docs/sinks/s3.md) that must name the batch's range so a replay rewrites the same
  // object. Empty: "{yyyy}/{MM}/{dd}/{first}-{last}", the original library's.
  std::string bucket;
  std::string prefix;
  std::string key;
  uint64_t part_size = 8ull << 20;     // multipart upload above this size
  std::string server_side_encryption;  // "" | "AES256" | "aws:kms"
  std::string kms_key_id;              // with "aws:kms"
  // postgres: rows of `table` in the database at `url` (a libpq connection
  // string). Exactly one of: `column`, which gets each record's data as
  // text; `columns`, column name → field path (see docs/sinks/postgres.md) into each
  // record, a JSON object, in the order they are written in the file.
  std::string url;
  std::string table;
  std::string column;
  std::vector<std::pair<std::string, std::string>>
      column_fields;  // TOML: [pipeline.emitter.columns]
  // s3_manifest: after each object is written, its key goes to this Kinesis
  // stream, every key with the same partition key so that they stay in order
  // (empty: the source stream's name).
  std::string manifest_stream;
  std::string manifest_partition_key;
  // kinesis: each record is put on the Kinesis stream `stream`, another
  // than the pipeline's own, with the partition key `partition_key` says:
  // the source record's, the value of field `partition_key_field` (a path
  // as in `fields`) of each record, a JSON object, or `partition_key_value`.
  // `ordered`: the records of one partition key land in the order they were
  // read, retries included (one record per key in each call).
  enum class KeySource { kSource, kField, kConstant };
  std::string stream;
  KeySource partition_key = KeySource::kSource;
  std::string partition_key_field;
  std::string partition_key_value;
  bool ordered = false;
  // redshift: each record names an S3 object (a key in `bucket`, or a full
  // s3:// URL); each batch of them is loaded into `table` of the database at
  // `url` with COPY, and the loaded objects are recorded in `file_table` in
  // the same transaction. Uses `url`, `table`, `bucket`, `compression` (of
  // the objects) and `delimiter` (with kDelimited; '|' by default) too.
  std::vector<std::string> columns;  // COPY's column list; empty: every column
  std::string file_table = "kc_loaded_files";
  std::string manifest_prefix = "manifests/";
  CopyFormat copy_format = CopyFormat::kJson;
  std::string jsonpaths;    // an s3:// URL, with kJsonPaths
  std::string iam_role;     // empty: keys from the AWS credential chain at COPY time
  std::string copy_region;  // REGION of the objects; empty: the cluster's own
  LoadMode load_mode = LoadMode::kManifest;
  // kPostgres: the objects are read here and sent with COPY ... FROM STDIN,
  // for running the flow against PostgreSQL, which cannot read S3.
  LoadTarget load_target = LoadTarget::kRedshift;
  // dynamodb: each record (a JSON object) is an item of `table`, whose key
  // attributes are `hash_key` and optionally `range_key`. Attribute types are
  // inferred from JSON unless declared: attribute → "S" | "N" | "B" | "BOOL"
  // (TOML: [pipeline.emitter.attribute_types]).
  std::string hash_key;
  std::string range_key;
  std::map<std::string, std::string> attribute_types;
  // kinesis, dynamodb: where the target stream or table is, when it is not
  // where [aws] points (another region, e.g. a copy of a stream in a second
  // region). Empty: [aws]'s region and endpoint for that service.
  std::string service_region;
  std::string service_endpoint;
};

}  // namespace kc
