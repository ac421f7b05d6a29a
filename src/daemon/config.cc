// TOML → validated Config.
//
// The reader walks the document once and keeps going after a problem, so one
// run of `kinesis-connect validate` shows everything that needs fixing. Each
// table is read through a TableReader that remembers which keys were asked
// for; whatever was not asked for is an unknown key, reported with the
// closest known name. Messages name keys and types but never repeat a value
// the user wrote unless it is a choice from a fixed list (a type, a format),
// so a secret put in the wrong place does not end up in a log.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "base/json_fields.h"
#include "base/units.h"
#include "clients/kinesis/client.h"
#include "clients/pg/connection.h"
#include "clients/pg/settings.h"
#include "clients/redis/redis_url.h"
#include "config/interpolate.h"
#include "config/reader.h"
#include "daemon/builtins.h"
#include "daemon/config.h"
#include "sinks/util/key_template.h"
#include "sinks/util/settings.h"

namespace kc {
namespace {

using namespace config;  // NOLINT(google-build-using-namespace): the reader's vocabulary
using emitter::ReadBucket;
using emitter::ReadCompression;
using emitter::ReadCsv;
using emitter::ReadFormat;
using pg::ReadConninfo;
using pg::ReadSqlName;

// GetRecords returns at most 10,000 records per call.
constexpr int64_t kMaxRecordsPerCall = 10'000;
constexpr uint64_t kMaxBytesPerCall = 10ull << 20;
// Kinesis allows 5 GetRecords calls per second per shard.
constexpr milliseconds kMinPollInterval{200};
constexpr milliseconds kMinShardDiscoveryInterval{1'000};
constexpr milliseconds kMinRequestTimeout{10'000};
constexpr uint64_t kMaxMinRate = 1ull << 20;
constexpr int64_t kMaxThreads = 1024;  // reader_threads, emit_threads
// A buffer lives in memory; these keep one misplaced zero from exhausting it.
constexpr int64_t kMaxBufferRecords = 1'000'000;
constexpr uint64_t kMaxBufferBytes = uint64_t{1} << 30;

constexpr std::array<std::string_view, 2> kOnErrorChoices = {"stop", "dead_letter"};
constexpr std::array<std::string_view, 5> kEndpointServices = {"kinesis", "s3", "dynamodb", "sts",
                                                               "sso"};
constexpr std::array<std::string_view, 2> kStartAtWords = {"trim_horizon", "latest"};

// ca_file: a file of PEM certificates this process can read.
std::optional<std::string> ReadCaFile(TableReader& reader) {
  return reader.ReadableFile("ca_file", Need::kOptional, kCaFileHolds);
}

void ReadAws(TableReader reader, AwsConfig* aws) {
  if (std::optional<std::string> region = ReadRegion(reader)) aws->region = *region;
  ReadUrl(reader, "endpoint", &aws->endpoint);
  if (std::optional<std::string> profile = reader.NonEmptyString("profile", Need::kOptional)) {
    aws->profile = *profile;
  }
  config::ReadRole(reader, &aws->role);
  if (std::optional<bool> verify = reader.Bool("verify_tls", Need::kOptional)) {
    aws->verify_tls = *verify;
  }
  if (std::optional<milliseconds> timeout =
          ReadDuration(reader, "request_timeout", kMinRequestTimeout,
                       "must be at least 10s: a GetRecords page or an object part takes time")) {
    aws->request_timeout = *timeout;
  }
  if (std::optional<uint64_t> rate =
          ReadByteSize(reader, "min_bytes_per_second", kMaxMinRate,
                       "must be at most 1MiB: a slower but moving transfer would be abandoned")) {
    aws->min_bytes_per_second = std::max<uint64_t>(1, *rate);
  }
  if (std::optional<std::string> ca = ReadCaFile(reader)) aws->ca_file = *ca;
  if (const toml::table* tls = reader.Table("tls", Need::kOptional)) {
    TableReader per_service = reader.Child(*tls, "tls");
    for (std::string_view service : kEndpointServices) {
      const toml::table* table = per_service.Table(service, Need::kOptional);
      if (table == nullptr) continue;
      TableReader one = per_service.Child(*table, service);
      TlsSettings settings{.verify = aws->verify_tls, .ca_file = aws->ca_file};
      if (std::optional<bool> verify = one.Bool("verify_tls", Need::kOptional)) {
        settings.verify = *verify;
      }
      if (std::optional<std::string> ca = ReadCaFile(one)) settings.ca_file = *ca;
      one.ReportUnknownKeys();
      aws->service_tls[std::string(service)] = settings;
    }
    per_service.ReportUnknownKeys();
  }
  if (const toml::table* endpoints = reader.Table("endpoints", Need::kOptional)) {
    TableReader per_service = reader.Child(*endpoints, "endpoints");
    for (std::string_view service : kEndpointServices) {
      std::string url;
      ReadUrl(per_service, service, &url);
      if (!url.empty()) aws->endpoints[std::string(service)] = url;
    }
    per_service.ReportUnknownKeys();
  }
  reader.ReportUnknownKeys();
}

// [checkpoint]: `store` picks the store, `app` namespaces every store's
// keys, and the store's own reader reads the rest.
void ReadCheckpoint(TableReader reader, CheckpointConfig* checkpoint) {
  if (std::optional<std::string> store = reader.String("store", Need::kOptional)) {
    if (daemon::Find(daemon::BuiltinStores(), *store) != nullptr) {
      checkpoint->store = *store;
    } else {
      const std::vector<std::string_view> known = daemon::TypesOf(daemon::BuiltinStores());
      reader.Report("store", UnknownChoice("checkpoint store", *store, known, Join(known)));
    }
  }
  if (std::optional<std::string> app = reader.String("app", Need::kOptional)) {
    // The app namespaces checkpoint keys ("{app}:checkpoint:{stream}:{shard}"),
    // so it must not contain the separator.
    if (std::optional<std::string> problem = IdentifierProblem(*app)) {
      reader.Report("app", *problem);
    } else {
      checkpoint->app = *app;
    }
  }
  checkpoint->settings = daemon::Find(daemon::BuiltinStores(), checkpoint->store)
                             ->read(reader, {.app = checkpoint->app});
  reader.ReportUnknownKeys();
}

// [leases]; whether the store keeps leases is checked once it is known.
void ReadLeases(TableReader reader, LeasesConfig* leases) {
  if (auto id = reader.NonEmptyString("worker_id", Need::kOptional)) {
    if (id->size() > 256) {
      reader.Report("worker_id", "is longer than 256 characters; give a shorter name");
    } else {
      leases->options.worker_id = *id;
    }
  }
  if (auto failover = ReadDuration(reader, "failover_time", milliseconds(1'000),
                                   "must be at least 1s (renewals go every third of it)")) {
    leases->options.failover_time = *failover;
  }
  for (auto [key, target] :
       {std::pair{"max_leases_per_worker", &leases->options.max_leases_per_worker},
        std::pair{"max_leases_to_steal", &leases->options.max_leases_to_steal}}) {
    if (auto n = reader.Integer(key, Need::kOptional)) {
      if (*n < 0 || *n > 1'000'000) {
        reader.Report(key, "must be between 0 and 1000000");
      } else {
        *target = static_cast<uint32_t>(*n);
      }
    }
  }
  if (auto table = reader.String("table", Need::kOptional)) {
    if (auto problem = config::DynamoTableProblem(*table)) {
      reader.Report("table", *problem);
    } else {
      leases->table = *table;
    }
  }
  reader.ReportUnknownKeys();
}

void ReadStartAt(TableReader& reader, StartAt* start_at) {
  constexpr std::string_view kKey = "start_at";
  const toml::node* node = reader.Get(kKey, Need::kOptional);
  if (node == nullptr) return;
  if (const toml::value<toml::date_time>* value = node->as_date_time()) {
    const toml::date_time& dt = value->get();
    if (!dt.offset) {
      reader.Report(kKey,
                    "a date-time without a time zone is ambiguous; add \"Z\" for UTC or an "
                    "offset such as \"+01:00\"");
      return;
    }
    config_internal::CivilTime civil;
    civil.year = dt.date.year;
    civil.month = dt.date.month;
    civil.day = dt.date.day;
    civil.hour = dt.time.hour;
    civil.minute = dt.time.minute;
    civil.second = dt.time.second;
    civil.millis = static_cast<int>(dt.time.nanosecond / 1'000'000);
    civil.offset_minutes = dt.offset->minutes;
    Result<int64_t> ms = config_internal::CivilToUnixMillis(civil);
    if (!ms) {
      reader.Report(kKey, "invalid timestamp: " + ms.error().message());
      return;
    }
    start_at->kind = StartAt::Kind::kTimestamp;
    start_at->timestamp_ms = *ms;
    return;
  }
  const toml::value<std::string>* text = node->as_string();
  if (text == nullptr) {
    reader.ReportWrongType(kKey, *node, "a string or a date-time");
    return;
  }
  const std::string& s = text->get();
  if (s == "trim_horizon") {
    start_at->kind = StartAt::Kind::kTrimHorizon;
  } else if (s == "latest") {
    start_at->kind = StartAt::Kind::kLatest;
  } else if (!s.empty() && s.front() >= '0' && s.front() <= '9') {
    Result<int64_t> ms = ParseRfc3339(s);
    if (!ms) {
      reader.Report(kKey, "invalid timestamp: " + ms.error().message());
      return;
    }
    start_at->kind = StartAt::Kind::kTimestamp;
    start_at->timestamp_ms = *ms;
  } else {
    reader.Report(kKey,
                  "expected \"trim_horizon\", \"latest\" or an RFC 3339 timestamp such as "
                  "\"2026-01-02T03:04:05Z\"" +
                      DidYouMean(s, kStartAtWords));
  }
}

void ReadBuffer(TableReader reader, BufferConfig* buffer) {
  if (std::optional<int64_t> records = reader.Integer("max_records", Need::kOptional)) {
    if (*records < 1 || *records > kMaxBufferRecords) {
      reader.Report("max_records", "must be between 1 and 1000000");
    } else {
      buffer->max_records = static_cast<uint64_t>(*records);
    }
  }
  if (std::optional<uint64_t> bytes =
          ReadByteSize(reader, "max_bytes", kMaxBufferBytes,
                       "must be at most 1GiB: a buffer is held in memory")) {
    buffer->max_bytes = *bytes;
  }
  if (std::optional<milliseconds> age =
          ReadDuration(reader, "max_age", milliseconds(1), "must be greater than 0")) {
    buffer->max_age = *age;
  }
  reader.ReportUnknownKeys();
}

// "\"a\", \"b\" or \"c\"".
std::string QuotedChoices(std::span<const std::string_view> choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += i + 1 == choices.size() ? " or " : ", ";
    out += "\"" + std::string(choices[i]) + "\"";
  }
  return out;
}

// [pipeline.transformer] and [pipeline.filter]: a type of `kinds`, given as
// the table's `type` or, for a type without settings, as the key's value
// (transformer = "json"). Without either, the default type of `choice`.
template <class Built>
void ReadStep(TableReader& pipeline, std::string_view key, std::string_view what,
              std::span<const component::StepKind<Built>> kinds,
              ComponentChoice<component::StepConfig<Built>>* choice) {
  const std::vector<std::string_view> known = daemon::TypesOf(kinds);
  const toml::table none;
  if (const toml::node* node = pipeline.Get(key, Need::kOptional); node && node->is_string()) {
    if (std::optional<std::string> value = pipeline.Choice(key, Need::kOptional, what, known)) {
      const component::StepKind<Built>* kind = daemon::Find(kinds, *value);
      if (!kind->settings.empty()) {
        pipeline.Report(key, std::string(what) + " '" + *value +
                                 "' needs settings: write a [pipeline." + std::string(key) +
                                 "] table with type = \"" + *value + "\", " +
                                 std::string(kind->settings));
      } else {
        choice->type = *value;
      }
    }
  } else if (const toml::table* table = pipeline.Table(key, Need::kOptional)) {
    TableReader reader = pipeline.Child(*table, key);
    if (std::optional<std::string> value = reader.Choice("type", Need::kOptional, what, known)) {
      choice->type = *value;
      choice->settings = daemon::Find(kinds, *value)->read(reader);
    }
    reader.ReportUnknownKeys();
  }
  if (!choice->settings) {
    TableReader empty = pipeline.Child(none, key);
    choice->settings = daemon::Find(kinds, choice->type)->read(empty);
  }
}

void ReadEmitter(TableReader reader, const component::SinkReadContext& context,
                 PipelineConfig* pipeline) {
  std::optional<std::string> type = reader.String("type", Need::kRequired);
  // Without a known type the other keys cannot be judged: reporting them all
  // as unknown would bury the one real mistake.
  if (!type) return;
  const component::SinkKind* kind = daemon::Find(daemon::BuiltinSinks(), *type);
  if (kind == nullptr) {
    const std::vector<std::string_view> known = daemon::TypesOf(daemon::BuiltinSinks());
    reader.Report("type", UnknownChoice("emitter type", *type, known, Join(known)));
    return;
  }
  pipeline->emitter.type = *type;
  pipeline->emitter.settings = kind->read(reader, context);
  reader.ReportUnknownKeys();
}

struct NameUse {
  size_t index;
  int line;
};

// [pipeline.dead_letter] and on_error.
void ReadDeadLetter(TableReader& reader, PipelineConfig* pipeline) {
  const auto kinds = daemon::BuiltinDeadLetters();
  const std::vector<std::string_view> known = daemon::TypesOf(kinds);
  if (const toml::table* table = reader.Table("dead_letter", Need::kOptional)) {
    TableReader r = reader.Child(*table, "dead_letter");
    if (std::optional<std::string> type =
            r.Choice("type", Need::kRequired, "dead-letter type", known)) {
      pipeline->dead_letter.type = *type;
      pipeline->dead_letter.settings =
          daemon::Find(kinds, *type)->read(r, {.stream = pipeline->stream});
      r.ReportUnknownKeys();
    }
    pipeline->on_error = OnError::kDeadLetter;
  }
  const bool has_destination = reader.Has("dead_letter");
  if (std::optional<std::string> on_error =
          reader.Choice("on_error", Need::kOptional, "on_error choice", kOnErrorChoices)) {
    if (*on_error == "stop") {
      pipeline->on_error = OnError::kStop;
    } else if (!has_destination) {
      reader.Report("on_error",
                    "on_error = \"dead_letter\" needs a destination: add a "
                    "[pipeline.dead_letter] table with type = " +
                        QuotedChoices(known));
    } else {
      pipeline->on_error = OnError::kDeadLetter;
    }
  }
}

void ReadPipeline(TableReader reader, size_t index, std::map<std::string, NameUse>* names,
                  const CheckpointConfig& checkpoint, PipelineConfig* pipeline) {
  pipeline->line = reader.line();
  if (std::optional<std::string> name = reader.String("name", Need::kRequired)) {
    if (std::optional<std::string> problem = IdentifierProblem(*name)) {
      reader.Report("name", *problem);
    } else if (auto [it, inserted] = names->try_emplace(*name, NameUse{index, reader.line()});
               !inserted) {
      reader.Report("name", "pipeline name '" + *name + "' is already used by pipeline[" +
                                std::to_string(it->second.index) + "] (line " +
                                std::to_string(it->second.line) + ")");
    } else {
      pipeline->name = *name;
    }
  }
  if (std::optional<std::string> stream = reader.String("stream", Need::kRequired)) {
    if (IsStreamName(*stream)) {
      pipeline->stream = *stream;
    } else {
      reader.Report("stream", kStreamNameRule);
    }
  }
  if (std::optional<std::string> app = reader.String("checkpoint_app", Need::kOptional)) {
    if (checkpoint.store != "redis") {
      reader.Report("checkpoint_app", "'checkpoint_app' is used by checkpoint store 'redis' only");
    } else if (std::optional<std::string> problem = IdentifierProblem(*app)) {
      reader.Report("checkpoint_app", *problem);
    } else {
      pipeline->checkpoint_app = *app;
    }
  }
  ReadStartAt(reader, &pipeline->start_at);
  if (std::optional<bool> deaggregate = reader.Bool("deaggregate", Need::kOptional)) {
    pipeline->deaggregate = *deaggregate;
  }
  if (std::optional<int64_t> records = reader.Integer("records_per_call", Need::kOptional)) {
    if (*records < 1 || *records > kMaxRecordsPerCall) {
      reader.Report("records_per_call",
                    "must be between 1 and 10000, the most one GetRecords call returns");
    } else {
      pipeline->records_per_call = static_cast<uint32_t>(*records);
    }
  }
  if (std::optional<uint64_t> bytes =
          ReadByteSize(reader, "bytes_per_call", kMaxBytesPerCall,
                       "must be at most 10MiB, the most one GetRecords call returns")) {
    pipeline->bytes_per_call = *bytes;
  }
  if (std::optional<milliseconds> poll =
          ReadDuration(reader, "poll_interval", kMinPollInterval,
                       "must be at least 200ms: Kinesis allows 5 GetRecords calls per second "
                       "per shard")) {
    pipeline->poll_interval = *poll;
  }
  if (std::optional<milliseconds> discovery = ReadDuration(
          reader, "shard_discovery_interval", kMinShardDiscoveryInterval, "must be at least 1s")) {
    pipeline->shard_discovery_interval = *discovery;
  }
  if (std::optional<milliseconds> retry =
          ReadDuration(reader, "sink_retry_for", milliseconds(0), "must not be negative")) {
    pipeline->sink_retry_for = *retry;
  }
  for (auto [key, threads] : {std::pair{"reader_threads", &pipeline->reader_threads},
                              std::pair{"emit_threads", &pipeline->emit_threads}}) {
    if (std::optional<int64_t> n = reader.Integer(key, Need::kOptional)) {
      if (*n < 1 || *n > kMaxThreads) {
        reader.Report(key, "must be between 1 and 1024");
      } else {
        *threads = static_cast<uint32_t>(*n);
      }
    }
  }
  ReadStep(reader, "transformer", "transformer type", daemon::BuiltinTransformers(),
           &pipeline->transformer);
  ReadStep(reader, "filter", "filter type", daemon::BuiltinFilters(), &pipeline->filter);
  if (const toml::table* buffer = reader.Table("buffer", Need::kOptional)) {
    ReadBuffer(reader.Child(*buffer, "buffer"), &pipeline->buffer);
  }
  ReadDeadLetter(reader, pipeline);
  if (const toml::table* emitter = reader.Table("emitter", Need::kRequired)) {
    TableReader emitter_reader = reader.Child(*emitter, "emitter");
    const component::SinkReadContext context{
        .stream = pipeline->stream,
        .dead_letter_stream = pipeline->dead_letter.settings
                                  ? pipeline->dead_letter.settings->kinesis_stream()
                                  : std::string_view()};
    ReadEmitter(emitter_reader, context, pipeline);
  }
  reader.ReportUnknownKeys();
}

// Redis keys ("{app}:checkpoint:{stream}:{shard}") do not name the pipeline:
// two pipelines on one stream with the same app would overwrite each other's
// checkpoints.
void CheckSharedRedisKeys(const CheckpointConfig& checkpoint, const toml::array& tables,
                          const std::vector<PipelineConfig>& pipelines, Problems* problems) {
  if (checkpoint.store != "redis") return;
  std::map<std::pair<std::string, std::string>, size_t> first_use;  // (app, stream) → index
  for (size_t i = 0; i < pipelines.size(); ++i) {
    const PipelineConfig& p = pipelines[i];
    if (p.name.empty() || p.stream.empty()) continue;  // already reported
    const toml::table* table = tables.get_as<toml::table>(i);
    const toml::node* app_node = table != nullptr ? table->get("checkpoint_app") : nullptr;
    if (app_node != nullptr && p.checkpoint_app.empty()) continue;  // invalid, reported
    const std::string& app = p.checkpoint_app.empty() ? checkpoint.app : p.checkpoint_app;
    auto [it, inserted] = first_use.try_emplace({app, p.stream}, i);
    if (inserted) continue;
    const PipelineConfig& other = pipelines[it->second];
    const int line = app_node != nullptr ? LineOf(app_node->source()) : p.line;
    problems->push_back(
        ConfigProblem{line, "pipeline[" + std::to_string(i) + "].checkpoint_app",
                      "pipelines '" + other.name + "' (pipeline[" + std::to_string(it->second) +
                          "], line " + std::to_string(other.line) + ") and '" + p.name +
                          "' both read stream '" + p.stream + "' with checkpoint app '" + app +
                          "' and would share the Redis checkpoint keys; give one of them its own "
                          "checkpoint_app = \"...\" in its [[pipeline]]"});
  }
}

void ReadPipelines(TableReader& root, const CheckpointConfig& checkpoint, Problems* problems,
                   std::vector<PipelineConfig>* out) {
  constexpr std::string_view kKey = "pipeline";
  const toml::node* node = root.Get(kKey, Need::kOptional);
  if (node == nullptr) {
    problems->push_back(
        ConfigProblem{0, std::string(kKey), "at least one [[pipeline]] table is required"});
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    root.ReportWrongType(kKey, *node, "an array of tables ([[pipeline]])");
    return;
  }
  if (array->empty()) {
    root.Report(kKey, "at least one [[pipeline]] table is required");
    return;
  }
  std::map<std::string, NameUse> names;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      problems->push_back(
          ConfigProblem{LineOf(element.source()), "pipeline[" + std::to_string(i) + "]",
                        "expected a table, got " + std::string(TypeName(element.type()))});
      continue;
    }
    PipelineConfig pipeline;
    ReadPipeline(root.Element(*table, i, kKey), i, &names, checkpoint, &pipeline);
    out->push_back(std::move(pipeline));
  }
  // (Positions match only when every element was a table; if not, that is reported.)
  if (out->size() == array->size()) CheckSharedRedisKeys(checkpoint, *array, *out, problems);
}

Problems OneProblem(int line, std::string message) {
  return Problems{ConfigProblem{line, "", std::move(message)}};
}

std::string SyntaxMessage(const toml::source_region& where, std::string_view description) {
  return "invalid TOML (column " + std::to_string(where.begin.column) +
         "): " + Printable(description, 4 * kMaxEchoLength);
}

// "host:port" with an IP address literal (an IPv6 one in brackets) and a
// port, 0 for any free one.
bool IsListenAddress(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) return false;
  const std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (port.size() > 5 || !std::ranges::all_of(port, [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port) > 65535) {
    return false;
  }
  unsigned char address[sizeof(in6_addr)];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), address) == 1;
  }
  return inet_pton(AF_INET, host.c_str(), address) == 1;
}

