#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/json_fields.h"
#include "sinks/util/csv.h"

namespace kc {
namespace {

using util::JsonField;
using util::JsonPath;

std::vector<JsonPath> Paths(std::initializer_list<const char*> texts) {
  std::vector<JsonPath> paths;
  for (const char* text : texts) {
    auto path = JsonPath::Parse(text);
    EXPECT_TRUE(path) << text;
    if (path) paths.push_back(std::move(*path));
  }
  return paths;
}

std::string Row(std::string_view json, const std::vector<JsonPath>& columns, char delimiter = ',') {
  std::string out;
  auto s = emitter::AppendCsvRow(out, json, columns, delimiter);
  EXPECT_TRUE(s) << json << ": " << s.error().ToString();
  return out;
}

TEST(JsonPath, SplitsOnDotsAndUnescapes) {
  auto p = JsonPath::Parse("user.id");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->names(), (std::vector<std::string>{"user", "id"}));
  EXPECT_EQ(p->text(), "user.id");
  p = JsonPath::Parse(R"(a\.b.c\\d)");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->names(), (std::vector<std::string>{"a.b", "c\\d"}));
}

TEST(JsonPath, RejectsEmptyNamesAndBadEscapes) {
  for (const char* bad : {"", ".a", "a.", "a..b", "a\\", "a\\b"}) {
    auto p = JsonPath::Parse(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
    if (*bad != '\0') {
      EXPECT_NE(p.error().message().find(std::string("\"") + bad + "\""), std::string::npos)
          << p.error().message();
    }
  }
}

TEST(JsonFields, FindsNestedValuesOfEveryKind) {
  const auto paths = Paths({"s", "n", "big", "b", "z", "o", "a", "user.id", "missing", "s.x"});
  std::vector<JsonField> out;
  ASSERT_TRUE(util::ReadJsonFields(
      R"({"s":"h\u00e9\"","n":1.50,"big":123456789012345678901234567890,"b":false,"z":null,)"
      R"("o":{ "k" : [1, {"q":"\n"}] },"a":[],"user":{"id":-7e3}})",
      paths, out));
  ASSERT_EQ(out.size(), paths.size());
  EXPECT_EQ(out[0].kind, JsonField::Kind::kString);
  EXPECT_EQ(out[0].text, "h\xc3\xa9\"");
  EXPECT_EQ(out[1].kind, JsonField::Kind::kNumber);
  EXPECT_EQ(out[1].text, "1.50");
  EXPECT_EQ(out[2].text, "123456789012345678901234567890");
  EXPECT_EQ(out[3].kind, JsonField::Kind::kBool);
  EXPECT_EQ(out[3].text, "false");
  EXPECT_EQ(out[4].kind, JsonField::Kind::kNull);
  EXPECT_EQ(out[5].kind, JsonField::Kind::kObject);
  EXPECT_EQ(out[5].text, R"({"k":[1,{"q":"\n"}]})");
  EXPECT_EQ(out[6].kind, JsonField::Kind::kArray);
  EXPECT_EQ(out[6].text, "[]");
  EXPECT_EQ(out[7].text, "-7e3");
  EXPECT_EQ(out[8].kind, JsonField::Kind::kMissing);
  EXPECT_EQ(out[9].kind, JsonField::Kind::kMissing);  // "s" is a string, not an object
}

TEST(JsonFields, FirstOfDuplicateNamesCounts) {
  std::vector<JsonField> out;
  ASSERT_TRUE(util::ReadJsonFields(R"({"a":1,"a":2})", Paths({"a"}), out));
  EXPECT_EQ(out[0].text, "1");
}

TEST(JsonFields, RefusesWhatIsNotAJsonObject) {
  std::vector<JsonField> out;
  const auto paths = Paths({"a"});
  for (const char* bad : {"",
                          "   ",
                          "not json",
                          "[1,2]",
                          "\"text\"",
                          "42",
                          "null",
                          "{\"a\":1",
                          "{\"a\":1} x",
                          "{\"a\":1}{}",
                          "{\"a\":01}",
                          "{\"a\":1.}",
                          "{\"a\":-}",
                          "{\"a\":tru}",
                          "{\"a\":nul}",
                          "{\"a\":truex}",
                          "{\"a\":\"\\x\"}",
                          "{\"a\":[1,]}",
                          "{\"a\" 1}",
                          "{\"a\":1,}",
                          "{\"a\":\"\xff\"}",
                          "{a:1}"}) {
    auto s = util::ReadJsonFields(bad, paths, out);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code(), ErrorCode::kParse);
    EXPECT_TRUE(s.error().message().starts_with("not valid JSON") ||
                s.error().message().starts_with("not a JSON object"))
        << s.error().message();
  }
  auto s = util::ReadJsonFields("[1]", paths, out);
  EXPECT_EQ(s.error().message(), "not a JSON object: the record is an array");
}

