#include "daemon/config.h"
#include "base/units.h"
#include "clients/aws/aws_context.h"
#include "dead_letters/file/config.h"
#include "dead_letters/kinesis/config.h"
#include "dead_letters/s3/config.h"
#include "sinks/dynamodb/config.h"
#include "sinks/file/config.h"
#include "sinks/kinesis/config.h"
#include "sinks/postgres/config.h"
#include "sinks/redshift/config.h"
#include "sinks/s3/config.h"
#include "sinks/s3_manifest/config.h"
#include "sinks/stdout/config.h"
#include "stores/dynamodb/config.h"
#include "stores/file/config.h"
#include "stores/postgres/config.h"
#include "stores/redis/config.h"
#include "transforms/json_field/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace kc {
namespace {

using std::chrono::milliseconds;

// (line, key, message): compared as a whole so that a test pins all three.
using Problem = std::tuple<int, std::string, std::string>;

std::vector<Problem> One(int line, std::string key, std::string message) {
  return {Problem(line, std::move(key), std::move(message))};
}

std::vector<Problem> ProblemsOf(std::string_view toml) {
  ConfigResult result = ParseConfig(toml, "test.toml");
  std::vector<Problem> out;
  if (result.has_value()) {
    ADD_FAILURE() << "expected problems, but the config parsed";
    return out;
  }
  for (const ConfigProblem& p : result.error()) out.emplace_back(p.line, p.key, p.message);
  return out;
}

Config ParseOk(std::string_view toml) {
  ConfigResult result = ParseConfig(toml, "test.toml");
  if (!result.has_value()) {
    for (const ConfigProblem& p : result.error()) ADD_FAILURE() << p.ToString("test.toml");
    return Config{};
  }
  return *result;
}

// The settings a component's reader read (a pipeline's emitter or
// dead_letter, or the checkpoint store), as that component's own type.
template <class T, class Component>
T SettingsOf(const Component& component) {
  const T* settings = dynamic_cast<const T*>(component.settings.get());
  EXPECT_NE(settings, nullptr) << (component.settings ? "the settings are of another type"
                                                      : "the component has no settings");
  return settings != nullptr ? *settings : T{};
}

// A postgres sink's columns with their field paths as written.
std::vector<std::pair<std::string, std::string>> ColumnsOf(const emitter::PostgresSettings& rows) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [column, path] : rows.columns) out.emplace_back(column, path.text());
  return out;
}

// Lines 1-5: a valid pipeline that error tests append to.
constexpr std::string_view kPipeline = R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "stdout"
)toml";

std::string WithPipeline(std::string_view rest) {
  return std::string(kPipeline) + std::string(rest);
}

// --- Valid configs ----------------------------------------------------------

