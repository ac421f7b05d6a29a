// What the postgres emitter sends to COPY: one escaped text row per record
// (column), or one csv row of JSON fields per record (columns), and a clear
// error, never a crash, for a record that cannot be loaded.
#include "sinks/postgres/postgres_emitter.h"

#include <gtest/gtest.h>

namespace kc::emitter {
namespace {

Batch BatchOf(std::vector<std::string> data) {
  Batch b;
  b.stream = "events";
  b.shard_id = "shardId-000000000003";
  int seq = 100;
  for (auto& d : data) {
    Record r;
    r.data = std::move(d);
    r.sequence_number =
        "49590338271490256608559692538361571095921575989136" + std::to_string(seq++);
    b.bytes += r.data.size();
    b.records.push_back(std::move(r));
  }
  return b;
}

TEST(PostgresEmitterCopy, OneEscapedRowPerRecord) {
  auto text = PostgresEmitter::CopyText(
      BatchOf({"plain", "tab\there", "two\nlines\r\n", "back\\slash \\N", "", "ünï ✓ 🙂"}));
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_EQ(*text,
            "plain\n"
            "tab\\there\n"
            "two\\nlines\\r\\n\n"
            "back\\\\slash \\\\N\n"
            "\n"
            "ünï ✓ 🙂\n");
}

TEST(PostgresEmitterCopy, RecordsThatCannotBeTextAreBadRecordsNamingThemselves) {
  for (std::string bad :
       {std::string("nul\0byte", 8), std::string("\xff\xfe latin"), std::string("cut \xe2\x9c")}) {
    auto text = PostgresEmitter::CopyText(BatchOf({"fine", bad}));
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_FALSE(text.error().retriable());
    const std::string& m = text.error().message();
    EXPECT_NE(m.find("shardId-000000000003"), std::string::npos) << m;
    EXPECT_NE(m.find("49590338271490256608559692538361571095921575989136101"), std::string::npos)
        << m;
    EXPECT_NE(m.find("envelope"), std::string::npos) << "names a way out: " << m;
  }
}

std::vector<util::JsonPath> Paths(std::initializer_list<std::string_view> texts) {
  std::vector<util::JsonPath> paths;
  for (std::string_view t : texts) {
    auto p = util::JsonPath::Parse(t);
    EXPECT_TRUE(p) << t;
    if (p) paths.push_back(std::move(*p));
  }
  return paths;
}

PostgresSettings ColumnsConfig() {
  PostgresSettings c;
  c.url = "postgresql://loader@127.0.0.1:1/events";
  c.table = "raw.events";
  for (auto [column, path] : {std::pair{"user_id", "user.id"}, std::pair{"Kind", "kind"},
                              std::pair{"payload", "payload"}}) {
    c.columns.emplace_back(column, *util::JsonPath::Parse(path));
  }
  return c;
}

TEST(PostgresEmitterCopy, SqlNamesTheColumnOrTheColumnsInCsvFormat) {
  PostgresSettings one;
  one.table = "events";
  one.column = "data";
  EXPECT_EQ(PostgresEmitter::CopySql(one), R"(COPY "events" ("data") FROM STDIN)");
  EXPECT_EQ(PostgresEmitter::CopySql(ColumnsConfig()),
            R"(COPY "raw"."events" ("user_id", "Kind", "payload") FROM STDIN (FORMAT csv))");
}

TEST(PostgresEmitterCopy, ColumnsAreOneCsvRowPerRecordWithNullForMissingAndNull) {
  auto text = PostgresEmitter::CopyCsv(
      BatchOf({
          R"({"user": {"id": 7}, "kind": "click", "payload": {"a": [1, 2], "b": null}})",
          R"({"user": {"id": null}, "kind": "", "payload": [1, "x"]})",
          R"({"kind": "say \"hi\", then\nbye", "user": 3})",
          R"({"user": {"id": true}, "kind": "\\.", "payload": "plain"})",
          R"({"user": {"id": "ünï ✓"}, "kind": "tab\there", "payload": 1.50})",
      }),
      Paths({"user.id", "kind", "payload"}));
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_EQ(*text,
            "7,click,\"{\"\"a\"\":[1,2],\"\"b\"\":null}\"\n"
            // null and missing: nothing, SQL NULL; "" stays an empty string
            ",\"\",\"[1,\"\"x\"\"]\"\n"
            ",\"say \"\"hi\"\", then\nbye\",\n"
            // "\." alone would end COPY's data: quoted
            "true,\"\\.\",plain\n"
            "ünï ✓,tab\there,1.50\n");
}

TEST(PostgresEmitterCopy, ColumnsNeedJsonObjectsAndBadRecordsNameThemselves) {
  for (std::string bad : {std::string("[1, 2]"), std::string("not json"), std::string("\"text\""),
                          std::string("{\"user\": {\"id\": \"a\\u0000b\"}}")}) {
    auto text = PostgresEmitter::CopyCsv(BatchOf({R"({"user": {"id": 1}})", bad}),
                                         Paths({"user.id", "kind"}));
    ASSERT_FALSE(text) << bad;
    EXPECT_EQ(text.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_FALSE(text.error().retriable());
    const std::string& m = text.error().message();
    EXPECT_NE(m.find("bad record in stream events shard shardId-000000000003"), std::string::npos)
        << m;
    EXPECT_NE(m.find("49590338271490256608559692538361571095921575989136101"), std::string::npos)
        << m;
  }
  auto array = PostgresEmitter::CopyCsv(BatchOf({"[1]"}), Paths({"id"}));
  ASSERT_FALSE(array);
  EXPECT_NE(array.error().message().find("not a JSON object"), std::string::npos)
      << array.error().message();
  EXPECT_NE(array.error().message().find("column = "), std::string::npos)
      << "names a way out: " << array.error().message();
  auto nul = PostgresEmitter::CopyCsv(BatchOf({R"({"id": "a\u0000b"})"}), Paths({"id"}));
  ASSERT_FALSE(nul);
  EXPECT_NE(nul.error().message().find("NUL"), std::string::npos) << nul.error().message();
}

TEST(PostgresEmitterCreate, NeedsExactlyOneOfColumnAndColumns) {
  PostgresSettings both = ColumnsConfig();
  both.column = "data";
  auto made = PostgresEmitter::Create(both, nullptr);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code(), ErrorCode::kConfig);
  PostgresSettings neither = ColumnsConfig();
  neither.columns.clear();
  EXPECT_FALSE(PostgresEmitter::Create(neither, nullptr));
  auto good = PostgresEmitter::Create(ColumnsConfig(), nullptr);
  ASSERT_TRUE(good) << good.error().ToString();
  const std::string described = (*good)->Describe();
  EXPECT_NE(described.find("user_id from field user.id"), std::string::npos) << described;
}

}  // namespace
}  // namespace kc::emitter