void ReadLog(TableReader reader, LogConfig* log) {
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error"};
  static constexpr std::string_view kFormats[] = {"text", "json"};
  if (auto level = reader.Choice("level", Need::kOptional, "log level", kLevels)) {
    log->level = *level;
  }
  if (auto format = reader.Choice("format", Need::kOptional, "log format", kFormats)) {
    log->format = *format;
  }
  reader.ReportUnknownKeys();
}

void ReadMetrics(TableReader reader, MetricsConfig* metrics) {
  if (auto listen = reader.NonEmptyString("listen", Need::kOptional)) {
    if (IsListenAddress(*listen)) {
      metrics->listen = *listen;
    } else {
      reader.Report(
          "listen",
          std::string("is not an address to listen on; write an IP address and a port, such "
                      "as \"127.0.0.1:9108\" (this machine only), \"0.0.0.0:9108\" (every "
                      "interface) or \"[::1]:9108\""));
    }
  }
  reader.ReportUnknownKeys();
}

ConfigResult Parse(std::string_view toml_text, const std::string& source,
                   const config::EnvLookup& env) {
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(toml_text, std::string_view(source));
  } catch (const toml::parse_error& e) {
    return kc::unexpected(
        OneProblem(LineOf(e.source()), SyntaxMessage(e.source(), e.description())));
  }