TEST(ParseConfigTest, FullConfigWithTwoPipelines) {
  const Config config = ParseOk(R"toml(# Two pipelines reading one stream each.
[aws]
region = "eu-west-1"
endpoint = "http://127.0.0.1:4567"
profile = "staging"
verify_tls = false

[aws.endpoints]
kinesis = "http://localhost:4568"
s3 = "https://s3.local:9000/"
dynamodb = "http://[::1]:8000"
sts = "http://sts.local"

[checkpoint]
store = "file"
path = "/var/lib/kc"
app = "billing-app"

[[pipeline]]
name = "events-to-files"
stream = "events"
start_at = "latest"
records_per_call = 2500
bytes_per_call = "256KiB"
poll_interval = "500ms"
shard_discovery_interval = "1m30s"
sink_retry_for = "15m"
reader_threads = 4
emit_threads = 2

[pipeline.transformer]
type = "string"
[pipeline.filter]
type = "all_pass"
[pipeline.buffer]
max_records = 1000
max_bytes = "1.5MiB"
max_age = "2m"
[pipeline.emitter]
type = "file"
directory = "out/events"
format = "envelope"

[[pipeline]]
name = "audit.stdout_2"
stream = "audit-log"
start_at = 2026-01-02T03:04:05.678+01:00
buffer = { max_records = 1, max_bytes = 4096, max_age = "250ms" }
emitter = { type = "stdout", format = "raw" }
)toml");

  EXPECT_EQ(config.aws.region, "eu-west-1");
  EXPECT_EQ(config.aws.endpoint, "http://127.0.0.1:4567");
  EXPECT_EQ(config.aws.profile, "staging");
  EXPECT_FALSE(config.aws.verify_tls);
  const std::map<std::string, std::string> endpoints = {
      {"dynamodb", "http://[::1]:8000"},
      {"kinesis", "http://localhost:4568"},
      {"s3", "https://s3.local:9000/"},
      {"sts", "http://sts.local"},
  };
  EXPECT_EQ(config.aws.endpoints, endpoints);

  EXPECT_EQ(config.checkpoint.store, "file");
  EXPECT_EQ(SettingsOf<checkpoint::FileStoreConfig>(config.checkpoint).path, "/var/lib/kc");
  EXPECT_EQ(config.checkpoint.app, "billing-app");

  ASSERT_EQ(config.pipelines.size(), 2u);
  const PipelineConfig& a = config.pipelines[0];
  EXPECT_EQ(a.name, "events-to-files");
  EXPECT_EQ(a.stream, "events");
  EXPECT_EQ(a.start_at.kind, StartAt::Kind::kLatest);
  EXPECT_EQ(a.records_per_call, 2500u);
  EXPECT_EQ(a.bytes_per_call, 256u << 10);
  EXPECT_EQ(a.poll_interval, milliseconds(500));
  EXPECT_EQ(a.shard_discovery_interval, milliseconds(90'000));
  EXPECT_EQ(a.sink_retry_for, milliseconds(900'000));
  EXPECT_EQ(a.reader_threads, 4u);
  EXPECT_EQ(a.emit_threads, 2u);
  EXPECT_EQ(a.transformer.type, "string");
  EXPECT_EQ(a.filter.type, "all_pass");
  EXPECT_EQ(a.buffer.max_records, 1000u);
  EXPECT_EQ(a.buffer.max_bytes, 1'572'864u);
  EXPECT_EQ(a.buffer.max_age, milliseconds(120'000));
  EXPECT_EQ(a.emitter.type, "file");
  EXPECT_EQ(SettingsOf<emitter::FileSinkConfig>(a.emitter).directory, "out/events");
  EXPECT_EQ(SettingsOf<emitter::FileSinkConfig>(a.emitter).format, FileFormat::kEnvelope);
  EXPECT_EQ(a.line, 19);

  const PipelineConfig& b = config.pipelines[1];
  EXPECT_EQ(b.name, "audit.stdout_2");
  EXPECT_EQ(b.stream, "audit-log");
  EXPECT_EQ(b.start_at.kind, StartAt::Kind::kTimestamp);
  // 2026-01-02T02:04:05.678Z
  EXPECT_EQ(b.start_at.timestamp_ms, 1'767'319'445'678);
  EXPECT_EQ(b.buffer.max_records, 1u);
  EXPECT_EQ(b.buffer.max_bytes, 4096u);
  EXPECT_EQ(b.buffer.max_age, milliseconds(250));
  EXPECT_EQ(b.emitter.type, "stdout");
  EXPECT_EQ(SettingsOf<emitter::StdoutSinkConfig>(b.emitter).format, FileFormat::kRaw);
  EXPECT_EQ(b.records_per_call, 10'000u);
  EXPECT_EQ(b.line, 44);
}

TEST(ParseConfigTest, DefaultsForEverythingLeftOut) {
  const Config config = ParseOk(kPipeline);
  EXPECT_EQ(config.aws.region, "");
  EXPECT_EQ(config.aws.endpoint, "");
  EXPECT_TRUE(config.aws.endpoints.empty());
  EXPECT_EQ(config.aws.profile, "");
  EXPECT_TRUE(config.aws.verify_tls);
  EXPECT_EQ(config.checkpoint.store, "file");
  EXPECT_EQ(SettingsOf<checkpoint::FileStoreConfig>(config.checkpoint).path, "state/checkpoints");
  EXPECT_EQ(config.checkpoint.app, "kinesis-connect");
  ASSERT_EQ(config.pipelines.size(), 1u);
  const PipelineConfig& p = config.pipelines[0];
  EXPECT_EQ(p.name, "p");
  EXPECT_EQ(p.stream, "s");
  EXPECT_EQ(p.start_at.kind, StartAt::Kind::kTrimHorizon);
  EXPECT_EQ(p.transformer.type, "string");
  EXPECT_EQ(p.filter.type, "all_pass");
  EXPECT_EQ(p.buffer.max_records, 50'000u);
  EXPECT_EQ(p.bytes_per_call, 1u << 20);
  EXPECT_EQ(p.buffer.max_bytes, 4u << 20);
  EXPECT_EQ(p.buffer.max_age, milliseconds(30'000));
  EXPECT_EQ(p.emitter.type, "stdout");
  EXPECT_EQ(SettingsOf<emitter::StdoutSinkConfig>(p.emitter).format, FileFormat::kLines);
  EXPECT_EQ(p.records_per_call, 10'000u);
  EXPECT_EQ(p.poll_interval, milliseconds(1'000));
  EXPECT_EQ(p.shard_discovery_interval, milliseconds(10'000));
  EXPECT_EQ(p.sink_retry_for, milliseconds(3'600'000));
  EXPECT_EQ(p.reader_threads, 0u) << "automatic";
  EXPECT_EQ(p.emit_threads, 0u) << "as many as reader threads";
  EXPECT_EQ(p.line, 1);
}

TEST(ParseConfigTest, EmptyComponentTablesKeepDefaults) {
  const Config config =
      ParseOk(WithPipeline("[pipeline.transformer]\n[pipeline.filter]\n"
                           "[pipeline.buffer]\n"));
  ASSERT_EQ(config.pipelines.size(), 1u);
  EXPECT_EQ(config.pipelines[0].transformer.type, "string");
  EXPECT_EQ(config.pipelines[0].filter.type, "all_pass");
  EXPECT_EQ(config.pipelines[0].buffer.max_records, 50'000u);
}

TEST(ParseConfigTest, StartAtForms) {
  struct Case {
    std::string value;
    StartAt::Kind kind;
    int64_t timestamp_ms;
  };
  const std::vector<Case> cases = {
      {"\"trim_horizon\"", StartAt::Kind::kTrimHorizon, 0},
      {"\"latest\"", StartAt::Kind::kLatest, 0},
      {"\"2026-01-02T03:04:05Z\"", StartAt::Kind::kTimestamp, 1'767'323'045'000},
      {"\"2026-01-02T03:04:05.5-00:30\"", StartAt::Kind::kTimestamp, 1'767'324'845'500},
      {"2026-01-02T03:04:05Z", StartAt::Kind::kTimestamp, 1'767'323'045'000},
      {"1969-12-31T23:59:59.999Z", StartAt::Kind::kTimestamp, -1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    const Config config =
        ParseOk("[[pipeline]]\nstart_at = " + c.value +
                "\nname = \"p\"\nstream = \"s\"\nemitter = { type = \"stdout\" }\n");
    ASSERT_EQ(config.pipelines.size(), 1u);
    EXPECT_EQ(config.pipelines[0].start_at.kind, c.kind);
    EXPECT_EQ(config.pipelines[0].start_at.timestamp_ms, c.timestamp_ms);
  }
}

TEST(ParseConfigTest, ByteSizeAsInteger) {
  const Config config = ParseOk(WithPipeline("[pipeline.buffer]\nmax_bytes = 1073741824\n"));
  ASSERT_EQ(config.pipelines.size(), 1u);
  EXPECT_EQ(config.pipelines[0].buffer.max_bytes, 1u << 30);
}

// --- One problem of each kind -------------------------------------------------

TEST(ParseConfigTest, AwsCallLimitsAndTls) {
  const Config defaults = ParseOk(kPipeline);
  EXPECT_EQ(defaults.aws.request_timeout, milliseconds(600'000));
  EXPECT_EQ(defaults.aws.min_bytes_per_second, 1024u);
  EXPECT_EQ(defaults.aws.ca_file, "");
  EXPECT_TRUE(defaults.aws.service_tls.empty());

  const Config config = ParseOk(WithPipeline(R"toml([aws]
request_timeout = "2m"
min_bytes_per_second = "4KiB"
ca_file = "/etc/ssl/certs/ca-certificates.crt"
[aws.tls.s3]
verify_tls = false
[aws.tls.sts]
ca_file = "/dev/null"
)toml"));
  EXPECT_EQ(config.aws.request_timeout, milliseconds(120'000));
  EXPECT_EQ(config.aws.min_bytes_per_second, 4096u);
  EXPECT_EQ(config.aws.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  const std::map<std::string, TlsSettings> tls = {
      {"s3", {.verify = false, .ca_file = "/etc/ssl/certs/ca-certificates.crt"}},
      {"sts", {.verify = true, .ca_file = "/dev/null"}},
  };
  EXPECT_EQ(config.aws.service_tls, tls);
}

TEST(ParseConfigErrorTest, AwsCallLimitsAndTlsProblems) {
  EXPECT_EQ(
      ProblemsOf(WithPipeline(R"toml([aws]
request_timeout = "1s"
min_bytes_per_second = "2MiB"
ca_file = "/nonexistent/ca.pem"
[aws.tls.kinesiss]
verify_tls = false
[aws.tls.s3]
verify = false
)toml")),
      (std::vector<Problem>{
          {7, "aws.request_timeout",
           "must be at least 10s: a GetRecords page or an object part takes time"},
          {8, "aws.min_bytes_per_second",
           "must be at most 1MiB: a slower but moving transfer would be abandoned"},
          {9, "aws.ca_file",
           "cannot read the file (No such file or directory); name a file of PEM certificates: "
           "the authorities to trust"},
          {10, "aws.tls.kinesiss", "unknown key 'kinesiss' in [aws.tls]; did you mean 'kinesis'?"},
          {13, "aws.tls.s3.verify", "unknown key 'verify' in [aws.tls.s3]"},
      }));
}

TEST(ParseConfigTest, MetricsListenAddresses) {
  EXPECT_EQ(ParseOk(kPipeline).metrics.listen, "");  // off by default
  for (const char* listen : {"127.0.0.1:9108", "0.0.0.0:0", "[::1]:9108", "[::]:65535"}) {
    EXPECT_EQ(ParseOk(WithPipeline("[metrics]\nlisten = \"" + std::string(listen) + "\"\n"))
                  .metrics.listen,
              listen);
  }
}

TEST(ParseConfigErrorTest, MetricsListenProblems) {
  const std::string why =
      "is not an address to listen on; write an IP address and a port, such as "
      "\"127.0.0.1:9108\" (this machine only), \"0.0.0.0:9108\" (every interface) or "
      "\"[::1]:9108\"";
  for (const char* listen :
       {"9108", "localhost:9108", "127.0.0.1:", "127.0.0.1:65536", "::1:9108", "127.0.0.1:9x"}) {
    EXPECT_EQ(ProblemsOf(WithPipeline("[metrics]\nlisten = \"" + std::string(listen) + "\"\n")),
              One(7, "metrics.listen", why))
        << listen;
  }
  EXPECT_EQ(ProblemsOf(WithPipeline("[metrics]\nport = 9108\n")),
            One(7, "metrics.port", "unknown key 'port' in [metrics]"));
}

TEST(ParseConfigTest, Leases) {
  EXPECT_FALSE(ParseOk(kPipeline).leases);  // one process reads every shard
  const Config config = ParseOk(WithPipeline(R"toml([checkpoint]
store = "dynamodb"
app = "orders-app"
[leases]
worker_id = "host-7"
failover_time = "3s"
max_leases_per_worker = 20
max_leases_to_steal = 2
)toml"));
  ASSERT_TRUE(config.leases);
  EXPECT_EQ(config.leases->options.worker_id, "host-7");
  EXPECT_EQ(config.leases->options.failover_time, milliseconds(3'000));
  EXPECT_EQ(config.leases->options.max_leases_per_worker, 20u);
  EXPECT_EQ(config.leases->options.max_leases_to_steal, 2u);
  ASSERT_TRUE(config.pipelines[0].leases);
  EXPECT_EQ(config.pipelines[0].leases->failover_time, milliseconds(3'000));
  EXPECT_EQ(LeaseTableOf(config, config.pipelines[0]), "orders-app-p");
  EXPECT_EQ(WorkerIdOf(*config.leases), "host-7");

  const Config defaults = ParseOk(WithPipeline("[checkpoint]\nstore = \"dynamodb\"\n[leases]\n"));
  ASSERT_TRUE(defaults.leases);
  EXPECT_EQ(defaults.leases->options.failover_time, milliseconds(10'000));
  EXPECT_EQ(defaults.leases->options.max_leases_per_worker, 0u);
  EXPECT_EQ(defaults.leases->options.max_leases_to_steal, 1u);
  // The host's name and this process's id.
  EXPECT_TRUE(WorkerIdOf(*defaults.leases).ends_with("-" + std::to_string(::getpid())));
  const Config named =
      ParseOk(WithPipeline("[checkpoint]\nstore = \"dynamodb\"\n[leases]\ntable = \"kcl-app\"\n"));
  EXPECT_EQ(LeaseTableOf(named, named.pipelines[0]), "kcl-app");
}

TEST(ParseConfigErrorTest, LeaseProblems) {
  // Lines 6 and on.
  EXPECT_EQ(ProblemsOf(WithPipeline("[leases]\n")),
            One(6, "leases",
                "the checkpoint store 'file' is kept by one process, so processes cannot share "
                "leases in it; use [checkpoint] store = \"dynamodb\", or leave out [leases]"));
  EXPECT_EQ(ProblemsOf(WithPipeline(
                "[checkpoint]\nstore = \"dynamodb\"\n[leases]\nfailover_time = \"900ms\"\n")),
            One(9, "leases.failover_time", "must be at least 1s (renewals go every third of it)"));
  EXPECT_EQ(ProblemsOf(WithPipeline(
                "[checkpoint]\nstore = \"dynamodb\"\n[leases]\nmax_leases_to_steal = -1\n")),
            One(9, "leases.max_leases_to_steal", "must be between 0 and 1000000"));
  EXPECT_EQ(ProblemsOf(WithPipeline(
                "[checkpoint]\nstore = \"dynamodb\"\n[leases]\nfailover_tme = \"3s\"\n")),
            One(9, "leases.failover_tme",
                "unknown key 'failover_tme' in [leases]; did you mean 'failover_time'?"));
  EXPECT_EQ(ProblemsOf(std::string(kPipeline) + R"toml([[pipeline]]
name = "q"
stream = "s"
[pipeline.emitter]
type = "stdout"
[checkpoint]
store = "dynamodb"
[leases]
table = "one-table"
)toml"),
            One(13, "leases.table",
                "each pipeline has a lease table of its own; leave out `table` (each "
                "pipeline's is \"{app}-{pipeline}\") or keep one pipeline in this file"));
}

config::EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(InterpolationTest, EnvironmentVariablesDefaultsAndDollarsInEveryString) {
  const std::string toml = R"toml([aws]
region = "${REGION:-eu-west-1}"
profile = "${EMPTY:-fallback}"
[[pipeline]]
name = "p"
stream = "${STREAM}"
[pipeline.filter]
type = "json_field"
field = "event.type"
equals = ["${KIND}", "cost$5", "$${KIND}", "${NONE:-a$$b}"]
[pipeline.emitter]
type = "redshift"
url = "postgresql://loader:${PGPASS}@${PGHOST:-db.example.com}:5439/${PGDATABASE}"
table = "analytics.events"
bucket = "bkt"
)toml";
  ConfigResult result = ParseConfig(toml, "test.toml",
                                    FakeEnv({{"STREAM", "orders"},
                                             {"KIND", "click"},
                                             {"EMPTY", ""},
                                             {"PGPASS", "s3cr3t-pw"},
                                             {"PGDATABASE", "analytics"}}));
  ASSERT_TRUE(result.has_value()) << result.error().front().ToString("test.toml");
  const Config& c = *result;
  EXPECT_EQ(c.aws.region, "eu-west-1");
  EXPECT_EQ(c.aws.profile, "fallback");
  EXPECT_EQ(c.pipelines[0].stream, "orders");
  auto filter =
      dynamic_cast<const transform::JsonFieldFilterConfig*>(c.pipelines[0].filter.settings.get());
  ASSERT_NE(filter, nullptr);
  EXPECT_EQ(filter->values, (std::vector<std::string>{"click", "cost$5", "${KIND}", "a$b"}));
  // The URL's password is a secret for the logs; its database and the
  // stream name are not.
  EXPECT_EQ(c.secrets, (std::vector<std::string>{"s3cr3t-pw"}));
}

TEST(InterpolationTest, AnUnsetVariableIsAProblemAtItsLineAndKeyAlone) {
  const std::string toml = R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "file"
directory = "${OUT}/files"
[pipeline.buffer]
max_age = "${AGE"
max_records = 5
max_bytes = "${1X}"
[pipeline.filter]
type = "json_field"
field = "t"
equals = ["a", "${B:-{x}}"]
)toml";
  ConfigResult result = ParseConfig(toml, "test.toml", FakeEnv({}));
  ASSERT_FALSE(result.has_value());
  std::vector<Problem> problems;
  for (const ConfigProblem& p : result.error()) problems.emplace_back(p.line, p.key, p.message);
  EXPECT_EQ(problems,
            (std::vector<Problem>{
                {6, "pipeline[0].emitter.directory",
                 "the environment variable OUT is not set; set it, or give a default: "
                 "${OUT:-default}"},
                {8, "pipeline[0].buffer.max_age",
                 "has a '${' without its '}'; write ${NAME} or ${NAME:-default}, or $$ for a "
                 "literal '$'"},
                {10, "pipeline[0].buffer.max_bytes",
                 "'${1X}' does not name an environment variable (letters, digits and '_', not "
                 "starting with a digit); write $$ for a literal '$'"},
                {14, "pipeline[0].filter.equals",
                 "the default of ${B:-...} holds a brace; a default is plain text, with $$ for a "
                 "literal '$'"},
            }));
}

TEST(ParseConfigTest, ARoleOnTopOfTheChain) {
  const Config config = ParseOk(WithPipeline(R"toml([aws]
role_arn = "arn:aws:iam::123456789012:role/reader"
external_id = "partner-7"
role_session_name = "orders@eu"
)toml"));
  EXPECT_EQ(config.aws.role.arn, "arn:aws:iam::123456789012:role/reader");
  EXPECT_EQ(config.aws.role.external_id, "partner-7");
  EXPECT_EQ(config.aws.role.session_name, "orders@eu");

  EXPECT_EQ(ProblemsOf(WithPipeline(R"toml([aws]
role_arn = "reader"
external_id = "x"
)toml")),
            (std::vector<Problem>{
                {7, "aws.role_arn",
                 "must be the ARN of an IAM role, such as "
                 "\"arn:aws:iam::123456789012:role/kinesis-reader\""},
                {8, "aws.external_id",
                 "only applies with role_arn; set the role to assume, or remove it"},
            }));
  EXPECT_EQ(ProblemsOf(WithPipeline(R"toml([aws]
role_arn = "arn:aws:iam::1:role/r"
role_session_name = "has space"
)toml")),
            (std::vector<Problem>{
                {8, "aws.role_session_name", "must be 2 to 64 letters, digits or any of +=,.@_-"},
            }));
}

TEST(EnvironmentTest, TheSdkVariablesFillWhatTheConfigurationLeaves) {
  std::map<std::string, std::string> vars = {{"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9000"},
                                             {"AWS_ENDPOINT_URL", "https://all.example"}};
  const aws::GetEnvFn env = [&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  };
  AwsConfig aws;
  aws.endpoints["kinesis"] = "https://kinesis.example";
  auto out = aws::WithEnvironment(aws, env);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->endpoints.at("kinesis"), "https://kinesis.example");
  EXPECT_EQ(out->endpoints.at("sts"), "http://127.0.0.1:9000");
  EXPECT_EQ(out->endpoints.at("s3"), "https://all.example");

  aws.endpoint = "http://127.0.0.1:4567";  // one endpoint for all: the variables do not apply
  auto all = aws::WithEnvironment(aws, env);
  ASSERT_TRUE(all);
  EXPECT_FALSE(all->endpoints.contains("sts"));

  vars["AWS_CA_BUNDLE"] = "/dev/null";  // any readable file stands for the PEM here
  aws.service_tls["s3"] = TlsSettings{.verify = true, .ca_file = ""};
  aws.service_tls["sts"] = TlsSettings{.verify = true, .ca_file = "/etc/own.pem"};
  auto bundled = aws::WithEnvironment(aws, env);
  ASSERT_TRUE(bundled);
  EXPECT_EQ(bundled->ca_file, "/dev/null");
  EXPECT_EQ(bundled->service_tls.at("s3").ca_file, "/dev/null");
  EXPECT_EQ(bundled->service_tls.at("sts").ca_file, "/etc/own.pem");
  aws.ca_file = "/etc/configured.pem";  // the configuration wins
  EXPECT_EQ(aws::WithEnvironment(aws, env)->ca_file, "/etc/configured.pem");
  aws.ca_file.clear();
  aws.service_tls.clear();
  vars["AWS_CA_BUNDLE"] = "/nonexistent/ca.pem";
  auto unreadable = aws::WithEnvironment(aws, env);
  ASSERT_FALSE(unreadable);
  EXPECT_NE(unreadable.error().message().find("AWS_CA_BUNDLE"), std::string::npos);
  vars.erase("AWS_CA_BUNDLE");

  vars["AWS_ENDPOINT_URL_STS"] = "sts.example";
  aws.endpoint.clear();
  auto bad = aws::WithEnvironment(aws, env);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("AWS_ENDPOINT_URL_STS"), std::string::npos);
}

TEST(TlsWarningsTest, OneLineForEachWayACallGoesUnverified) {
  AwsConfig aws;
  aws.endpoint = "http://127.0.0.1:4567";  // loopback: nothing to read on the way
  EXPECT_TRUE(aws::TlsWarnings(aws).empty());

  aws.endpoints["s3"] = "http://minio.internal:9000";
  aws.endpoints["dynamodb"] = "http://localhost:8000";
  aws.service_tls["kinesis"] = {.verify = false, .ca_file = ""};
  const std::vector<std::string> warnings = aws::TlsWarnings(aws);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0],
            "TLS certificates of the kinesis endpoint are not verified ([aws.tls.kinesis] "
            "verify_tls = false): anyone on the network path can read and change those calls, "
            "credentials included");
  EXPECT_EQ(warnings[1],
            "the s3 endpoint http://minio.internal:9000 is plain HTTP: anyone on the network "
            "path can read and change those calls, credentials included");

  aws.verify_tls = false;  // one line for every service, none per service
  const std::vector<std::string> all = aws::TlsWarnings(aws);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NE(all[0].find("[aws] verify_tls = false"), std::string::npos);
}

TEST(ParseConfigErrorTest, UnknownKeyWithSuggestion) {
  EXPECT_EQ(ProblemsOf(WithPipeline("[pipeline.buffer]\nmax_recrods = 10\n")),
            One(7, "pipeline[0].buffer.max_recrods",
                "unknown key 'max_recrods' in [pipeline.buffer]; did you mean 'max_records'?"));
}

TEST(ParseConfigErrorTest, UnknownKeyWithoutSuggestion) {
  EXPECT_EQ(ProblemsOf(WithPipeline("colour = \"blue\"\n")),
            One(6, "pipeline[0].emitter.colour", "unknown key 'colour' in [pipeline.emitter]"));
}

TEST(ParseConfigErrorTest, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(
      ProblemsOf(R"toml(pipelines = 1
[aws]
regoin = "x"
[aws.endpoints]
kinesiss = "http://a"
lambda = "http://b"
[checkpoint]
Path = "x"
[[pipeline]]
name = "p"
stream = "s"
emiter = 1
[pipeline.emitter]
type = "file"
directory = "d"
dir = "d"
)toml"),
      (std::vector<Problem>{
          {1, "pipelines", "unknown key 'pipelines' at the top level; did you mean 'pipeline'?"},
          {3, "aws.regoin", "unknown key 'regoin' in [aws]; did you mean 'region'?"},
          {5, "aws.endpoints.kinesiss",
           "unknown key 'kinesiss' in [aws.endpoints]; did you mean 'kinesis'?"},
          {6, "aws.endpoints.lambda", "unknown key 'lambda' in [aws.endpoints]"},
          {8, "checkpoint.Path", "unknown key 'Path' in [checkpoint]; did you mean 'path'?"},
          {12, "pipeline[0].emiter",
           "unknown key 'emiter' in [[pipeline]]; did you mean 'emitter'?"},
          {16, "pipeline[0].emitter.dir", "unknown key 'dir' in [pipeline.emitter]"},
      }));
}

TEST(ParseConfigErrorTest, WrongTypes) {
  EXPECT_EQ(
      ProblemsOf(R"toml([aws]
verify_tls = "yes"
region = 1
[checkpoint]
path = ["a"]
[[pipeline]]
name = 7
stream = "s"
records_per_call = 1.5
start_at = 5
emitter = "stdout"
[pipeline.buffer]
max_records = "10"
max_bytes = true
max_age = 30
)toml"),
      (std::vector<Problem>{
          {2, "aws.verify_tls", "expected a boolean (true or false), got a string"},
          {3, "aws.region", "expected a string, got an integer"},
          {5, "checkpoint.path", "expected a string, got an array"},
          {7, "pipeline[0].name", "expected a string, got an integer"},
          {9, "pipeline[0].records_per_call", "expected an integer, got a floating-point number"},
          {10, "pipeline[0].start_at", "expected a string or a date-time, got an integer"},
          {11, "pipeline[0].emitter", "expected a table, got a string"},
          {13, "pipeline[0].buffer.max_records", "expected an integer, got a string"},
          {14, "pipeline[0].buffer.max_bytes",
           "expected a size string, e.g. \"5MiB\", or an integer number of bytes, got a "
           "boolean"},
          {15, "pipeline[0].buffer.max_age",
           "expected a duration string with a unit, e.g. \"30s\", got an integer (a bare "
           "number could be seconds or milliseconds)"},
      }));
}

TEST(ParseConfigErrorTest, MissingRequiredKeysNameTheTableHeaderLine) {
  EXPECT_EQ(
      ProblemsOf(R"toml(# a comment

[[pipeline]]
start_at = "latest"

[pipeline.emitter]
format = "raw"
)toml"),
      (std::vector<Problem>{
          {3, "pipeline[0].name", "missing required key 'name' in [[pipeline]]"},
          {3, "pipeline[0].stream", "missing required key 'stream' in [[pipeline]]"},
          {6, "pipeline[0].emitter.type", "missing required key 'type' in [pipeline.emitter]"},
      }));
}

TEST(ParseConfigErrorTest, MissingEmitterTable) {
  EXPECT_EQ(ProblemsOf("\n[[pipeline]]\nname = \"p\"\nstream = \"s\"\n"),
            One(2, "pipeline[0].emitter", "missing required table [pipeline.emitter]"));
}

TEST(ParseConfigErrorTest, FileEmitterNeedsDirectory) {
  EXPECT_EQ(ProblemsOf("[[pipeline]]\nname = \"p\"\nstream = \"s\"\n"
                       "[pipeline.emitter]\ntype = \"file\"\n"),
            One(4, "pipeline[0].emitter.directory",
                "missing required key 'directory' in [pipeline.emitter]"));
  EXPECT_EQ(ProblemsOf("[[pipeline]]\nname = \"p\"\nstream = \"s\"\n"
                       "[pipeline.emitter]\ntype = \"file\"\ndirectory = \"\"\n"),
            One(6, "pipeline[0].emitter.directory",
                "must not be empty; leave the key out to use the default"));
}

TEST(ParseConfigTest, FileCompression) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\ntype = \"file\"\n"
      "directory = \"d\"\n";
  auto compression = [](const std::string& toml) {
    return SettingsOf<emitter::FileSinkConfig>(ParseOk(toml).pipelines[0].emitter).compression;
  };
  EXPECT_EQ(compression(head), Compression::kNone);
  EXPECT_EQ(compression(head + "compression = \"gzip\"\n"), Compression::kGzip);
  EXPECT_EQ(compression(head + "compression = \"zstd\"\n"), Compression::kZstd);
  EXPECT_EQ(ProblemsOf(head + "compression = \"lz4\"\n"),
            One(7, "pipeline[0].emitter.compression",
                "unknown compression 'lz4' (known: none, gzip, zstd)"));
}

TEST(ParseConfigTest, FileDirectIo) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\ntype = \"file\"\n"
      "directory = \"d\"\n";
  EXPECT_TRUE(SettingsOf<emitter::FileSinkConfig>(ParseOk(head).pipelines[0].emitter).direct_io);
  EXPECT_FALSE(SettingsOf<emitter::FileSinkConfig>(
                   ParseOk(head + "direct_io = false\n").pipelines[0].emitter)
                   .direct_io);
  EXPECT_EQ(ProblemsOf(head + "direct_io = \"no\"\n").size(), 1u);
}

TEST(ParseConfigTest, FileModesOfSinkStoreAndDeadLetters) {
  const std::string head =
      "[checkpoint]\nfile_mode = \"0640\"\ndir_mode = \"0750\"\n"
      "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\ntype = \"file\"\n"
      "directory = \"d\"\n";
  const auto& sink = SettingsOf<emitter::FileSinkConfig>(ParseOk(head).pipelines[0].emitter);
  EXPECT_EQ(sink.modes.file, 0600u);
  EXPECT_EQ(sink.modes.dir, 0700u);
  Config config = ParseOk(head +
                          "file_mode = \"644\"\ndir_mode = \"0755\"\n"
                          "[pipeline.dead_letter]\ntype = \"file\"\ndirectory = \"l\"\n"
                          "file_mode = \"0640\"\n");
  EXPECT_EQ(SettingsOf<emitter::FileSinkConfig>(config.pipelines[0].emitter).modes.file, 0644u);
  EXPECT_EQ(SettingsOf<emitter::FileSinkConfig>(config.pipelines[0].emitter).modes.dir, 0755u);
  EXPECT_EQ(
      SettingsOf<dead_letter::FileDeadLetterConfig>(config.pipelines[0].dead_letter).modes.file,
      0640u);
  EXPECT_EQ(SettingsOf<checkpoint::FileStoreConfig>(config.checkpoint).modes.dir, 0750u);

  EXPECT_EQ(ProblemsOf(head + "file_mode = 640\n"),
            One(10, "pipeline[0].emitter.file_mode",
                "expected an octal mode in a string, e.g. \"0640\", got an integer"));
  EXPECT_EQ(ProblemsOf(head + "file_mode = \"0800\"\n"),
            One(10, "pipeline[0].emitter.file_mode",
                "expected an octal mode of 3 or 4 digits, e.g. \"0640\", got \"0800\""));
  EXPECT_EQ(ProblemsOf(head + "file_mode = \"0666\"\n"),
            One(10, "pipeline[0].emitter.file_mode",
                "must not be writable by others: anyone could change the output"));
  EXPECT_EQ(ProblemsOf(head + "file_mode = \"0440\"\n"),
            One(10, "pipeline[0].emitter.file_mode",
                "the owner (the connector) needs read and write (06..) to do its work"));
  EXPECT_EQ(ProblemsOf(head + "dir_mode = \"0600\"\n"),
            One(10, "pipeline[0].emitter.dir_mode",
                "the owner (the connector) needs read, write and search (07..) to do its work"));
  EXPECT_EQ(ProblemsOf(head + "dir_mode = \"4700\"\n"),
            One(10, "pipeline[0].emitter.dir_mode",
                "setuid, setgid and sticky bits are not allowed; use the last three digits"));
}

TEST(ParseConfigTest, CsvFormat) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\ntype = \"file\"\n"
      "directory = \"d\"\nformat = \"csv\"\n";
  const auto e = SettingsOf<emitter::FileSinkConfig>(
      ParseOk(head + "fields = [\"id\", \"user.name\", \"a\\\\.b\"]\n").pipelines[0].emitter);
  EXPECT_EQ(e.format, FileFormat::kCsv);
  // Parsed once, here: "a\.b" is one key with a dot in it.
  ASSERT_EQ(e.csv.paths.size(), 3u);
  EXPECT_EQ(e.csv.paths[0].names(), (std::vector<std::string>{"id"}));
  EXPECT_EQ(e.csv.paths[1].names(), (std::vector<std::string>{"user", "name"}));
  EXPECT_EQ(e.csv.paths[2].names(), (std::vector<std::string>{"a.b"}));
  EXPECT_EQ(e.csv.delimiter, ',');
  EXPECT_EQ(SettingsOf<emitter::FileSinkConfig>(
                ParseOk(head + "fields = [\"id\"]\ndelimiter = \"\\t\"\n").pipelines[0].emitter)
                .csv.delimiter,
            '\t');
  const std::string s3 =
      "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\ntype = \"s3\"\n"
      "bucket = \"b-1\"\nformat = \"csv\"\nfields = [\"x\"]\ndelimiter = \"|\"\n";
  EXPECT_EQ(
      SettingsOf<emitter::S3SinkConfig>(ParseOk(s3).pipelines[0].emitter).objects.csv.delimiter,
      '|');
}

TEST(ParseConfigErrorTest, CsvFormatProblems) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\ntype = \"file\"\n"
      "directory = \"d\"\n";
  EXPECT_EQ(ProblemsOf(head + "format = \"csv\"\n"),
            One(4, "pipeline[0].emitter.fields",
                "format = \"csv\" needs the columns to write: add fields = [\"id\", "
                "\"user.name\"] (dotted paths into each JSON record)"));
  EXPECT_EQ(ProblemsOf(head + "format = \"csv\"\nfields = []\n"),
            One(8, "pipeline[0].emitter.fields",
                "must name at least one field, e.g. [\"id\", \"user.name\"]"));
  EXPECT_EQ(
      ProblemsOf(head + "format = \"csv\"\nfields = [\"a\", 3]\n"),
      One(8, "pipeline[0].emitter.fields", "expected field paths as strings, got an integer"));
  EXPECT_EQ(ProblemsOf(head + "format = \"csv\"\nfields = [\"user..id\"]\n"),
            One(8, "pipeline[0].emitter.fields",
                "field path \"user..id\": has an empty field name; separate names with single "
                "dots, e.g. \"user.id\""));
  for (const char* bad : {"\"\"", "\",,\"", "\"\\\"\"", "\"\\n\"", "\"é\""}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ProblemsOf(head + "format = \"csv\"\nfields = [\"a\"]\ndelimiter = " + bad + "\n"),
              One(9, "pipeline[0].emitter.delimiter",
                  "must be one ASCII character other than a double quote, CR or LF, e.g. "
                  "\",\", \";\", \"|\" or \"\\t\""));
  }
  EXPECT_EQ(ProblemsOf(head + "fields = [\"a\"]\n"),
            One(7, "pipeline[0].emitter.fields", "'fields' is only used with format = \"csv\""));
  EXPECT_EQ(
      ProblemsOf(head + "format = \"lines\"\ndelimiter = \";\"\n"),
      One(8, "pipeline[0].emitter.delimiter", "'delimiter' is only used with format = \"csv\""));
}

TEST(ParseConfigTest, S3Emitter) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\ntype = \"s3\"\n";
  const Config config =
      ParseOk(head +
              "bucket = \"my-bucket\"\nprefix = \"raw/\"\nkey = \"{shard}/{first}-{last}.{ext}\"\n"
              "format = \"envelope\"\ncompression = \"gzip\"\npart_size = \"16MiB\"\n"
              "server_side_encryption = \"aws:kms\"\nkms_key_id = \"alias/k\"\n");
  EXPECT_EQ(config.pipelines[0].emitter.type, "s3");
  const emitter::S3Settings e =
      SettingsOf<emitter::S3SinkConfig>(config.pipelines[0].emitter).objects;
  EXPECT_EQ(e.bucket, "my-bucket");
  EXPECT_EQ(e.prefix, "raw/");
  EXPECT_EQ(e.key.text(), "{shard}/{first}-{last}.{ext}");
  EXPECT_EQ(e.format, FileFormat::kEnvelope);
  EXPECT_EQ(e.compression, Compression::kGzip);
  EXPECT_EQ(e.part_size, 16u << 20);
  EXPECT_EQ(e.server_side_encryption, "aws:kms");
  EXPECT_EQ(e.kms_key_id, "alias/k");
  const emitter::S3Settings d =
      SettingsOf<emitter::S3SinkConfig>(ParseOk(head + "bucket = \"b-1\"\n").pipelines[0].emitter)
          .objects;
  EXPECT_EQ(d.key.text(), "{yyyy}/{MM}/{dd}/{first}-{last}");
  EXPECT_EQ(d.part_size, 8u << 20);
}

TEST(ParseConfigErrorTest, S3EmitterProblems) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\ntype = \"s3\"\n";
  EXPECT_EQ(ProblemsOf(head), One(4, "pipeline[0].emitter.bucket",
                                  "missing required key 'bucket' in [pipeline.emitter]"));
  EXPECT_EQ(ProblemsOf(head + "bucket = \"My_Bucket\"\n"),
            One(6, "pipeline[0].emitter.bucket",
                "must be an S3 bucket name: 3 to 63 lowercase letters, digits, '.' and '-'"));
  EXPECT_EQ(ProblemsOf(head + "bucket = \"bkt\"\nkey = \"{yyyy}/{first}\"\n"),
            One(7, "pipeline[0].emitter.key",
                "must contain {first} and {last}, so that every batch gets its own name and a "
                "replay rewrites the same object"));
  EXPECT_EQ(ProblemsOf(head + "bucket = \"bkt\"\nkey = \"{year}/{first}-{last}\"\n"),
            One(7, "pipeline[0].emitter.key",
                "unknown placeholder {year}; known: {stream} {shard} {first} {last} {yyyy} {MM} "
                "{dd} {HH} {ext}"));
  EXPECT_EQ(ProblemsOf(head + "bucket = \"bkt\"\npart_size = \"1MiB\"\n"),
            One(7, "pipeline[0].emitter.part_size", "must be at least 5MiB (S3's smallest part)"));
  EXPECT_EQ(ProblemsOf(head + "bucket = \"bkt\"\nkms_key_id = \"k\"\n"),
            One(7, "pipeline[0].emitter.kms_key_id", "needs server_side_encryption = \"aws:kms\""));
}

// Lines 1-5; the kinesis emitter's keys follow from line 6.
constexpr std::string_view kKinesisHead =
    "[[pipeline]]\nname = \"p\"\nstream = \"events\"\n[pipeline.emitter]\ntype = \"kinesis\"\n";

TEST(ParseConfigTest, KinesisEmitter) {
  using KeySource = emitter::KinesisSettings::KeySource;
  const std::string head(kKinesisHead);
  const Config copy = ParseOk(head + "stream = \"copy\"\n");
  EXPECT_EQ(copy.pipelines[0].emitter.type, "kinesis");
  const auto d = SettingsOf<emitter::KinesisSinkConfig>(copy.pipelines[0].emitter).records;
  EXPECT_EQ(d.stream, "copy");
  EXPECT_EQ(d.partition_key, KeySource::kSource);
  EXPECT_FALSE(d.ordered);

  const auto f =
      SettingsOf<emitter::KinesisSinkConfig>(
          ParseOk(head + "stream = \"copy\"\npartition_key = \"field\"\npartition_key_field = "
                         "\"user.id\"\nordered = true\n")
              .pipelines[0]
              .emitter)
          .records;
  EXPECT_EQ(f.partition_key, KeySource::kField);
  ASSERT_TRUE(f.partition_key_field);
  EXPECT_EQ(f.partition_key_field->text(), "user.id");
  EXPECT_TRUE(f.ordered);

  // 256 characters, one of them beyond the BMP (two UTF-16 units).
  const std::string longest = std::string(254, 'k') + "\xF0\x9F\x99\x82";
  const auto c = SettingsOf<emitter::KinesisSinkConfig>(
      ParseOk(head + "stream = \"copy\"\npartition_key = \"constant\"\n" +
              "partition_key_value = \"" + longest + "\"\n")
          .pipelines[0]
          .emitter);
  EXPECT_EQ(c.records.partition_key, KeySource::kConstant);
  EXPECT_EQ(c.records.partition_key_value, longest);
  EXPECT_TRUE(c.region.empty());
  EXPECT_TRUE(c.endpoint.empty());
}

// A copy of a stream in another region (or behind another endpoint) may keep
// the source stream's name: it is another stream.
TEST(ParseConfigTest, KinesisEmitterElsewhere) {
  const std::string head(kKinesisHead);
  const auto r = SettingsOf<emitter::KinesisSinkConfig>(
      ParseOk(head + "stream = \"events\"\nregion = \"eu-west-1\"\n").pipelines[0].emitter);
  EXPECT_EQ(r.records.stream, "events");
  EXPECT_EQ(r.region, "eu-west-1");
  const auto e = SettingsOf<emitter::KinesisSinkConfig>(
      ParseOk(head + "stream = \"events\"\nendpoint = \"http://127.0.0.1:4567\"\n")
          .pipelines[0]
          .emitter);
  EXPECT_EQ(e.endpoint, "http://127.0.0.1:4567");
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\nregion = \"EU West\"\n"),
            One(7, "pipeline[0].emitter.region",
                "must be a region name of lowercase letters, digits and '-', e.g. \"us-east-1\""));
  const auto bad_url = ProblemsOf(head + "stream = \"c\"\nendpoint = \"127.0.0.1:4567\"\n");
  ASSERT_EQ(bad_url.size(), 1u);
  EXPECT_EQ(std::get<1>(bad_url[0]), "pipeline[0].emitter.endpoint");
}

// A sink may write as a role of its own, e.g. into another account.
TEST(ParseConfigTest, SinksWriteAsARoleOfTheirOwn) {
  const std::string head(kKinesisHead);
  const auto k = SettingsOf<emitter::KinesisSinkConfig>(
      ParseOk(head + "stream = \"copy\"\nrole_arn = \"arn:aws:iam::210987654321:role/w\"\n"
                     "external_id = \"e-1\"\n")
          .pipelines[0]
          .emitter);
  EXPECT_EQ(k.role.arn, "arn:aws:iam::210987654321:role/w");
  EXPECT_EQ(k.role.external_id, "e-1");
  const auto s = SettingsOf<emitter::S3SinkConfig>(
      ParseOk("[[pipeline]]\nname = \"p\"\nstream = \"events\"\n[pipeline.emitter]\n"
              "type = \"s3\"\nbucket = \"archive\"\n"
              "role_arn = \"arn:aws:iam::210987654321:role/a\"\n")
          .pipelines[0]
          .emitter);
  EXPECT_EQ(s.role.arn, "arn:aws:iam::210987654321:role/a");
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\nrole_session_name = \"x y\"\n"),
            One(7, "pipeline[0].emitter.role_session_name",
                "only applies with role_arn; set the role to assume, or remove it"));
}

TEST(ParseConfigTest, DynamoDbEmitterElsewhere) {
  const auto d = SettingsOf<emitter::DynamoDbSinkConfig>(
      ParseOk("[[pipeline]]\nname = \"p\"\nstream = \"events\"\n[pipeline.emitter]\ntype = "
              "\"dynamodb\"\ntable = \"items\"\nhash_key = \"id\"\nregion = \"us-west-2\"\n"
              "endpoint = \"https://dynamodb.us-west-2.amazonaws.com\"\n")
          .pipelines[0]
          .emitter);
  EXPECT_EQ(d.region, "us-west-2");
  EXPECT_EQ(d.endpoint, "https://dynamodb.us-west-2.amazonaws.com");
}

TEST(ParseConfigErrorTest, KinesisEmitterProblems) {
  const std::string head(kKinesisHead);
  EXPECT_EQ(ProblemsOf(head), One(4, "pipeline[0].emitter.stream",
                                  "missing required key 'stream' in [pipeline.emitter]"));
  EXPECT_EQ(ProblemsOf(head + "stream = \"a/b\"\n"),
            One(6, "pipeline[0].emitter.stream",
                "must be a Kinesis stream name: 1 to 128 letters, digits, '_', '.' or '-'"));
  // Putting on the stream it reads would feed the pipeline its own output.
  EXPECT_EQ(ProblemsOf(head + "stream = \"events\"\n"),
            One(6, "pipeline[0].emitter.stream",
                "must differ from the pipeline's own stream: the pipeline would read the records "
                "it puts back and put them again, without end"));
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\npartition_key = \"feild\"\n" +
                       "partition_key_field = \"id\"\n"),
            One(7, "pipeline[0].emitter.partition_key",
                "unknown partition key source 'feild' (known: source, field, constant); did you "
                "mean 'field'?"));
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\npartition_key = \"field\"\n"),
            One(4, "pipeline[0].emitter.partition_key_field",
                "partition_key = \"field\" needs partition_key_field = \"user.id\", the dotted "
                "path of the field of each JSON record that holds its partition key"));
  const auto bad_path = ProblemsOf(
      head + "stream = \"c\"\npartition_key = \"field\"\npartition_key_field = \"a..b\"\n");
  ASSERT_EQ(bad_path.size(), 1u);
  EXPECT_EQ(std::get<0>(bad_path[0]), 8);
  EXPECT_EQ(std::get<1>(bad_path[0]), "pipeline[0].emitter.partition_key_field");
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\npartition_key = \"field\"\n" +
                       "partition_key_field = \"\"\n"),
            One(8, "pipeline[0].emitter.partition_key_field",
                "field path is empty; name a field, e.g. \"type\" or \"user.id\""));
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\npartition_key_field = \"id\"\n"),
            One(7, "pipeline[0].emitter.partition_key_field",
                "'partition_key_field' is only used with partition_key = \"field\""));
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\npartition_key = \"constant\"\n"),
            One(4, "pipeline[0].emitter.partition_key_value",
                "partition_key = \"constant\" needs partition_key_value = \"...\", the partition "
                "key of every record"));
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\npartition_key = \"constant\"\n" +
                       "partition_key_value = \"" + std::string(255, 'k') + "\xF0\x9F\x99\x82\"\n"),
            One(8, "pipeline[0].emitter.partition_key_value",
                "must have 1 to 256 characters, as Kinesis partition keys do"));
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\npartition_key = \"constant\"\n" +
                       "partition_key_value = \"\"\n"),
            One(8, "pipeline[0].emitter.partition_key_value",
                "must have 1 to 256 characters, as Kinesis partition keys do"));
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\npartition_key_value = \"k\"\n"),
            One(7, "pipeline[0].emitter.partition_key_value",
                "'partition_key_value' is only used with partition_key = \"constant\""));
  EXPECT_EQ(
      ProblemsOf(head + "stream = \"c\"\nordered = \"yes\"\n"),
      One(7, "pipeline[0].emitter.ordered", "expected a boolean (true or false), got a string"));
  EXPECT_EQ(ProblemsOf(head + "stream = \"c\"\nexplicit_hash_key = \"1\"\n"),
            One(7, "pipeline[0].emitter.explicit_hash_key",
                "unknown key 'explicit_hash_key' in [pipeline.emitter]"));
}

TEST(ParseConfigTest, S3ManifestEmitter) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"events\"\n[pipeline.emitter]\n"
      "type = \"s3_manifest\"\nbucket = \"bkt\"\n";
  const Config config = ParseOk(head +
                                "manifest_stream = \"events-manifest\"\nmanifest_partition_key = "
                                "\"k\"\ncompression = \"gzip\"\n");
  EXPECT_EQ(config.pipelines[0].emitter.type, "s3_manifest");
  const auto e = SettingsOf<emitter::S3ManifestSinkConfig>(config.pipelines[0].emitter);
  EXPECT_EQ(e.objects.bucket, "bkt");
  EXPECT_EQ(e.manifest_stream, "events-manifest");
  EXPECT_EQ(e.manifest_partition_key, "k");
  EXPECT_EQ(e.objects.compression, Compression::kGzip);
  const auto d = SettingsOf<emitter::S3ManifestSinkConfig>(
      ParseOk(head + "manifest_stream = \"m\"\n").pipelines[0].emitter);
  EXPECT_EQ(d.manifest_partition_key, "");
}

