// Log lines: JSON objects with the fields of the logging thread's scopes,
// always valid JSON; text lines with UTC timestamps.
#include "base/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <sstream>
#include <thread>

namespace kc::log {
namespace {

constexpr int64_t kMillis = 1'796'665'455'123;  // 2026-12-07T17:44:15.123Z

TEST(LogTest, AJsonLineHasTheTimeLevelMessageAndNoFieldsOutsideAScope) {
  EXPECT_EQ(JsonLine(kMillis, spdlog::level::info, "hello"),
            R"({"ts":"2026-12-07T17:44:15.123Z","level":"info","msg":"hello"})");
  EXPECT_EQ(JsonLine(kMillis, spdlog::level::warn, "w"),
            R"({"ts":"2026-12-07T17:44:15.123Z","level":"warn","msg":"w"})");
  EXPECT_EQ(JsonLine(kMillis, spdlog::level::err, "e"),
            R"({"ts":"2026-12-07T17:44:15.123Z","level":"error","msg":"e"})");
}

TEST(LogTest, ScopesAddTheirFieldsAndRestoreTheOnesBefore) {
  {
    const Scope pipeline("orders", "orders-stream");
    const Scope shard("orders", "orders-stream", "shardId-000000000001");
    const Field sequence(Field::kSequenceNumber, "4959");
    const Field code(Field::kErrorCode, "throttled");
    EXPECT_EQ(JsonLine(kMillis, spdlog::level::info, "m"),
              R"({"ts":"2026-12-07T17:44:15.123Z","level":"info","msg":"m",)"
              R"("pipeline":"orders","stream":"orders-stream","shard":"shardId-000000000001",)"
              R"("sequence_number":"4959","error_code":"throttled"})");
    std::thread other([] {
      // Another thread has fields of its own.
      EXPECT_EQ(JsonLine(kMillis, spdlog::level::info, "x"),
                R"({"ts":"2026-12-07T17:44:15.123Z","level":"info","msg":"x"})");
    });
    other.join();
  }
  {
    const Scope pipeline("orders", "orders-stream");
    { const Scope shard("orders", "orders-stream", "shardId-000000000002"); }
    EXPECT_EQ(JsonLine(kMillis, spdlog::level::info, "m"),
              R"({"ts":"2026-12-07T17:44:15.123Z","level":"info","msg":"m",)"
              R"("pipeline":"orders","stream":"orders-stream"})");
  }
}

TEST(LogTest, ControlCharactersQuotesAndBytesThatAreNotUtf8StayValidJson) {
  EXPECT_EQ(JsonLine(kMillis, spdlog::level::info, "a\"b\\c\nd\x01"),
            R"({"ts":"2026-12-07T17:44:15.123Z","level":"info","msg":"a\"b\\c\nd\u0001"})");
  // Valid multi-byte characters pass; a lone continuation byte, an overlong
  // form, a surrogate and a cut-off sequence become U+FFFD each.
  EXPECT_EQ(JsonLine(kMillis, spdlog::level::info, "ü✓\x80 \xC0\xAF \xED\xA0\x80 \xE2\x9C"),
            "{\"ts\":\"2026-12-07T17:44:15.123Z\",\"level\":\"info\",\"msg\":"
            "\"ü✓\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
            "\xEF\xBF\xBD\xEF\xBF\xBD\"}");
}

TEST(LogTest, SecretsFromTheEnvironmentAreHiddenInEveryFormat) {
  SetSecrets({"s3cr3t-pw", "abc"});  // "abc": too short to hide
  EXPECT_EQ(Redact("postgresql://u:s3cr3t-pw@db/x abc"), "postgresql://u:***@db/x abc");
  {
    const Scope shard("p", "s", "s3cr3t-pw");
    EXPECT_EQ(
        JsonLine(kMillis, spdlog::level::info, "url postgresql://u:s3cr3t-pw@db/x"),
        R"({"ts":"2026-12-07T17:44:15.123Z","level":"info","msg":"url postgresql://u:***@db/x",)"
        R"("pipeline":"p","stream":"s","shard":"***"})");
  }
  SetSecrets({});
  EXPECT_EQ(Redact("s3cr3t-pw"), "s3cr3t-pw");
}

TEST(LogTest, NamesOfLevelsAndFormats) {
  EXPECT_EQ(ParseLevel("warn"), spdlog::level::warn);
  EXPECT_EQ(ParseLevel("warning"), spdlog::level::warn);
  EXPECT_EQ(ParseLevel("error"), spdlog::level::err);
  EXPECT_EQ(ParseLevel("loud"), std::nullopt);
  EXPECT_EQ(ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("text"), Format::kText);
  EXPECT_EQ(ParseFormat("xml"), std::nullopt);
}

TEST(LogTest, SetupWritesTextInUtcAndJsonOneObjectALine) {
  log::Setup(Format::kText, spdlog::level::info);
  auto logger = spdlog::default_logger();
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto saved = logger->sinks();
  logger->sinks() = {sink};
  log::Setup(Format::kText, spdlog::level::info);  // the formatter goes to the new sink
  spdlog::info("text line");
  spdlog::debug("not shown");
  log::Setup(Format::kJson, spdlog::level::debug);
  {
    const Scope shard("p", "s", "shard-1");
    spdlog::debug("json line");
  }
  logger->sinks() = saved;
  log::Setup(Format::kText, spdlog::level::info);
  const std::string out = captured.str();
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info text line\n)")))
      << out;
  EXPECT_EQ(out.find("not shown"), std::string::npos);
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(\n\{"ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","level":"debug",)"
                      R"("msg":"json line","pipeline":"p","stream":"s","shard":"shard-1"\}\n$)")))
      << out;
}

}  // namespace
}  // namespace kc::log