#else
  toml::parse_result parsed = toml::parse(toml_text, std::string_view(source));
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return kc::unexpected(
        OneProblem(LineOf(e.source()), SyntaxMessage(e.source(), e.description())));
  }
  root = std::move(parsed).table();
#endif

  Problems problems;
  Config config;
  config.secrets = config::InterpolateTree(root, env, &problems);
  // A value that could not be interpolated is read as written; the
  // interpolation's problem is the one to show for its key.
  const size_t interpolation_problems = problems.size();
  TableReader reader(root, "", "", false, &problems);
  if (const toml::table* aws = reader.Table("aws", Need::kOptional)) {
    ReadAws(reader.Child(*aws, "aws"), &config.aws);
  }
  if (const toml::table* log = reader.Table("log", Need::kOptional)) {
    ReadLog(reader.Child(*log, "log"), &config.log);
  }
  if (const toml::table* metrics = reader.Table("metrics", Need::kOptional)) {
    ReadMetrics(reader.Child(*metrics, "metrics"), &config.metrics);
  }
  // Without [checkpoint], the defaults of an empty one.
  const toml::table no_checkpoint;
  const toml::table* checkpoint = reader.Table("checkpoint", Need::kOptional);
  ReadCheckpoint(reader.Child(checkpoint != nullptr ? *checkpoint : no_checkpoint, "checkpoint"),
                 &config.checkpoint);
  if (const toml::table* leases = reader.Table("leases", Need::kOptional)) {
    config.leases.emplace();
    config.leases->line = LineOf(leases->source());
    ReadLeases(reader.Child(*leases, "leases"), &*config.leases);
  }
  ReadPipelines(reader, config.checkpoint, &problems, &config.pipelines);
  if (config.leases) {
    if (config.checkpoint.settings && !config.checkpoint.settings->KeepsLeases()) {
      problems.push_back(
          ConfigProblem{config.leases->line, "leases",
                        "the checkpoint store '" + config.checkpoint.store +
                            "' is kept by one process, so processes cannot share leases in it; use "
                            "[checkpoint] store = \"dynamodb\", or leave out [leases]"});
    }
    if (!config.leases->table.empty() && config.pipelines.size() > 1) {
      problems.push_back(ConfigProblem{
          config.leases->line, "leases.table",
          "each pipeline has a lease table of its own; leave out `table` (each pipeline's is "
          "\"{app}-{pipeline}\") or keep one pipeline in this file"});
    }
    for (PipelineConfig& p : config.pipelines) p.leases = config.leases->options;
  }
  reader.ReportUnknownKeys();
  if (interpolation_problems > 0) {
    std::vector<std::string> keys;
    for (size_t i = 0; i < interpolation_problems; ++i) keys.push_back(problems[i].key);
    std::erase_if(problems, [&, i = size_t{0}](const ConfigProblem& p) mutable {
      return i++ >= interpolation_problems && std::ranges::find(keys, p.key) != keys.end();
    });
  }

  if (problems.empty()) return config;
  // In file order, like a compiler; problems without a line come last.
  std::stable_sort(problems.begin(), problems.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) {
                     const int line_a = a.line == 0 ? INT_MAX : a.line;
                     const int line_b = b.line == 0 ? INT_MAX : b.line;
                     return line_a < line_b;
                   });
  return kc::unexpected(std::move(problems));
}

}  // namespace