TEST(ParseConfigErrorTest, S3ManifestEmitterProblems) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"events\"\n[pipeline.emitter]\n"
      "type = \"s3_manifest\"\nbucket = \"bkt\"\n";
  EXPECT_EQ(ProblemsOf(head), One(4, "pipeline[0].emitter.manifest_stream",
                                  "missing required key 'manifest_stream' in [pipeline.emitter]"));
  EXPECT_EQ(ProblemsOf(head + "manifest_stream = \"a b\"\n"),
            One(7, "pipeline[0].emitter.manifest_stream",
                "must be a Kinesis stream name: 1 to 128 letters, digits, '_', '.' or '-'"));
  EXPECT_EQ(ProblemsOf(head + "manifest_stream = \"m\"\nmanifest_partition_key = \"" +
                       std::string(257, 'k') + "\"\n"),
            One(8, "pipeline[0].emitter.manifest_partition_key", "must be at most 256 characters"));
  const auto loop = ProblemsOf(head + "manifest_stream = \"events\"\n");
  ASSERT_EQ(loop.size(), 1u);
  EXPECT_EQ(std::get<0>(loop[0]), 7);
  EXPECT_EQ(std::get<1>(loop[0]), "pipeline[0].emitter.manifest_stream");
  // The manifest keys are not for plain S3 pipelines.
  EXPECT_EQ(ProblemsOf("[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\n"
                       "type = \"s3\"\nbucket = \"bkt\"\nmanifest_stream = \"m\"\n"),
            One(7, "pipeline[0].emitter.manifest_stream",
                "unknown key 'manifest_stream' in [pipeline.emitter]"));
}

