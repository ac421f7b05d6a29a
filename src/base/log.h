// Logging: the process's logger (spdlog, on standard error) in one of two
// formats, and the fields a line carries where they are known.
//
//   text  2026-12-07T17:24:15.123Z info [orders] shard shardId-000…: reading …
//   json  {"ts":"2026-12-07T17:24:15.123Z","level":"info","msg":"…",
//          "pipeline":"orders","stream":"orders","shard":"shardId-000…"}
//
// Timestamps are UTC, to the millisecond. JSON lines are one object each,
// always valid JSON (bytes that are not UTF-8 become U+FFFD). The fields
// come from scopes on the logging thread: the engine sets the pipeline,
// stream and shard around the work of a shard, and code that logs about one
// record or one error adds sequence_number or error_code around that line.
#pragma once

#include <spdlog/common.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kc::log {

enum class Format { kText, kJson };

// "text" or "json"; nullopt for anything else.
std::optional<Format> ParseFormat(std::string_view name);
// "trace", "debug", "info", "warn" (or "warning"), "error"; nullopt otherwise.
std::optional<spdlog::level::level_enum> ParseLevel(std::string_view name);

// Makes the default logger write to standard error in `format` at `level`.
// Call before any thread logs; may be called again to change both.
void Setup(Format format, spdlog::level::level_enum level);

// Values no log line may show (config/interpolate.h: what ${NAME} took
// from the environment into a URL or a secret): each becomes "***" in every
// line, in both formats, and in Redact. Values under 8 bytes are left alone
// (util::RedactSecrets).
// Call before threads log.
void SetSecrets(std::vector<std::string> secrets);
// `text` with those values as "***": for what is shown outside the log
// (errors on standard error, `status`).
std::string Redact(std::string text);

// The fields of the calling thread's log lines while it lives; the previous
// ones come back when it ends. Empty values are left out. The strings must
// outlive the scope.
class Scope {
 public:
  Scope(std::string_view pipeline, std::string_view stream, std::string_view shard = {});
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  ~Scope();

 private:
  std::string_view saved_[3];
};

// One more field for the lines logged while it lives: "sequence_number" or
// "error_code".
class Field {
 public:
  enum Key { kSequenceNumber, kErrorCode };
  Field(Key key, std::string_view value);
  Field(const Field&) = delete;
  Field& operator=(const Field&) = delete;
  ~Field();

 private:
  Key key_;
  std::string_view saved_;
};

// Lines logged so far, in either format: a terminal display that redraws
// its lines in place (backfill progress) knows from it whether a log line
// came in between.
uint64_t LinesLogged();

// The JSON line `Setup(kJson, …)` writes, without its newline: for tests.
std::string JsonLine(int64_t unix_millis, spdlog::level::level_enum level, std::string_view msg);

}  // namespace kc::log