TEST(JsonFields, ValidateAcceptsEveryKindOfDocument) {
  for (const char* good : {"{}", "[]", " 42 ", "-0.5e-3", "\"x\"", "true", "null", "[1,{\"a\":[]}]",
                           "123456789012345678901234567890"}) {
    EXPECT_TRUE(util::ValidateJson(good)) << good;
  }
  for (const char* bad : {"", "42 43", "nul", "01", "[1", "{\"a\":1}x", "\"unterminated"}) {
    EXPECT_FALSE(util::ValidateJson(bad)) << bad;
  }
}

TEST(JsonFields, NestingAsDeepAsSimdjsonsLimitAndNoDeeper) {
  // 1024 levels, as simdjson's DOM parser allows; a record nested far
  // deeper (a megabyte of '[') is refused instead of overflowing the stack.
  const auto nested = [](size_t levels) {
    return std::string(levels - 1, '[') + R"({"a":1})" + std::string(levels - 1, ']');
  };
  EXPECT_TRUE(util::ValidateJson(nested(1024)));
  for (size_t levels : {size_t{1025}, size_t{1} << 20}) {
    auto s = util::ValidateJson(nested(levels));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), ErrorCode::kParse);
  }
  std::vector<JsonField> out;
  EXPECT_FALSE(util::ReadJsonFields("{\"a\":" + nested(1024) + "}", Paths({"a.a"}), out));
  EXPECT_TRUE(util::ReadJsonFields("{\"a\":" + nested(1023) + "}", Paths({"a.a"}), out));
}

TEST(Csv, WritesEachKindOfValue) {
  const auto columns = Paths({"s", "n", "b", "z", "missing", "o", "user.id"});
  EXPECT_EQ(
      Row(R"({"s":"plain","n":-1.50,"b":true,"z":null,"o":[1,"x"],"user":{"id":7}})", columns),
      "plain,-1.50,true,,,\"[1,\"\"x\"\"]\",7\n");
}

TEST(Csv, QuotesOnlyWhatNeedsQuoting) {
  const auto columns = Paths({"v"});
  EXPECT_EQ(Row(R"({"v":"a,b"})", columns), "\"a,b\"\n");
  EXPECT_EQ(Row(R"({"v":"say \"hi\""})", columns), "\"say \"\"hi\"\"\"\n");
  EXPECT_EQ(Row(R"({"v":"line\nbreak"})", columns), "\"line\nbreak\"\n");
  EXPECT_EQ(Row(R"({"v":"cr\rhere"})", columns), "\"cr\rhere\"\n");
  EXPECT_EQ(Row(R"({"v":"tab\there; semi"})", columns), "tab\there; semi\n");
  EXPECT_EQ(Row(R"({"v":" spaced "})", columns), " spaced \n");
  // An empty string is not NULL.
  EXPECT_EQ(Row(R"({"v":""})", columns), "\"\"\n");
  EXPECT_EQ(Row(R"({"v":null})", columns), "\n");
  EXPECT_EQ(Row(R"({})", columns), "\n");
  // PostgreSQL's end-of-data marker stays data.
  EXPECT_EQ(Row(R"({"v":"\\."})", columns), "\"\\.\"\n");
}

TEST(Csv, OtherDelimiters) {
  const auto columns = Paths({"a", "b"});
  EXPECT_EQ(Row(R"({"a":"x,y","b":"p|q"})", columns, '|'), "x,y|\"p|q\"\n");
  EXPECT_EQ(Row(R"({"a":"x\ty","b":1})", columns, '\t'), "\"x\ty\"\t1\n");
  EXPECT_EQ(Row(R"({"a":null,"b":null})", columns, ';'), ";\n");
}

TEST(Csv, BadRecordLeavesTheOutputAlone) {
  const auto columns = Paths({"a"});
  std::string out = "before\n";
  auto s = emitter::AppendCsvRow(out, "not json", columns, ',');
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kParse);
  EXPECT_EQ(out, "before\n");
  s = emitter::AppendCsvRow(out, R"(["a"])", columns, ',');
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("not a JSON object"), std::string::npos);
  EXPECT_EQ(out, "before\n");
}

TEST(Csv, RowsAppend) {
  const auto columns = Paths({"a"});
  std::string out;
  ASSERT_TRUE(emitter::AppendCsvRow(out, R"({"a":1})", columns, ','));
  ASSERT_TRUE(emitter::AppendCsvRow(out, R"({"a":"two"})", columns, ','));
  EXPECT_EQ(out, "1\ntwo\n");
}

}  // namespace
}  // namespace kc