ConfigResult ParseConfig(std::string_view toml_text, const std::string& source,
                         const config::EnvLookup& env) {
#if defined(__cpp_exceptions)
  // toml++ and the standard library may throw (e.g. bad_alloc); nothing
  // escapes a component boundary.
  try {
    return Parse(toml_text, source, env);
  } catch (const std::exception& e) {
    return kc::unexpected(
        OneProblem(0, std::string("internal error while reading the configuration: ") + e.what()));
  }
#else
  return Parse(toml_text, source, env);
#endif
}

ConfigResult LoadConfigFile(const std::string& path, const config::EnvLookup& env) {
  const std::string shown = "'" + Printable(path, path.size()) + "'";
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return kc::unexpected(
        OneProblem(0, "cannot read config file " + shown + ": it is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    const int error = errno;
    return kc::unexpected(OneProblem(
        0, "cannot open config file " + shown + ": " + std::generic_category().message(error)));
  }
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    return kc::unexpected(OneProblem(0, "cannot read config file " + shown));
  }
  return ParseConfig(text, path, env);
}

std::string LeaseTableOf(const Config& config, const PipelineConfig& pipeline) {
  if (!config.leases->table.empty()) return config.leases->table;
  const std::string& app =
      pipeline.checkpoint_app.empty() ? config.checkpoint.app : pipeline.checkpoint_app;
  return app + "-" + pipeline.name;
}

std::string WorkerIdOf(const LeasesConfig& leases) {
  if (!leases.options.worker_id.empty()) return leases.options.worker_id;
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "%s", "localhost");
  }
  return std::string(host) + "-" + std::to_string(::getpid());
}

}  // namespace kc