// Lines 1-8; the redshift keys under test start on line 9.
constexpr std::string_view kRedshift = R"toml([[pipeline]]
name = "p"
stream = "events-manifest"
[pipeline.emitter]
type = "redshift"
url = "postgresql://loader:pw@db.example.com:5439/dev"
table = "analytics.events"
bucket = "bkt"
)toml";

std::string Redshift(std::string_view rest) { return std::string(kRedshift) + std::string(rest); }

emitter::RedshiftSettings LoadOf(const Config& config) {
  return SettingsOf<emitter::RedshiftSinkConfig>(config.pipelines[0].emitter).load;
}

TEST(ParseConfigErrorTest, RedshiftKeysGoOnlyOverAVerifiedConnection) {
  auto config = [](std::string_view url, std::string_view rest) {
    return "[[pipeline]]\nname = \"p\"\nstream = \"m\"\n[pipeline.emitter]\n"
           "type = \"redshift\"\nurl = \"" +
           std::string(url) + "\"\ntable = \"t\"\nbucket = \"bkt\"\n" + std::string(rest);
  };
  const std::string weak = "postgresql://loader@db.example.com:5439/dev?sslmode=require";
  const auto problems = ProblemsOf(config(weak, ""));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(std::get<1>(problems[0]), "pipeline[0].emitter.iam_role");
  EXPECT_NE(std::get<2>(problems[0]).find("does not verify the server (sslmode require)"),
            std::string::npos)
      << std::get<2>(problems[0]);
  // A role, a verified connection (the default off this machine), this
  // machine, or a load that sends no keys: nothing to say.
  ParseOk(config(weak, "iam_role = \"arn:aws:iam::123456789012:role/copy\"\n"));
  ParseOk(config("postgresql://loader@db.example.com:5439/dev", ""));
  ParseOk(config("postgresql://loader@127.0.0.1:5439/dev?sslmode=disable", ""));
  ParseOk(config(weak, "load_target = \"postgres\"\ncopy_format = \"csv\"\n"));
}

TEST(ParseConfigTest, RedshiftEmitterDefaults) {
  const Config config = ParseOk(Redshift(""));
  EXPECT_EQ(config.pipelines[0].emitter.type, "redshift");
  const emitter::RedshiftSettings e = LoadOf(config);
  EXPECT_EQ(e.url, "postgresql://loader:pw@db.example.com:5439/dev");
  EXPECT_EQ(e.table, "analytics.events");
  EXPECT_EQ(e.bucket, "bkt");
  EXPECT_TRUE(e.columns.empty());
  EXPECT_EQ(e.file_table, "kc_loaded_files");
  EXPECT_EQ(e.manifest_prefix, "manifests/");
  EXPECT_EQ(e.copy_format, emitter::CopyFormat::kJson);
  EXPECT_EQ(e.compression, Compression::kNone);
  EXPECT_EQ(e.delimiter, '|');
  EXPECT_EQ(e.iam_role, "");
  EXPECT_EQ(e.copy_region, "");
  EXPECT_EQ(e.load_mode, emitter::LoadMode::kManifest);
  EXPECT_EQ(e.load_target, emitter::LoadTarget::kRedshift);
}

TEST(ParseConfigTest, RedshiftEmitterEveryKey) {
  const emitter::RedshiftSettings e = LoadOf(
      ParseOk(Redshift("columns = [\"id\", \"user_name\"]\nfile_table = \"ops.loaded\"\n"
                       "manifest_prefix = \"m/\"\ncopy_format = \"delimited\"\n"
                       "delimiter = \"\\t\"\ncompression = \"zstd\"\n"
                       "iam_role = \"arn:aws:iam::123456789012:role/copy\"\n"
                       "region = \"eu-west-1\"\nmode = \"basic\"\nload_target = \"postgres\"\n"
                       "allowed_buckets = [\"archive\", \"old.logs\"]\nkey_prefix = \"events/\"\n"
                       "max_object_size = \"64MiB\"\nmax_loaded_size = \"1GiB\"\n")));
  EXPECT_EQ(e.columns, (std::vector<std::string>{"id", "user_name"}));
  EXPECT_EQ(e.allowed_buckets, (std::vector<std::string>{"archive", "old.logs"}));
  EXPECT_EQ(e.key_prefix, "events/");
  EXPECT_EQ(e.max_object_size, 64ull << 20);
  EXPECT_EQ(e.max_loaded_size, 1ull << 30);
  EXPECT_EQ(e.file_table, "ops.loaded");
  EXPECT_EQ(e.manifest_prefix, "m/");
  EXPECT_EQ(e.copy_format, emitter::CopyFormat::kDelimited);
  EXPECT_EQ(e.delimiter, '\t');
  EXPECT_EQ(e.compression, Compression::kZstd);
  EXPECT_EQ(e.iam_role, "arn:aws:iam::123456789012:role/copy");
  EXPECT_EQ(e.copy_region, "eu-west-1");
  EXPECT_EQ(e.load_mode, emitter::LoadMode::kBasic);
  EXPECT_EQ(e.load_target, emitter::LoadTarget::kPostgres);
  const emitter::RedshiftSettings j = LoadOf(
      ParseOk(Redshift("copy_format = \"jsonpaths\"\njsonpaths = \"s3://bkt/paths.json\"\n")));
  EXPECT_EQ(j.copy_format, emitter::CopyFormat::kJsonPaths);
  EXPECT_EQ(j.jsonpaths, "s3://bkt/paths.json");
  EXPECT_EQ(LoadOf(ParseOk(Redshift("copy_format = \"csv\"\n"))).copy_format,
            emitter::CopyFormat::kCsv);
}

