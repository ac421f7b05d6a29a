// The daemon's configuration: one TOML file, several pipelines.
//
// ParseConfig turns TOML text into a validated, immutable Config or into the
// list of every problem found, each naming the line and the key. Unknown keys
// are problems, so a typo never silently falls back to a default.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kc/status.h"

namespace kc {

struct AwsConfig {
  std::string region;                            // empty: AWS_REGION / AWS_DEFAULT_REGION / profile
  std::string endpoint;                          // empty: the service's public endpoint in `region`
  std::map<std::string, std::string> endpoints;  // per-service override: "kinesis" → URL
  std::string profile;                           // empty: AWS_PROFILE or "default"
  bool verify_tls = true;
};

struct CheckpointConfig {
  // "file", "redis", "postgres" or "dynamodb".
  std::string store = "file";
  std::string path = "state/checkpoints";      // file
  std::string url = "redis://127.0.0.1:6379";  // redis; may hold a password
  std::string app = "kinesis-connect";
  // postgres: a libpq connection string (URL or key=value pairs; the
  // password there or in PGPASSWORD) and the table, created if missing.
  std::string postgres_url;
  std::string postgres_table = "kc_checkpoints";
  // dynamodb: the table, created if missing; empty means the app's name.
  // The endpoint and credentials are those of [aws].
  std::string dynamodb_table;
};

struct StartAt {
  enum class Kind { kTrimHorizon, kLatest, kTimestamp };
  Kind kind = Kind::kTrimHorizon;
  int64_t timestamp_ms = 0;  // for kTimestamp
};

// Defaults: a batch is cut by size (4 MiB) or age (30 s), as Firehose cuts
// by size and time. Each batch costs a file or object and two durable
// checkpoint writes, so records of 84 bytes and more still make 4 MiB
// batches; the record count only bounds the memory of batches of tiny
// records (records in memory take about 200 bytes beyond their data). A
// busy shard holds up to two batches: the one being written and the next.
struct BufferConfig {
  uint64_t max_records = 50'000;
  uint64_t max_bytes = 4ull << 20;
  std::chrono::milliseconds max_age{30'000};
};

enum class FileFormat { kLines, kRaw, kEnvelope, kCsv };
enum class Compression { kNone, kGzip, kZstd };
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

// Where records that cannot be delivered go (see kc/dead_letter.h).
struct DeadLetterConfig {
  std::string type;       // "" (none) | "file" | "s3" | "kinesis"
  std::string directory;  // file
  std::string bucket;     // s3
  std::string prefix;     // s3: keys start with it
  std::string stream;     // kinesis
};

// What a record that cannot be delivered does: stop the pipeline (nothing
// skipped, the next run stops at it again) or go to the dead letters.
enum class OnError { kStop, kDeadLetter };

struct PipelineConfig {
  std::string name;
  std::string stream;
  StartAt start_at;
  std::string transformer = "string";
  std::string filter = "all_pass";
  // filter "json_field": records whose field (a dotted path) equals one of
  // the values are kept (equals) or dropped (not_equals).
  std::string filter_field;
  std::vector<std::string> filter_values;
  bool filter_keeps_matches = true;
  BufferConfig buffer;
  EmitterConfig emitter;
  // GetRecords tuning. Kinesis allows 5 calls/s per shard, shared by all
  // consumers: an idle shard is polled every `poll_interval`.
  uint32_t records_per_call = 10'000;
  // About how much record data one GetRecords page may bring: each call's
  // Limit is this divided by the average record size of the shard's last
  // page (at most records_per_call). A page, its records and the parser's
  // copy are a reader's memory; Kinesis serves at most 2 MB/s per shard, so
  // five calls a second of 1 MiB never hold a shard back.
  uint64_t bytes_per_call = 1ull << 20;
  std::chrono::milliseconds poll_interval{1'000};
  std::chrono::milliseconds shard_discovery_interval{10'000};
  // The most threads reading this pipeline's shards, however many shards
  // there are; 0: automatic (16, or two per core on larger machines).
  uint32_t reader_threads = 0;
  // The most batches written at once (each shard has one at most);
  // 0: as many as reader threads.
  uint32_t emit_threads = 0;
  // How long a batch the sink cannot take for a passing reason (unavailable,
  // throttled, unreachable: a retriable error, after the sink client's own
  // retries) is tried again, holding the shard's checkpoint, before the
  // pipeline gives up on it: it stops, or with dead letters the batch goes
  // there. Checkpoint saves and loads wait out the store's outages as long. 0: only
  // the clients' own retries.
  std::chrono::milliseconds sink_retry_for{std::chrono::hours(1)};
  // The {app} of this pipeline's Redis checkpoint keys; empty: checkpoint.app.
  std::string checkpoint_app;
  // Records in the KPL's aggregated format are split into their user
  // records (each with its partition key and sub-sequence number); false
  // hands them on as Kinesis stored them.
  bool deaggregate = true;
  // Without a dead-letter destination, always kStop; with one, kDeadLetter
  // unless on_error = "stop".
  DeadLetterConfig dead_letter;
  OnError on_error = OnError::kStop;
  int line = 0;  // where the [[pipeline]] table starts, for messages
};

struct Config {
  AwsConfig aws;
  CheckpointConfig checkpoint;
  std::vector<PipelineConfig> pipelines;
};

// One thing wrong with a config.
//
// `key` is the dotted path of the offending key. Pipelines are named by their
// 0-based position in the file, "pipeline[0]", not by their `name`: the name
// may be the very thing that is missing, invalid or duplicated, and the
// position always points at one table. Examples: "aws.endpoints.s3",
// "checkpoint.store", "pipeline[1].buffer.max_bytes", "pipeline[0].emitter"
// (a missing table). Keys that are not bare TOML keys are quoted:
// pipeline[0]."my key". `key` is empty for problems with the file as a whole
// (a TOML syntax error, an unreadable file).
//
// `line` is where the value is; for a missing key or table, the line of the
// header of the table that should contain it. ParseConfig returns problems in
// line order, those with line 0 last.
//
// Messages name keys, types and limits; they repeat what the user wrote only
// for choices from a fixed list (types, formats, unit names), never other
// values, which could be secrets.
struct ConfigProblem {
  int line = 0;     // 1-based; 0 when the problem has no single line
  std::string key;  // dotted path, e.g. "pipeline[1].buffer.max_bytes"; may be empty
  std::string message;
  // "<source>:<line>: <key>: <message>"; ":<line>" is left out when `line` is
  // 0 and "<key>: " when `key` is empty.
  std::string ToString(const std::string& source) const;
};

using ConfigResult = expected<Config, std::vector<ConfigProblem>>;

// `source` names the input in messages (usually the file path).
ConfigResult ParseConfig(std::string_view toml_text, const std::string& source);
ConfigResult LoadConfigFile(const std::string& path);

// "5MiB", "5 MiB", "512KB", "1024" → bytes. Binary (KiB, MiB, GiB, TiB) and
// decimal (KB, MB, GB, TB) units and B, matched ignoring case ("mib" = "MiB");
// no unit means bytes. Fractions are accepted when they come to whole bytes
// ("1.5GiB", "0.5KB"; not "1.5"), with at most 6 decimals. Negative numbers,
// other units and trailing text are errors whose message shows an example.
Result<uint64_t> ParseByteSize(std::string_view text);
// "30s", "250ms", "5m", "1h", "1m30s", "1.5s" → milliseconds. Units ms, s, m,
// h in lowercase; components add up. A bare number other than "0" is an error
// (is "30" seconds or milliseconds?) suggesting "30s"; so are negative values
// and anything finer than a millisecond.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
// RFC 3339, e.g. "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123+01:00" → ms
// since the epoch. The offset is required; digits after milliseconds are
// truncated; impossible dates (February 30) and leap seconds are errors.
Result<int64_t> ParseRfc3339(std::string_view text);

}  // namespace kc
