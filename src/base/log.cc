#include "base/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>

#include "base/json_writer.h"
#include "base/redact.h"
#include "base/time_format.h"

namespace kc::log {
namespace {

// The calling thread's fields, by index: pipeline, stream, shard,
// sequence_number, error_code.
constexpr const char* kFieldNames[] = {"pipeline", "stream", "shard", "sequence_number",
                                       "error_code"};
constexpr size_t kFields = std::size(kFieldNames);
thread_local std::string_view fields[kFields];

// SetSecrets's; written before threads log, then only read.
std::vector<std::string>& Secrets() {
  static auto* secrets = new std::vector<std::string>();
  return *secrets;
}

std::atomic<uint64_t> lines_logged{0};

// The length of the valid UTF-8 sequence at the start of `s`, or 0
// (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
size_t Utf8Length(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

// `s` with every byte that does not start a valid UTF-8 sequence replaced
// by U+FFFD.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const size_t n = Utf8Length(s);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      s.remove_prefix(1);
    } else {
      out.append(s.substr(0, n));
      s.remove_prefix(n);
    }
  }
  return out;
}

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// The text format: spdlog's pattern, then the secrets hidden.
class TextFormatter final : public spdlog::formatter {
 public:
  TextFormatter() : pattern_("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    lines_logged.fetch_add(1, std::memory_order_relaxed);
    if (Secrets().empty()) return pattern_.format(msg, dest);
    spdlog::memory_buf_t line;
    pattern_.format(msg, line);
    const std::string shown = Redact(std::string(line.data(), line.size()));
    dest.append(shown.data(), shown.data() + shown.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }

 private:
  spdlog::pattern_formatter pattern_;
};

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    lines_logged.fetch_add(1, std::memory_order_relaxed);
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    const std::string line =
        JsonLine(ms, msg.level, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

std::optional<spdlog::level::level_enum> ParseLevel(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return std::nullopt;
}

std::string JsonLine(int64_t unix_millis, spdlog::level::level_enum level, std::string_view msg) {
  util::JsonWriter w;
  w.BeginObject()
      .Field("ts", util::FormatRfc3339Millis(unix_millis))
      .Field("level", LevelName(level))
      .Field("msg", ValidUtf8(Redact(std::string(msg))));
  for (size_t i = 0; i < kFields; ++i) {
    if (!fields[i].empty()) w.Field(kFieldNames[i], ValidUtf8(Redact(std::string(fields[i]))));
  }
  w.EndObject();
  return w.Take();
}

void Setup(Format format, spdlog::level::level_enum level) {
  std::shared_ptr<spdlog::logger> logger = spdlog::get("kc");
  if (!logger) {
    // Colours only where standard error is a terminal.
    logger = spdlog::stderr_color_mt("kc");
    spdlog::set_default_logger(logger);
  }
  if (format == Format::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>());
  }
  logger->set_level(level);
}

uint64_t LinesLogged() { return lines_logged.load(std::memory_order_relaxed); }

void SetSecrets(std::vector<std::string> secrets) {
  // Longest first: a secret that is a part of another must not leave the
  // rest of that one showing.
  std::ranges::sort(secrets,
                    [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  Secrets() = std::move(secrets);
}

std::string Redact(std::string text) {
  const std::vector<std::string>& secrets = Secrets();
  if (secrets.empty()) return text;
  return util::RedactSecrets(std::move(text),
                             std::vector<std::string_view>(secrets.begin(), secrets.end()));
}

Scope::Scope(std::string_view pipeline, std::string_view stream, std::string_view shard) {
  const std::string_view values[3] = {pipeline, stream, shard};
  for (size_t i = 0; i < 3; ++i) {
    saved_[i] = fields[i];
    fields[i] = values[i];
  }
}

Scope::~Scope() {
  for (size_t i = 0; i < 3; ++i) fields[i] = saved_[i];
}

Field::Field(Key key, std::string_view value) : key_(key) {
  const size_t i = key == kSequenceNumber ? 3 : 4;
  saved_ = fields[i];
  fields[i] = value;
}

Field::~Field() { fields[key_ == kSequenceNumber ? 3 : 4] = saved_; }

}  // namespace kc::log
