// The daemon's configuration: one TOML file, several pipelines.
//
// ParseConfig turns TOML text into a validated, immutable Config or into the
// list of every problem found, each naming the line and the key. Unknown keys
// are problems, so a typo never silently falls back to a default.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "component/dead_letter.h"
#include "component/sink.h"
#include "component/step.h"
#include "component/store.h"
#include "config/interpolate.h"
#include "config/problem.h"
#include "kc/aws.h"
#include "kc/expected.h"
#include "kc/pipeline.h"

namespace kc {

// [checkpoint]: the store every pipeline of the process shares.
struct CheckpointConfig {
  std::string store = "file";  // the store's type (see daemon/builtins.h)
  // The namespace of the store's keys: {app}:checkpoint:{stream}:{shard}
  // in Redis, the table in DynamoDB, a directory of files.
  std::string app = "kinesis-connect";
  // The store's settings, read by the store's own reader.
  std::shared_ptr<const component::StoreConfig> settings;
};

// A component of a pipeline: its type, and its settings as its own reader
// read them (see daemon/builtins.h).
template <class Settings>
struct ComponentChoice {
  std::string type;
  std::shared_ptr<const Settings> settings;
};

// A [[pipeline]] table: what the engine reads, and its components.
struct PipelineConfig : PipelineOptions {
  ComponentChoice<component::TransformerConfig> transformer{.type = "string", .settings = {}};
  ComponentChoice<component::FilterConfig> filter{.type = "all_pass", .settings = {}};
  ComponentChoice<component::SinkConfig> emitter;  // [pipeline.emitter]
  // The {app} of this pipeline's Redis checkpoint keys; empty: checkpoint.app.
  std::string checkpoint_app;
  // [pipeline.dead_letter]; no type: none. Without a destination, on_error
  // is always kStop; with one, kDeadLetter unless on_error = "stop".
  ComponentChoice<component::DeadLetterConfig> dead_letter;
  int line = 0;  // where the [[pipeline]] table starts, for messages
};

// [metrics]: the HTTP endpoint of /metrics, /health and /ready.
struct MetricsConfig {
  // "127.0.0.1:9108", "[::1]:9108", "0.0.0.0:9108"; port 0: any free one
  // (logged). Empty: no endpoint.
  std::string listen;
};

// [log]; the command line's --log-level and --log-format win over it.
struct LogConfig {
  std::string level;   // "trace" ... "error"; empty: not set
  std::string format;  // "text" or "json"; empty: not set
};

// [leases]: the processes run with the same file share each pipeline's
// shards through a lease table per pipeline in the checkpoint store.
struct LeasesConfig {
  LeaseOptions options;  // worker_id empty: this host's name and the pid
  std::string table;     // empty: "{app}-{pipeline}"
  int line = 0;
};

// This process's worker id: the configured one, or "{host}-{pid}".
std::string WorkerIdOf(const LeasesConfig& leases);

struct Config {
  AwsConfig aws;
  MetricsConfig metrics;
  LogConfig log;
  // Values that ${NAME} took from the environment into a URL or a secret
  // key (config/interpolate.h): logs and errors show them as "***".
  std::vector<std::string> secrets;
  CheckpointConfig checkpoint;
  std::optional<LeasesConfig> leases;
  std::vector<PipelineConfig> pipelines;
};

// The lease table of `pipeline` with [leases]: `table`, or
// "{app}-{pipeline}", the app being the pipeline's checkpoint_app if set.
// REQUIRES: config.leases
std::string LeaseTableOf(const Config& config, const PipelineConfig& pipeline);

using ConfigResult = expected<Config, std::vector<ConfigProblem>>;

// `source` names the input in messages (usually the file path). ${NAME} in
// string values is looked up with `env` (config/interpolate.h).
ConfigResult ParseConfig(std::string_view toml_text, const std::string& source,
                         const config::EnvLookup& env = config::ProcessEnv);
ConfigResult LoadConfigFile(const std::string& path,
                            const config::EnvLookup& env = config::ProcessEnv);

}  // namespace kc