TEST(ParseConfigErrorTest, RedshiftEmitterProblems) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"m\"\n[pipeline.emitter]\ntype = \"redshift\"\n";
  EXPECT_EQ(
      ProblemsOf(head),
      (std::vector<Problem>{
          {4, "pipeline[0].emitter.url", "missing required key 'url' in [pipeline.emitter]"},
          {4, "pipeline[0].emitter.table", "missing required key 'table' in [pipeline.emitter]"},
          {4, "pipeline[0].emitter.bucket", "missing required key 'bucket' in [pipeline.emitter]"},
      }));
  EXPECT_EQ(ProblemsOf(Redshift("copy_format = \"parquet\"\n")),
            One(9, "pipeline[0].emitter.copy_format",
                "unknown copy format 'parquet' (known: json, jsonpaths, csv, delimited)"));
  EXPECT_EQ(ProblemsOf(Redshift("copy_format = \"jsonpaths\"\n")),
            One(4, "pipeline[0].emitter.jsonpaths",
                "missing required key 'jsonpaths' in [pipeline.emitter]"));
  EXPECT_EQ(ProblemsOf(Redshift("copy_format = \"jsonpaths\"\njsonpaths = \"paths.json\"\n")),
            One(10, "pipeline[0].emitter.jsonpaths",
                "must be the s3:// URL of a JSONPaths file, e.g. "
                "\"s3://my-bucket/jsonpaths/events.json\""));
  EXPECT_EQ(ProblemsOf(Redshift("jsonpaths = \"s3://b/p.json\"\n")),
            One(9, "pipeline[0].emitter.jsonpaths",
                "'jsonpaths' is only used with copy_format = \"jsonpaths\""));
  EXPECT_EQ(ProblemsOf(Redshift("copy_format = \"csv\"\ndelimiter = \";\"\n")),
            One(10, "pipeline[0].emitter.delimiter",
                "'delimiter' is only used with copy_format = \"delimited\""));
  for (const char* bad : {"ab", "x", "\\\\", "", "é"}) {
    EXPECT_EQ(ProblemsOf(Redshift("copy_format = \"delimited\"\ndelimiter = \"" + std::string(bad) +
                                  "\"\n")),
              One(10, "pipeline[0].emitter.delimiter",
                  "must be one ASCII character other than a letter, a digit, '\\', '.', CR or "
                  "LF, e.g. \"|\", \",\" or \"\\t\""))
        << bad;
  }
  EXPECT_EQ(ProblemsOf(Redshift("columns = [\"id\", \"a.b\"]\n")),
            One(9, "pipeline[0].emitter.columns",
                "must be a column name: letters, digits and '_', not starting with a digit, at "
                "most 63 characters"));
  EXPECT_EQ(ProblemsOf(Redshift("key_prefix = \"/events/\"\n")),
            One(9, "pipeline[0].emitter.key_prefix",
                "must not start with '/': it is the start of a key in the bucket, e.g. "
                "\"events/\""));
  EXPECT_EQ(ProblemsOf(Redshift("allowed_buckets = [\"Not_A_Bucket\"]\n")),
            One(9, "pipeline[0].emitter.allowed_buckets",
                "must list S3 bucket names: 3 to 63 lowercase letters, digits, '.' and '-' each"));
  EXPECT_EQ(ProblemsOf(Redshift("columns = []\n")),
            One(9, "pipeline[0].emitter.columns",
                "must name at least one column; leave the key out to load every column"));
  EXPECT_EQ(ProblemsOf(Redshift("file_table = \"bad-name\"\n")),
            One(9, "pipeline[0].emitter.file_table",
                "must be a table name, optionally with its schema: letters, digits and '_', not "
                "starting with a digit, at most 63 characters per part, e.g. \"events\" or "
                "\"analytics.events\""));
  EXPECT_EQ(ProblemsOf(Redshift("manifest_prefix = \"/m/\"\n")),
            One(9, "pipeline[0].emitter.manifest_prefix",
                "must not start with '/': it is the start of a key in the bucket, e.g. "
                "\"manifests/\""));
  // The message does not repeat the value.
  EXPECT_EQ(ProblemsOf(Redshift("iam_role = \"my-secret-role\"\n")),
            One(9, "pipeline[0].emitter.iam_role",
                "must be the ARN of an IAM role, e.g. "
                "\"arn:aws:iam::123456789012:role/redshift-copy\""));
  EXPECT_EQ(ProblemsOf(Redshift("region = \"EU West\"\n")),
            One(9, "pipeline[0].emitter.region",
                "must be a region name of lowercase letters, digits and '-', e.g. "
                "\"us-east-1\""));
  EXPECT_EQ(ProblemsOf(Redshift("mode = \"manifests\"\n")),
            One(9, "pipeline[0].emitter.mode",
                "unknown load mode 'manifests' (known: manifest, basic); did you mean "
                "'manifest'?"));
  EXPECT_EQ(ProblemsOf(Redshift("load_target = \"mysql\"\n")),
            One(9, "pipeline[0].emitter.load_target",
                "unknown load target 'mysql' (known: redshift, postgres)"));
  // JSON needs Redshift: on load_target when the format is the default,
  // on copy_format when it was written.
  const std::string json_needs_redshift =
      "load_target = \"postgres\" needs copy_format = \"csv\" or \"delimited\": COPY of JSON "
      "(copy_format \"json\", the default, and \"jsonpaths\") needs Redshift";
  EXPECT_EQ(ProblemsOf(Redshift("load_target = \"postgres\"\n")),
            One(9, "pipeline[0].emitter.load_target", json_needs_redshift));
  EXPECT_EQ(ProblemsOf(Redshift("copy_format = \"json\"\nload_target = \"postgres\"\n")),
            One(9, "pipeline[0].emitter.copy_format", json_needs_redshift));
  // Keys of other emitters are unknown here, and the url is never echoed.
  EXPECT_EQ(ProblemsOf(Redshift("column = \"data\"\nmanifest_stream = \"m\"\n")),
            (std::vector<Problem>{
                {9, "pipeline[0].emitter.column",
                 "unknown key 'column' in [pipeline.emitter]; did you mean 'columns'?"},
                {10, "pipeline[0].emitter.manifest_stream",
                 "unknown key 'manifest_stream' in [pipeline.emitter]; did you mean "
                 "'manifest_prefix'?"},
            }));
  const auto bad_url = ProblemsOf(
      "[[pipeline]]\nname = \"p\"\nstream = \"m\"\n[pipeline.emitter]\ntype = \"redshift\"\n"
      "url = \"postgresql://u:hunter2@db:5439/dev?bogus_option=1\"\ntable = \"t\"\n"
      "bucket = \"bkt\"\n");
  ASSERT_EQ(bad_url.size(), 1u);
  EXPECT_EQ(std::get<1>(bad_url[0]), "pipeline[0].emitter.url");
  EXPECT_EQ(std::get<2>(bad_url[0]).find("hunter2"), std::string::npos);
}

TEST(ParseConfigTest, DynamoDbEmitter) {
  const std::string head = "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\n";
  Config config = ParseOk(head +
                          "type = \"dynamodb\"\ntable = \"orders\"\nhash_key = \"id\"\n"
                          "range_key = \"ts\"\n[pipeline.emitter.attribute_types]\nprice = \"N\"\n"
                          "\"a.b\" = \"BOOL\"\n");
  EXPECT_EQ(config.pipelines[0].emitter.type, "dynamodb");
  const auto e = SettingsOf<emitter::DynamoDbSinkConfig>(config.pipelines[0].emitter).items;
  EXPECT_EQ(e.table, "orders");
  EXPECT_EQ(e.hash_key, "id");
  EXPECT_EQ(e.range_key, "ts");
  // Parsed once, here.
  EXPECT_EQ(e.declared.size(), 2u);
  EXPECT_EQ(e.declared.at("price"), dynamodb::AttributeType::kN);
  EXPECT_EQ(e.declared.at("a.b"), dynamodb::AttributeType::kBool);

  EXPECT_EQ(
      ProblemsOf(head + "type = \"dynamodb\"\n"),
      (std::vector<Problem>{
          {4, "pipeline[0].emitter.table", "missing required key 'table' in [pipeline.emitter]"},
          {4, "pipeline[0].emitter.hash_key",
           "missing required key 'hash_key' in [pipeline.emitter]"},
      }));
  EXPECT_EQ(
      ProblemsOf(head + "type = \"dynamodb\"\ntable = \"t\"\nhash_key = \"id\"\n"
                        "range_key = \"id\"\n[pipeline.emitter.attribute_types]\nprice = \"M\"\n"
                        "n = 5\n"),
      (std::vector<Problem>{
          {6, "pipeline[0].emitter.table", "must be 3 to 255 characters long"},
          {8, "pipeline[0].emitter.range_key", "must differ from hash_key"},
          {10, "pipeline[0].emitter.attribute_types.price",
           "unknown attribute type 'M' (known: S, N, B, BOOL); did you mean 'S'?"},
          {11, "pipeline[0].emitter.attribute_types.n",
           "expected \"S\", \"N\", \"B\" or \"BOOL\", got an integer"},
      }));
}

TEST(ParseConfigTest, DeadLetters) {
  const std::string head = "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n";
  const std::string emitter = "[pipeline.emitter]\ntype = \"stdout\"\n";
  Config none = ParseOk(head + emitter);
  EXPECT_EQ(none.pipelines[0].on_error, OnError::kStop);
  EXPECT_EQ(none.pipelines[0].dead_letter.type, "");

  Config file =
      ParseOk(head + emitter + "[pipeline.dead_letter]\ntype = \"file\"\ndirectory = \"dlq\"\n");
  EXPECT_EQ(file.pipelines[0].on_error, OnError::kDeadLetter);
  EXPECT_EQ(file.pipelines[0].dead_letter.type, "file");
  EXPECT_EQ(SettingsOf<dead_letter::FileDeadLetterConfig>(file.pipelines[0].dead_letter).directory,
            "dlq");
  Config stop = ParseOk(
      head + "on_error = \"stop\"\n" + emitter +
      "[pipeline.dead_letter]\ntype = \"s3\"\nbucket = \"dead-letters\"\nprefix = \"dl/\"\n");
  EXPECT_EQ(stop.pipelines[0].on_error, OnError::kStop);
  const auto s3 = SettingsOf<dead_letter::S3DeadLetterConfig>(stop.pipelines[0].dead_letter);
  EXPECT_EQ(s3.bucket, "dead-letters");
  EXPECT_EQ(s3.prefix, "dl/");
  EXPECT_EQ(
      SettingsOf<dead_letter::KinesisDeadLetterConfig>(
          ParseOk(head + emitter + "[pipeline.dead_letter]\ntype = \"kinesis\"\nstream = \"dlq\"\n")
              .pipelines[0]
              .dead_letter)
          .stream,
      "dlq");

  EXPECT_EQ(ProblemsOf(head + "on_error = \"dead_letter\"\n" + emitter),
            One(4, "pipeline[0].on_error",
                "on_error = \"dead_letter\" needs a destination: add a [pipeline.dead_letter] "
                "table with type = \"file\", \"s3\" or \"kinesis\""));
  EXPECT_EQ(
      ProblemsOf(head + emitter + "[pipeline.dead_letter]\ntype = \"kinesis\"\nstream = \"s\"\n"),
      One(8, "pipeline[0].dead_letter.stream",
          "must differ from the pipeline's own stream: dead letters would be read back as "
          "records"));
  EXPECT_EQ(ProblemsOf(head + emitter + "[pipeline.dead_letter]\ntype = \"file\"\n"),
            One(6, "pipeline[0].dead_letter.directory",
                "missing required key 'directory' in [pipeline.dead_letter]"));
  EXPECT_EQ(
      ProblemsOf(head + emitter +
                 "[pipeline.dead_letter]\ntype = \"file\"\ndirectory = \"d\"\nbucket = \"b\"\n"),
      One(9, "pipeline[0].dead_letter.bucket", "unknown key 'bucket' in [pipeline.dead_letter]"));
}

TEST(ParseConfigTest, DeadLetterDestinationsAreChecked) {
  const std::string head = "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n";
  EXPECT_EQ(
      ProblemsOf(head +
                 "[pipeline.emitter]\ntype = \"stdout\"\n"
                 "[pipeline.dead_letter]\ntype = \"s3\"\nbucket = \"dlq\"\nprefix = \"/x/\"\n"),
      One(9, "pipeline[0].dead_letter.prefix",
          "must not start with '/': keys are <prefix><pipeline>/<stream>/<shard>/..., and "
          "the prefix is used as written (end it with '/' for a folder)"));
  EXPECT_EQ(ProblemsOf(head + "[pipeline.emitter]\ntype = \"kinesis\"\nstream = \"out\"\n"
                              "[pipeline.dead_letter]\ntype = \"kinesis\"\nstream = \"out\"\n"),
            One(6, "pipeline[0].emitter.stream",
                "must differ from the dead-letter stream: dead letters and delivered records "
                "would be mixed on one stream"));
}

TEST(ParseConfigErrorTest, EmitterTypes) {
  const std::string head = "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n[pipeline.emitter]\n";
  EXPECT_EQ(ProblemsOf(head + "type = \"fiel\"\ndirectory = \"d\"\n"),
            One(5, "pipeline[0].emitter.type",
                "unknown emitter type 'fiel' (known: file, stdout, s3, s3_manifest, kinesis, "
                "postgres, redshift, dynamodb); did you mean 'file'?"));
  // Keys of a type that does not exist are not judged.
  EXPECT_EQ(ProblemsOf(head + "type = \"kafka\"\nbucket = \"b\"\n"),
            One(5, "pipeline[0].emitter.type",
                "unknown emitter type 'kafka' (known: file, stdout, s3, s3_manifest, kinesis, "
                "postgres, redshift, dynamodb)"));
  EXPECT_EQ(
      ProblemsOf(head + "type = \"stdout\"\ndirectory = \"d\"\n"),
      One(6, "pipeline[0].emitter.directory", "'directory' is not used by emitter type 'stdout'"));
  EXPECT_EQ(ProblemsOf(head + "type = \"stdout\"\nformat = \"line\"\n"),
            One(6, "pipeline[0].emitter.format",
                "unknown format 'line' (known: lines, raw, envelope, csv); did you mean 'lines'?"));
}

TEST(ParseConfigErrorTest, TransformerAndFilterTypes) {
  EXPECT_EQ(
      ProblemsOf(WithPipeline("[pipeline.transformer]\ntype = \"xml\"\n"
                              "[pipeline.filter]\ntype = \"allpass\"\nwhere = 1\n")),
      (std::vector<Problem>{
          {7, "pipeline[0].transformer.type",
           "unknown transformer type 'xml' (known: string, json)"},
          {9, "pipeline[0].filter.type",
           "unknown filter type 'allpass' (known: all_pass, json_field); did you mean 'all_pass'?"},
          {10, "pipeline[0].filter.where", "unknown key 'where' in [pipeline.filter]"},
      }));
}

TEST(ParseConfigTest, TransformerAsTableOrAsString) {
  const std::string head = "[[pipeline]]\nname = \"p\"\nstream = \"s\"\n";
  const std::string emitter = "[pipeline.emitter]\ntype = \"stdout\"\n";
  EXPECT_EQ(ParseOk(head + "transformer = \"json\"\n" + emitter).pipelines[0].transformer.type,
            "json");
  EXPECT_EQ(ParseOk(head + emitter + "[pipeline.transformer]\ntype = \"json\"\n")
                .pipelines[0]
                .transformer.type,
            "json");
  EXPECT_EQ(ProblemsOf(head + "transformer = \"jsn\"\n" + emitter),
            One(4, "pipeline[0].transformer",
                "unknown transformer type 'jsn' (known: string, json); did you mean 'json'?"));
}

TEST(ParseConfigTest, JsonFieldFilter) {
  PipelineConfig p =
      ParseOk(WithPipeline("[pipeline.filter]\ntype = \"json_field\"\nfield = \"event.type\"\n"
                           "equals = [\"click\", 3, true]\n"))
          .pipelines[0];
  EXPECT_EQ(p.filter.type, "json_field");
  auto filter = dynamic_cast<const transform::JsonFieldFilterConfig*>(p.filter.settings.get());
  ASSERT_NE(filter, nullptr);
  EXPECT_EQ(filter->field.text(), "event.type");
  EXPECT_EQ(filter->values, (std::vector<std::string>{"click", "3", "true"}));
  EXPECT_EQ(filter->mode, transform::JsonFieldFilter::Mode::kKeepMatches);
  p = ParseOk(WithPipeline("[pipeline.filter]\ntype = \"json_field\"\nfield = \"t\"\n"
                           "not_equals = [\"heartbeat\"]\n"))
          .pipelines[0];
  filter = dynamic_cast<const transform::JsonFieldFilterConfig*>(p.filter.settings.get());
  ASSERT_NE(filter, nullptr);
  EXPECT_EQ(filter->values, (std::vector<std::string>{"heartbeat"}));
  EXPECT_EQ(filter->mode, transform::JsonFieldFilter::Mode::kDropMatches);
}

TEST(ParseConfigErrorTest, JsonFieldFilterProblems) {
  const std::string table = "[pipeline.filter]\ntype = \"json_field\"\n";
  const std::string need_one =
      "filter type 'json_field' needs exactly one of equals = [...] (keep the records whose "
      "field has one of the values) and not_equals = [...] (drop them)";
  EXPECT_EQ(ProblemsOf(WithPipeline(table + "field = \"t\"\n")),
            One(6, "pipeline[0].filter.equals", need_one));
  EXPECT_EQ(
      ProblemsOf(WithPipeline(table + "field = \"t\"\nequals = [\"a\"]\nnot_equals = [\"b\"]\n")),
      One(10, "pipeline[0].filter.not_equals", need_one));
  EXPECT_EQ(
      ProblemsOf(WithPipeline(table + "equals = [\"a\"]\n")),
      One(6, "pipeline[0].filter.field", "missing required key 'field' in [pipeline.filter]"));
  EXPECT_EQ(ProblemsOf(WithPipeline(table + "field = \"a.\"\nequals = [\"a\"]\n")),
            One(8, "pipeline[0].filter.field",
                "field path \"a.\": has an empty field name; separate names with single dots, "
                "e.g. \"user.id\""));
  EXPECT_EQ(ProblemsOf(WithPipeline(table + "field = \"t\"\nequals = []\n")),
            One(9, "pipeline[0].filter.equals",
                "must list at least one value, e.g. [\"click\", \"view\"]"));
  EXPECT_EQ(ProblemsOf(WithPipeline(table + "field = \"t\"\nequals = \"click\"\n")),
            One(9, "pipeline[0].filter.equals",
                "expected an array of values, e.g. [\"click\", \"view\"], got a string"));
  EXPECT_EQ(ProblemsOf(WithPipeline(table + "field = \"t\"\nequals = [1.5]\n")),
            One(9, "pipeline[0].filter.equals",
                "expected strings, integers or booleans, got a floating-point number; numbers "
                "are compared by their JSON text, so write other numbers as strings, e.g. "
                "\"1.5\""));
  // Settings of json_field belong to that type only.
  EXPECT_EQ(ProblemsOf(WithPipeline("[pipeline.filter]\ntype = \"all_pass\"\nfield = \"t\"\n")),
            One(8, "pipeline[0].filter.field", "unknown key 'field' in [pipeline.filter]"));
  EXPECT_EQ(ProblemsOf("[[pipeline]]\nname = \"p\"\nstream = \"s\"\nfilter = \"json_field\"\n"
                       "[pipeline.emitter]\ntype = \"stdout\"\n"),
            One(4, "pipeline[0].filter",
                "filter type 'json_field' needs settings: write a [pipeline.filter] table with "
                "type = \"json_field\", field and equals or not_equals"));
}

TEST(ParseConfigErrorTest, CheckpointStores) {
  EXPECT_EQ(ProblemsOf(WithPipeline("[checkpoint]\nstore = \"fil\"\n")),
            One(7, "checkpoint.store",
                "unknown checkpoint store 'fil' (known: file, redis, postgres, dynamodb); did you "
                "mean 'file'?"));
  // The DynamoDB table is named by `table` or else by the app, under DynamoDB's rules.
  Config dynamo = ParseOk(WithPipeline("[checkpoint]\nstore = \"dynamodb\"\n"));
  EXPECT_EQ(dynamo.checkpoint.store, "dynamodb");
  EXPECT_EQ(SettingsOf<checkpoint::DynamoDbStoreConfig>(dynamo.checkpoint).table, "");
  EXPECT_EQ(dynamo.checkpoint.app, "kinesis-connect");
  EXPECT_EQ(SettingsOf<checkpoint::DynamoDbStoreConfig>(
                ParseOk(WithPipeline("[checkpoint]\nstore = \"dynamodb\"\ntable = \"kc.leases\"\n"))
                    .checkpoint)
                .table,
            "kc.leases");
  EXPECT_EQ(ProblemsOf(WithPipeline("[checkpoint]\nstore = \"dynamodb\"\ntable = \"a b\"\n")),
            One(8, "checkpoint.table", "must contain only letters, digits, '.', '_' and '-'"));
  EXPECT_EQ(ProblemsOf(WithPipeline("[checkpoint]\nstore = \"dynamodb\"\napp = \"ab\"\n")),
            One(8, "checkpoint.app",
                "names the DynamoDB checkpoint table, so it must be 3 to 255 characters long; or "
                "give the table its own name with table = \"...\""));
  EXPECT_EQ(ParseOk(WithPipeline("[checkpoint]\nstore = \"dynamodb\"\napp = \"ab\"\n"
                                 "table = \"leases\"\n"))
                .checkpoint.app,
            "ab");
  EXPECT_EQ(ProblemsOf(WithPipeline("[checkpoint]\ntable = \"leases\"\n")),
            One(7, "checkpoint.table", "unknown key 'table' in [checkpoint]"));
  EXPECT_EQ(ProblemsOf(WithPipeline("[checkpoint]\napp = \"a:b\"\npath = \"\"\n")),
            (std::vector<Problem>{
                {7, "checkpoint.app", "must contain only letters, digits, '.', '_' and '-'"},
                {8, "checkpoint.path", "must not be empty; leave the key out to use the default"},
            }));
}

// Lines 1-3: a Redis checkpoint store that pipeline tests append to.
constexpr std::string_view kRedisStore = R"toml([checkpoint]
store = "redis"
app = "billing"
)toml";

TEST(ParseConfigTest, RedisCheckpointStore) {
  Config config =
      ParseOk(std::string(kRedisStore) + R"toml(url = "redis://:s%40cret@redis.local:6380/2"
[[pipeline]]
name = "to-files"
stream = "events"
emitter = { type = "stdout" }
[[pipeline]]
name = "to-s3"
stream = "events"
checkpoint_app = "billing-s3"
emitter = { type = "stdout" }
[[pipeline]]
name = "other-stream"
stream = "audit"
emitter = { type = "stdout" }
)toml");
  EXPECT_EQ(config.checkpoint.store, "redis");
  const checkpoint::RedisUrl& url = SettingsOf<checkpoint::RedisStoreConfig>(config.checkpoint).url;
  EXPECT_EQ(url.Address(), "redis.local:6380");
  EXPECT_EQ(url.password, "s@cret");
  EXPECT_EQ(url.db, 2);
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(config.checkpoint.app, "billing");
  ASSERT_EQ(config.pipelines.size(), 3u);
  EXPECT_EQ(config.pipelines[0].checkpoint_app, "");  // checkpoint.app
  EXPECT_EQ(config.pipelines[1].checkpoint_app, "billing-s3");
  EXPECT_EQ(config.pipelines[2].checkpoint_app, "");

  EXPECT_EQ(SettingsOf<checkpoint::RedisStoreConfig>(
                ParseOk(std::string(kRedisStore) + std::string(kPipeline)).checkpoint)
                .url.Address(),
            "127.0.0.1:6379");
}

TEST(ParseConfigErrorTest, RedisUrlNeverEchoesThePassword) {
  const std::vector<Problem> problems = ProblemsOf(
      std::string(kRedisStore) + "url = \"http://:hunter2@host:6379\"\n" + std::string(kPipeline));
  EXPECT_EQ(problems, One(4, "checkpoint.url",
                          "must start with redis:// or rediss://; the form is "
                          "redis://[user:password@]host[:port][/db] (rediss:// for TLS), e.g. "
                          "\"redis://127.0.0.1:6379/0\""));
  EXPECT_EQ(ProblemsOf(std::string(kRedisStore) + "url = \"redis://:hunter2@host:0\"\n" +
                       std::string(kPipeline)),
            One(4, "checkpoint.url",
                "has a port that is not 1 to 65535; the form is "
                "redis://[user:password@]host[:port][/db] (rediss:// for TLS), e.g. "
                "\"redis://127.0.0.1:6379/0\""));
}

TEST(ParseConfigTest, RedisOverTlsWithAnAuthority) {
  const Config config = ParseOk(
      std::string(kRedisStore) +
      "url = \"rediss://cache.internal:6380\"\nca_file = \"/dev/null\"\n" + std::string(kPipeline));
  const auto& store = SettingsOf<checkpoint::RedisStoreConfig>(config.checkpoint);
  EXPECT_TRUE(store.url.tls);
  EXPECT_EQ(store.url.Address(), "cache.internal:6380");
  EXPECT_EQ(store.ca_file, "/dev/null");
}

TEST(ParseConfigErrorTest, RedisAuthorityWithoutTlsOrUnreadable) {
  EXPECT_EQ(ProblemsOf(std::string(kRedisStore) +
                       "url = \"redis://cache:6379\"\nca_file = \"/dev/null\"\n" +
                       std::string(kPipeline)),
            One(5, "checkpoint.ca_file",
                "is used only with TLS; write the url as rediss://host:port to use it"));
  EXPECT_EQ(ProblemsOf(std::string(kRedisStore) +
                       "url = \"rediss://cache:6379\"\nca_file = \"/nonexistent/ca.pem\"\n" +
                       std::string(kPipeline)),
            One(5, "checkpoint.ca_file",
                "cannot read the file (No such file or directory); name a file of PEM "
                "certificates: the authorities to trust"));
}

TEST(RedisStoreWarning, PlainTextOffThisMachineIsWarnedOf) {
  auto url = [](std::string_view text) { return *checkpoint::ParseRedisUrl(text); };
  EXPECT_EQ(checkpoint::PlainTextWarning(url("redis://127.0.0.1:6379")), "");
  EXPECT_EQ(checkpoint::PlainTextWarning(url("redis://localhost")), "");
  // A name that starts like a loopback address is not one.
  EXPECT_NE(checkpoint::PlainTextWarning(url("redis://127.cache.example")), "");
  EXPECT_EQ(checkpoint::PlainTextWarning(url("rediss://cache.internal")), "");
  EXPECT_EQ(checkpoint::PlainTextWarning(url("redis://cache.internal:6380")),
            "checkpoint store redis at cache.internal:6380 is reached without TLS: checkpoints "
            "cross the network in plain text; use rediss:// if the server has a TLS port");
  const std::string with_password =
      checkpoint::PlainTextWarning(url("redis://:hunter2@cache.internal"));
  EXPECT_NE(with_password.find("checkpoints and the password cross the network"),
            std::string::npos);
  EXPECT_EQ(with_password.find("hunter2"), std::string::npos);
}

TEST(ParseConfigErrorTest, KeysOfAnotherStore) {
  EXPECT_EQ(
      ProblemsOf(R"toml([checkpoint]
url = "redis://127.0.0.1:6379"
[[pipeline]]
name = "p"
stream = "s"
checkpoint_app = "x"
emitter = { type = "stdout" }
)toml"),
      (std::vector<Problem>{
          {2, "checkpoint.url", "'url' is used by checkpoint stores 'redis' and 'postgres' only"},
          {6, "pipeline[0].checkpoint_app",
           "'checkpoint_app' is used by checkpoint store 'redis' only"},
      }));
  EXPECT_EQ(ProblemsOf(std::string(kRedisStore) + "path = \"state\"\n" + std::string(kPipeline)),
            One(4, "checkpoint.path",
                "'path' is not used by checkpoint store 'redis'; it keeps checkpoints at "
                "checkpoint.url"));
}

TEST(ParseConfigErrorTest, TwoPipelinesSharingRedisKeys) {
  EXPECT_EQ(
      ProblemsOf(std::string(kRedisStore) + R"toml([[pipeline]]
name = "a"
stream = "events"
emitter = { type = "stdout" }
[[pipeline]]
name = "b"
stream = "events"
emitter = { type = "stdout" }
[[pipeline]]
name = "c"
stream = "events"
checkpoint_app = "billing"
emitter = { type = "stdout" }
[[pipeline]]
name = "d"
stream = "events"
checkpoint_app = "a:b"
emitter = { type = "stdout" }
)toml"),
      (std::vector<Problem>{
          {8, "pipeline[1].checkpoint_app",
           "pipelines 'a' (pipeline[0], line 4) and 'b' both read stream 'events' with "
           "checkpoint app 'billing' and would share the Redis checkpoint keys; give one "
           "of them its own checkpoint_app = \"...\" in its [[pipeline]]"},
          {15, "pipeline[2].checkpoint_app",
           "pipelines 'a' (pipeline[0], line 4) and 'c' both read stream 'events' with "
           "checkpoint app 'billing' and would share the Redis checkpoint keys; give one "
           "of them its own checkpoint_app = \"...\" in its [[pipeline]]"},
          {20, "pipeline[3].checkpoint_app", "must contain only letters, digits, '.', '_' and '-'"},
      }));
}

TEST(ParseConfigErrorTest, Urls) {
  EXPECT_EQ(ProblemsOf(WithPipeline(R"toml([aws]
endpoint = "127.0.0.1:4567"
[aws.endpoints]
kinesis = "ftp://host"
s3 = "http://"
dynamodb = "http://host:99999"
sts = "https://user:pw@host"
)toml")),
            (std::vector<Problem>{
                {7, "aws.endpoint",
                 "must be a URL starting with http:// or https://, e.g. \"http://127.0.0.1:4567\""},
                {9, "aws.endpoints.kinesis",
                 "must be a URL starting with http:// or https://, e.g. \"http://127.0.0.1:4567\""},
                {10, "aws.endpoints.s3", "has no host"},
                {11, "aws.endpoints.dynamodb", "has a port that is not 1 to 65535"},
                {12, "aws.endpoints.sts",
                 "must not contain user credentials; credentials come from the AWS credential "
                 "chain"},
            }));
}

TEST(ParseConfigErrorTest, PipelineNames) {
  EXPECT_EQ(
      ProblemsOf(R"toml([[pipeline]]
name = "a"
stream = "s"
emitter = { type = "stdout" }
[[pipeline]]
name = "a"
stream = "s"
emitter = { type = "stdout" }
[[pipeline]]
name = "has space"
stream = "s"
emitter = { type = "stdout" }
[[pipeline]]
name = ".."
stream = "bad/stream"
emitter = { type = "stdout" }
)toml"),
      (std::vector<Problem>{
          {6, "pipeline[1].name", "pipeline name 'a' is already used by pipeline[0] (line 1)"},
          {10, "pipeline[2].name", "must contain only letters, digits, '.', '_' and '-'"},
          {14, "pipeline[3].name", "must not be '.' or '..'"},
          {15, "pipeline[3].stream",
           "must be a Kinesis stream name: 1 to 128 letters, digits, '_', '.' or '-'"},
      }));
}

TEST(ParseConfigErrorTest, OutOfRangeValues) {
  // Pipeline keys placed before the emitter table so that they belong to
  // [[pipeline]].
  EXPECT_EQ(
      ProblemsOf(R"toml([[pipeline]]
name = "p"
stream = "s"
records_per_call = 10001
bytes_per_call = "11MiB"
poll_interval = "199ms"
shard_discovery_interval = "999ms"
emitter = { type = "stdout" }
[pipeline.buffer]
max_records = 1000001
max_bytes = "1025MiB"
max_age = "0s"
[[pipeline]]
name = "q"
stream = ""
records_per_call = 0
reader_threads = 0
emit_threads = 1025
buffer = { max_records = 0, max_bytes = 0, max_age = "-1s" }
emitter = { type = "stdout" }
)toml"),
      (std::vector<Problem>{
          {4, "pipeline[0].records_per_call",
           "must be between 1 and 10000, the most one GetRecords call returns"},
          {5, "pipeline[0].bytes_per_call",
           "must be at most 10MiB, the most one GetRecords call returns"},
          {6, "pipeline[0].poll_interval",
           "must be at least 200ms: Kinesis allows 5 GetRecords calls per second per shard"},
          {7, "pipeline[0].shard_discovery_interval", "must be at least 1s"},
          {10, "pipeline[0].buffer.max_records", "must be between 1 and 1000000"},
          {11, "pipeline[0].buffer.max_bytes", "must be at most 1GiB: a buffer is held in memory"},
          {12, "pipeline[0].buffer.max_age", "must be greater than 0"},
          {15, "pipeline[1].stream",
           "must be a Kinesis stream name: 1 to 128 letters, digits, '_', '.' or '-'"},
          {16, "pipeline[1].records_per_call",
           "must be between 1 and 10000, the most one GetRecords call returns"},
          {17, "pipeline[1].reader_threads", "must be between 1 and 1024"},
          {18, "pipeline[1].emit_threads", "must be between 1 and 1024"},
          {19, "pipeline[1].buffer.max_records", "must be between 1 and 1000000"},
          {19, "pipeline[1].buffer.max_bytes", "must be greater than 0"},
          {19, "pipeline[1].buffer.max_age",
           "invalid duration: a duration cannot be negative; e.g. \"250ms\", \"30s\", "
           "\"5m\", \"1h\" or \"1m30s\""},
      }));
}

TEST(ParseConfigErrorTest, BadSizesAndDurationsInsideTheConfig) {
  EXPECT_EQ(ProblemsOf(WithPipeline("[pipeline.buffer]\nmax_bytes = \"5 Mb/s\"\n"
                                    "max_age = \"30\"\n")),
            (std::vector<Problem>{
                {7, "pipeline[0].buffer.max_bytes",
                 "invalid size: a size is a number and a unit, e.g. \"5MiB\", \"512KB\" or "
                 "\"1024\" (bytes)"},
                {8, "pipeline[0].buffer.max_age",
                 "invalid duration: a duration needs a unit (ms, s, m or h); for seconds write "
                 "\"30s\""},
            }));
}

TEST(ParseConfigErrorTest, StartAtProblems) {
  const std::string head =
      "[[pipeline]]\nname = \"p\"\nstream = \"s\"\nemitter = {type=\"stdout\"}\n";
  EXPECT_EQ(ProblemsOf(head + "start_at = \"TRIM_HORIZON\"\n"),
            One(5, "pipeline[0].start_at",
                "expected \"trim_horizon\", \"latest\" or an RFC 3339 timestamp "
                "such as \"2026-01-02T03:04:05Z\"; did you mean "
                "'trim_horizon'?"));
  EXPECT_EQ(ProblemsOf(head + "start_at = \"2026-02-30T00:00:00Z\"\n"),
            One(5, "pipeline[0].start_at", "invalid timestamp: day 30 does not exist in 2026-02"));
  EXPECT_EQ(ProblemsOf(head + "start_at = 2026-01-02T03:04:05\n"),
            One(5, "pipeline[0].start_at",
                "a date-time without a time zone is ambiguous; add \"Z\" for UTC "
                "or an offset such as \"+01:00\""));
  EXPECT_EQ(ProblemsOf(head + "start_at = 2026-01-02\n"),
            One(5, "pipeline[0].start_at", "expected a string or a date-time, got a date"));
}

TEST(ParseConfigErrorTest, PipelineTableShape) {
  EXPECT_EQ(ProblemsOf("[aws]\nregion = \"us-east-1\"\n"),
            One(0, "pipeline", "at least one [[pipeline]] table is required"));
  EXPECT_EQ(ProblemsOf("pipeline = []\n"),
            One(1, "pipeline", "at least one [[pipeline]] table is required"));
  EXPECT_EQ(ProblemsOf("\n[pipeline]\nname = \"p\"\n"),
            One(2, "pipeline", "expected an array of tables ([[pipeline]]), got a table"));
  EXPECT_EQ(ProblemsOf("pipeline = [1, \"x\"]\n"),
            (std::vector<Problem>{
                {1, "pipeline[0]", "expected a table, got an integer"},
                {1, "pipeline[1]", "expected a table, got a string"},
            }));
}

TEST(ParseConfigErrorTest, QuotedAndControlCharacterKeysArePrintable) {
  EXPECT_EQ(
      ProblemsOf(WithPipeline("\"a b\" = 1\n\"x\\ny\" = 2\n")),
      (std::vector<Problem>{
          {6, "pipeline[0].emitter.\"a b\"", "unknown key 'a b' in [pipeline.emitter]"},
          {7, "pipeline[0].emitter.\"x\\x0ay\"", "unknown key 'x\\x0ay' in [pipeline.emitter]"},
      }));
}

TEST(ParseConfigErrorTest, ValuesThatMayBeSecretsAreNotEchoed) {
  const std::string secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY";
  ConfigResult result =
      ParseConfig(WithPipeline("[aws]\nendpoint = \"" + secret + "\"\nprofile = \"\"\nregion = \"" +
                               secret + "\"\n"),
                  "test.toml");
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(result.error().size(), 3u);
  for (const ConfigProblem& p : result.error()) {
    EXPECT_EQ(p.message.find(secret), std::string::npos) << p.message;
  }
}

// --- Many problems at once -----------------------------------------------------

TEST(ParseConfigErrorTest, AllProblemsAreReportedTogetherInLineOrder) {
  EXPECT_EQ(
      ProblemsOf(R"toml([aws]
region = "us-east-1"
verify_tls = 1

[checkpoint]
store = "postgres"

[[pipeline]]
name = "first"
stream = "events"
poll_interval = "100ms"
[pipeline.buffer]
max_recrods = 10
max_bytes = "10XB"
[pipeline.emitter]
type = "file"

[[pipeline]]
name = "first"
[pipeline.emitter]
type = "kafka"
)toml"),
      (std::vector<Problem>{
          {3, "aws.verify_tls", "expected a boolean (true or false), got an integer"},
          {5, "checkpoint.url", "missing required key 'url' in [checkpoint]"},
          {11, "pipeline[0].poll_interval",
           "must be at least 200ms: Kinesis allows 5 GetRecords calls per second per shard"},
          {13, "pipeline[0].buffer.max_recrods",
           "unknown key 'max_recrods' in [pipeline.buffer]; did you mean 'max_records'?"},
          {14, "pipeline[0].buffer.max_bytes",
           "invalid size: unknown size unit 'XB'; use B, KB, MB, GB, TB (powers of 1000) or "
           "KiB, MiB, GiB, TiB (powers of 1024), e.g. \"5MiB\", \"512KB\" or \"1024\" "
           "(bytes)"},
          {15, "pipeline[0].emitter.directory",
           "missing required key 'directory' in [pipeline.emitter]"},
          {18, "pipeline[1].stream", "missing required key 'stream' in [[pipeline]]"},
          {19, "pipeline[1].name", "pipeline name 'first' is already used by pipeline[0] (line 8)"},
          {21, "pipeline[1].emitter.type",
           "unknown emitter type 'kafka' (known: file, stdout, s3, s3_manifest, kinesis, "
           "postgres, redshift, dynamodb)"},
      }));
}

// --- Syntax errors, files, formatting -------------------------------------------

TEST(ParseConfigErrorTest, TomlSyntaxErrorIsOneProblemWithItsLine) {
  const std::vector<Problem> problems = ProblemsOf(WithPipeline("\n[pipeline.buffer\n"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(std::get<0>(problems[0]), 7);
  EXPECT_EQ(std::get<1>(problems[0]), "");
  EXPECT_TRUE(std::get<2>(problems[0]).starts_with("invalid TOML (column "))
      << std::get<2>(problems[0]);

  const std::vector<Problem> redefined = ProblemsOf("a = 1\n\na = 2\n");
  ASSERT_EQ(redefined.size(), 1u);
  EXPECT_EQ(std::get<0>(redefined[0]), 3);
  EXPECT_EQ(std::get<2>(redefined[0]),
            "invalid TOML (column 5): Error while parsing key-value pair: cannot redefine "
            "existing integer 'a'");
}

TEST(ConfigProblemTest, ToString) {
  EXPECT_EQ((ConfigProblem{12, "pipeline[0].buffer.max_bytes", "must be greater than 0"})
                .ToString("a.toml"),
            "a.toml:12: pipeline[0].buffer.max_bytes: must be greater than 0");
  EXPECT_EQ((ConfigProblem{0, "pipeline", "at least one [[pipeline]] table is required"})
                .ToString("a.toml"),
            "a.toml: pipeline: at least one [[pipeline]] table is required");
  EXPECT_EQ((ConfigProblem{3, "", "invalid TOML"}).ToString("a.toml"), "a.toml:3: invalid TOML");
}

class LoadConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kc_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(LoadConfigFileTest, ReadsAndParsesAFile) {
  const std::string path = (dir_ / "ok.toml").string();
  std::ofstream(path) << kPipeline;
  ConfigResult result = LoadConfigFile(path);
  ASSERT_TRUE(result.has_value());
  ASSERT_EQ(result->pipelines.size(), 1u);
  EXPECT_EQ(result->pipelines[0].name, "p");
}

TEST_F(LoadConfigFileTest, MissingFileIsOneProblemNamingThePath) {
  const std::string path = (dir_ / "missing.toml").string();
  ConfigResult result = LoadConfigFile(path);
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(result.error().size(), 1u);
  EXPECT_EQ(result.error()[0].line, 0);
  EXPECT_EQ(result.error()[0].key, "");
  EXPECT_EQ(result.error()[0].message,
            "cannot open config file '" + path + "': No such file or directory");
}

TEST_F(LoadConfigFileTest, DirectoryIsOneProblem) {
  ConfigResult result = LoadConfigFile(dir_.string());
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(result.error().size(), 1u);
  EXPECT_EQ(result.error()[0].message,
            "cannot read config file '" + dir_.string() + "': it is a directory");
}

TEST_F(LoadConfigFileTest, ProblemsInAFileCarryTheirLines) {
  const std::string path = (dir_ / "bad.toml").string();
  std::ofstream(path) << WithPipeline("[pipeline.buffer]\nmax_age = \"1d\"\n");
  ConfigResult result = LoadConfigFile(path);
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(result.error().size(), 1u);
  EXPECT_EQ(result.error()[0].ToString(path),
            path +
                ":7: pipeline[0].buffer.max_age: invalid duration: unknown duration unit 'd'; use "
                "ms, s, m or h, e.g. \"250ms\", \"30s\", \"5m\", \"1h\" or \"1m30s\"");
}

TEST(ExampleConfigTest, EveryExampleValidates) {
  // The examples live in the source tree next to this test's directory.
  const std::filesystem::path dir =
      std::filesystem::path(__FILE__).parent_path() / "../../examples/configs";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    ++checked;
    ConfigResult result = LoadConfigFile(entry.path().string());
    if (!result.has_value()) {
      for (const ConfigProblem& p : result.error()) {
        ADD_FAILURE() << p.ToString(entry.path().string());
      }
      continue;
    }
    EXPECT_FALSE(result->pipelines.empty()) << entry.path();
  }
  EXPECT_GE(checked, 2);
}

// --- Sizes, durations, timestamps ---------------------------------------------

TEST(ParseByteSizeTest, Valid) {
  const std::vector<std::pair<std::string, uint64_t>> cases = {
      {"0", 0},
      {"1024", 1024},
      {"1024B", 1024},
      {"512KB", 512'000},
      {"5MiB", 5u << 20},
      {"5 MiB", 5u << 20},
      {"  5MiB  ", 5u << 20},
      {"5mib", 5u << 20},
      {"5mb", 5'000'000},
      {"5Mb", 5'000'000},
      {"1kB", 1000},
      {"1KiB", 1024},
      {"2GB", 2'000'000'000},
      {"1GiB", uint64_t{1} << 30},
      {"1TiB", uint64_t{1} << 40},
      {"3TB", 3'000'000'000'000},
      {"1.5GiB", 1'610'612'736},
      {"1.5KB", 1500},
      {"0.5KiB", 512},
      {"2.0", 2},
  };
  for (const auto& [text, bytes] : cases) {
    SCOPED_TRACE(text);
    Result<uint64_t> parsed = ParseByteSize(text);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    EXPECT_EQ(*parsed, bytes);
  }
  // The largest size that fits: 2^64 - 1 bytes.
  Result<uint64_t> max = ParseByteSize("18446744073709551615");
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(*max, UINT64_MAX);
}

TEST(ParseByteSizeTest, Invalid) {
  const std::string examples = "e.g. \"5MiB\", \"512KB\" or \"1024\" (bytes)";
  const std::string units =
      "; use B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "a size cannot be empty; write a number and a unit, " + examples},
      {"   ", "a size cannot be empty; write a number and a unit, " + examples},
      {"-5MiB", "a size cannot be negative; " + examples},
      {"MiB", "a size is a number and a unit, " + examples},
      {"five", "a size is a number and a unit, " + examples},
      {"+5", "a size is a number and a unit, " + examples},
      {".5MiB", "a size is a number and a unit, " + examples},
      {"5MiB!", "a size is a number and a unit, " + examples},
      {"5 MiB 3", "a size is a number and a unit, " + examples},
      {"5M", "unknown size unit 'M'" + units + examples},
      {"5Mi", "unknown size unit 'Mi'" + units + examples},
      {"5bytes", "unknown size unit 'bytes'" + units + examples},
      {"5.MiB", "a decimal point must be followed by digits"},
      {"1.5", "a size must come to a whole number of bytes"},
      {"0.1B", "a size must come to a whole number of bytes"},
      {"1.0000001KB", "at most 6 decimal places are allowed"},
      {"18446744073709551616", "number is too large"},
      {"16777216TiB", "size is too large"},
      {"17179869184GiB", "size is too large"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    Result<uint64_t> parsed = ParseByteSize(text);
    ASSERT_FALSE(parsed.has_value()) << *parsed;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().message(), message);
  }
}

TEST(ParseDurationTest, Valid) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"0", 0},           {"0s", 0},
      {"250ms", 250},     {"30s", 30'000},
      {"5m", 300'000},    {"1h", 3'600'000},
      {"1m30s", 90'000},  {"1h2m3s4ms", 3'723'004},
      {"1m 30s", 90'000}, {"30 s", 30'000},
      {"1.5s", 1'500},    {"0.25h", 900'000},
      {"1.001s", 1'001},  {"9223372036854775807ms", INT64_MAX},
  };
  for (const auto& [text, ms] : cases) {
    SCOPED_TRACE(text);
    Result<milliseconds> parsed = ParseDuration(text);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    EXPECT_EQ(parsed->count(), ms);
  }
}

TEST(ParseDurationTest, Invalid) {
  const std::string examples = "e.g. \"250ms\", \"30s\", \"5m\", \"1h\" or \"1m30s\"";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "a duration cannot be empty; write a number and a unit, " + examples},
      {"30", "a duration needs a unit (ms, s, m or h); for seconds write \"30s\""},
      {"1.5", "a duration needs a unit (ms, s, m or h); for seconds write \"1.5s\""},
      {"-1s", "a duration cannot be negative; " + examples},
      {"1m30", "every number in a duration needs a unit (ms, s, m or h), " + examples},
      {"s", "a duration is numbers with units, " + examples},
      {"1s!", "a duration is numbers with units, " + examples},
      {"5M", "unknown duration unit 'M'; use ms, s, m or h, " + examples},
      {"1d", "unknown duration unit 'd'; use ms, s, m or h, " + examples},
      {"10sec", "unknown duration unit 'sec'; use ms, s, m or h, " + examples},
      {"1us", "unknown duration unit 'us'; use ms, s, m or h, " + examples},
      {"0.5ms", "a duration must come to a whole number of milliseconds"},
      {"1.0001s", "a duration must come to a whole number of milliseconds"},
      {"9223372036854775808ms", "duration is too long"},
      {"9223372036854775807ms1ms", "duration is too long"},
      {"99999999999999999999h", "number is too large"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    Result<milliseconds> parsed = ParseDuration(text);
    ASSERT_FALSE(parsed.has_value()) << parsed->count();
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().message(), message);
  }
}

TEST(ParseRfc3339Test, Valid) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"1970-01-01T00:00:00Z", 0},
      {"2026-01-02T03:04:05Z", 1'767'323'045'000},
      {"2026-01-02t03:04:05z", 1'767'323'045'000},
      {"2026-01-02 03:04:05Z", 1'767'323'045'000},
      {" 2026-01-02T03:04:05Z ", 1'767'323'045'000},
      {"2026-01-02T04:04:05+01:00", 1'767'323'045'000},
      {"2026-01-02T02:34:05-00:30", 1'767'323'045'000},
      {"2026-01-02T03:04:05.1Z", 1'767'323'045'100},
      {"2026-01-02T03:04:05.12Z", 1'767'323'045'120},
      {"2026-01-02T03:04:05.123Z", 1'767'323'045'123},
      {"2026-01-02T03:04:05.123999999Z", 1'767'323'045'123},
      {"2024-02-29T00:00:00Z", 1'709'164'800'000},
      {"2000-02-29T12:00:00Z", 951'825'600'000},
      {"1969-12-31T23:59:59Z", -1'000},
      {"0000-01-01T00:00:00Z", -62'167'219'200'000},
      {"9999-12-31T23:59:59.999Z", 253'402'300'799'999},
      {"2026-01-01T00:00:00+23:59", 1'767'139'260'000},
  };
  for (const auto& [text, ms] : cases) {
    SCOPED_TRACE(text);
    Result<int64_t> parsed = ParseRfc3339(text);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    EXPECT_EQ(*parsed, ms);
  }
}

TEST(ParseRfc3339Test, Invalid) {
  const std::string examples = "e.g. \"2026-01-02T03:04:05Z\" or \"2026-01-02T04:04:05.250+01:00\"";
  const std::string malformed = "expected an RFC 3339 timestamp, " + examples;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", malformed},
      {"yesterday", malformed},
      {"2026-1-2T03:04:05Z", malformed},
      {"2026-01-02T3:04:05Z", malformed},
      {"2026-01-02T03:04Z", malformed},
      {"2026-01-02X03:04:05Z", malformed},
      {"2026-01-02T03:04:05UTC", malformed},
      {"2026-01-02", "a timestamp needs a time and a time zone, " + examples},
      {"2026-01-02T03:04:05",
       "a timestamp needs a time zone: add \"Z\" for UTC or an offset such as \"+01:00\""},
      {"2026-01-02T03:04:05.Z", "a decimal point in the seconds must be followed by digits"},
      {"2026-01-02T03:04:05+0100",
       "a time zone offset is written \"+HH:MM\" or \"-HH:MM\", e.g. \"+01:00\""},
      {"2026-01-02T03:04:05+24:00", "time zone offset +24:00 is out of range"},
      {"2026-01-02T03:04:05-01:60", "time zone offset -01:60 is out of range"},
      {"2026-01-02T03:04:05Zjunk", "unexpected text after the time zone; " + examples},
      {"2026-02-30T00:00:00Z", "day 30 does not exist in 2026-02"},
      {"2025-02-29T00:00:00Z", "day 29 does not exist in 2025-02"},
      {"1900-02-29T00:00:00Z", "day 29 does not exist in 1900-02"},
      {"2026-04-31T00:00:00Z", "day 31 does not exist in 2026-04"},
      {"2026-01-00T00:00:00Z", "day 00 does not exist in 2026-01"},
      {"2026-13-01T00:00:00Z", "month 13 does not exist; months are 01 to 12"},
      {"2026-00-01T00:00:00Z", "month 00 does not exist; months are 01 to 12"},
      {"2026-01-01T24:00:00Z", "hour must be between 00 and 23"},
      {"2026-01-01T23:60:00Z", "minute must be between 00 and 59"},
      {"2026-12-31T23:59:60Z", "leap seconds (second 60) are not supported"},
      {"2026-12-31T23:59:61Z", "second must be between 00 and 59"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    Result<int64_t> parsed = ParseRfc3339(text);
    ASSERT_FALSE(parsed.has_value()) << *parsed;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().message(), message);
  }
}

TEST(ParseConfigTest, PostgresCheckpointStore) {
  auto config = ParseConfig(WithPipeline("[checkpoint]\nstore = \"postgres\"\n"
                                         "url = \"postgresql://loader:pw@db:5432/events\"\n"
                                         "table = \"state.checkpoints\"\n"),
                            "test.toml");
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->checkpoint.store, "postgres");
  EXPECT_EQ(SettingsOf<checkpoint::PostgresStoreConfig>(config->checkpoint).url,
            "postgresql://loader:pw@db:5432/events");
  EXPECT_EQ(SettingsOf<checkpoint::PostgresStoreConfig>(config->checkpoint).table,
            "state.checkpoints");
  auto defaults = ParseConfig(
      WithPipeline("[checkpoint]\nstore = \"postgres\"\nurl = \"host=db dbname=events\"\n"),
      "test.toml");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(SettingsOf<checkpoint::PostgresStoreConfig>(defaults->checkpoint).table,
            "kc_checkpoints");
}

TEST(ParseConfigTest, PostgresEmitter) {
  Config c = ParseOk(R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "postgres"
url = "postgresql://loader@db/events"
table = "raw.events"
column = "payload"
)toml");
  ASSERT_EQ(c.pipelines.size(), 1u);
  EXPECT_EQ(c.pipelines[0].emitter.type, "postgres");
  const auto rows = SettingsOf<emitter::PostgresSinkConfig>(c.pipelines[0].emitter).rows;
  EXPECT_EQ(rows.url, "postgresql://loader@db/events");
  EXPECT_EQ(rows.table, "raw.events");
  EXPECT_EQ(rows.column, "payload");
}

TEST(ParseConfigErrorTest, PostgresEmitterProblems) {
  EXPECT_EQ(
      ProblemsOf(R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "postgres"
column = "a.b"
directory = "x"
)toml"),
      (std::vector<Problem>{
          {4, "pipeline[0].emitter.url", "missing required key 'url' in [pipeline.emitter]"},
          {4, "pipeline[0].emitter.table", "missing required key 'table' in [pipeline.emitter]"},
          {6, "pipeline[0].emitter.column",
           "must be a column name: letters, digits and '_', not starting with a digit, at "
           "most 63 characters"},
          {7, "pipeline[0].emitter.directory", "unknown key 'directory' in [pipeline.emitter]"},
      }));
}

TEST(ParseConfigTest, PostgresEmitterColumnsInFileOrder) {
  Config c = ParseOk(R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "postgres"
url = "postgresql://loader@db/events"
table = "events"
[pipeline.emitter.columns]
user_id = "user.id"
Kind = "kind"
at = "meta.ts"
odd = "a\\.b"
)toml");
  ASSERT_EQ(c.pipelines.size(), 1u);
  const auto e = SettingsOf<emitter::PostgresSinkConfig>(c.pipelines[0].emitter).rows;
  EXPECT_EQ(e.column, "");
  EXPECT_EQ(ColumnsOf(e),
            (std::vector<std::pair<std::string, std::string>>{
                {"user_id", "user.id"}, {"Kind", "kind"}, {"at", "meta.ts"}, {"odd", "a\\.b"}}));
  // An inline table works too.
  Config inline_table = ParseOk(R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "postgres"
url = "postgresql://loader@db/events"
table = "events"
columns = { id = "id" }
)toml");
  EXPECT_EQ(
      ColumnsOf(SettingsOf<emitter::PostgresSinkConfig>(inline_table.pipelines[0].emitter).rows),
      (std::vector<std::pair<std::string, std::string>>{{"id", "id"}}));
}

TEST(ParseConfigErrorTest, PostgresEmitterNeedsExactlyOneOfColumnAndColumns) {
  EXPECT_EQ(ProblemsOf(R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "postgres"
url = "postgresql://loader@db/events"
table = "events"
)toml"),
            One(4, "pipeline[0].emitter.column",
                "missing 'column' or 'columns' in [pipeline.emitter]: add column = \"data\" "
                "(each record's data as text) or a [pipeline.emitter.columns] table of column "
                "= \"field.path\" (fields of JSON records into columns)"));
  EXPECT_EQ(ProblemsOf(R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "postgres"
url = "postgresql://loader@db/events"
table = "events"
column = "data"
[pipeline.emitter.columns]
id = "id"
)toml"),
            One(9, "pipeline[0].emitter.columns",
                "give either column = \"...\" (each record's data as text) or columns (JSON "
                "fields into columns), not both"));
  EXPECT_EQ(ProblemsOf(R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "postgres"
url = "postgresql://loader@db/events"
table = "events"
columns = {}
)toml"),
            One(8, "pipeline[0].emitter.columns",
                "must map at least one column to a field path, e.g. user_id = \"user.id\""));
}

TEST(ParseConfigErrorTest, PostgresEmitterColumnsProblems) {
  const auto problems = ProblemsOf(R"toml([[pipeline]]
name = "p"
stream = "s"
[pipeline.emitter]
type = "postgres"
url = "postgresql://loader@db/events"
table = "events"
[pipeline.emitter.columns]
fine = "id"
1st = "id"
"drop table" = "id"
count = 5
bad_path = "a..b"
)toml");
  ASSERT_EQ(problems.size(), 4u) << ::testing::PrintToString(problems);
  const std::string name_rule =
      "must be a column name: letters, digits and '_', not starting with a digit, at most 63 "
      "characters";
  EXPECT_EQ(problems[0], Problem(10, "pipeline[0].emitter.columns.1st", name_rule));
  EXPECT_EQ(problems[1], Problem(11, "pipeline[0].emitter.columns.\"drop table\"", name_rule));
  EXPECT_EQ(problems[2], Problem(12, "pipeline[0].emitter.columns.count",
                                 "expected a field path as a string, e.g. \"user.id\", got an "
                                 "integer"));
  const auto& [line, key, message] = problems[3];
  EXPECT_EQ(line, 13);
  EXPECT_EQ(key, "pipeline[0].emitter.columns.bad_path");
  EXPECT_NE(message.find("a..b"), std::string::npos) << message;
}

TEST(ParseConfigErrorTest, PostgresCheckpointStoreProblems) {
  EXPECT_EQ(ProblemsOf(WithPipeline("[checkpoint]\nstore = \"postgres\"\n")),
            One(6, "checkpoint.url", "missing required key 'url' in [checkpoint]"));
  const auto problems = ProblemsOf(
      WithPipeline("[checkpoint]\nstore = \"postgres\"\nurl = \"host=db password='top-secret\"\n"
                   "table = \"drop table x;\"\n"));
  ASSERT_EQ(problems.size(), 2u);
  const auto& [url_line, url_key, url_message] = problems[0];
  EXPECT_EQ(url_line, 8);
  EXPECT_EQ(url_key, "checkpoint.url");
  EXPECT_NE(url_message.find("postgresql://user@host:5432/db"), std::string::npos) << url_message;
  EXPECT_EQ(url_message.find("top-secret"), std::string::npos) << url_message;
  EXPECT_EQ(std::get<1>(problems[1]), "checkpoint.table");
  EXPECT_NE(std::get<2>(problems[1]).find("letters, digits and '_'"), std::string::npos);
}

}  // namespace
}  // namespace kc
