// The JSON transformer and the JSON field filter.
#include <gtest/gtest.h>

#include "transforms/json/json_transformer.h"
#include "transforms/json_field/json_field_filter.h"

namespace kc {
namespace {

Record WithData(std::string data) {
  Record r;
  r.data = std::move(data);
  r.sequence_number = "1";
  return r;
}

TEST(JsonTransformer, PassesJsonOnUnchanged) {
  transform::JsonTransformer t;
  for (const char* json : {R"({"a": [1, 2.50, "x"] })", "[]", "42", "\"text\"", "null",
                           "123456789012345678901234567890", " {\"a\":1}\n"}) {
    Record r = WithData(json);
    ASSERT_TRUE(t.Transform(r)) << json;
    EXPECT_EQ(r.data, json);
  }
}

TEST(JsonTransformer, RefusesWhatIsNotJsonWithTheReason) {
  transform::JsonTransformer t;
  for (const char* bad :
       {"", "plain text", "{\"a\":1", "{\"a\":1} {\"b\":2}", "[1,]", "01", "{'a':1}", "\xff"}) {
    Record r = WithData(bad);
    auto s = t.Transform(r);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code(), ErrorCode::kParse);
    EXPECT_TRUE(s.error().message().starts_with("not valid JSON: ")) << s.error().message();
    EXPECT_EQ(r.data, bad);
  }
}

using transform::JsonFieldFilter;

std::unique_ptr<JsonFieldFilter> MakeFilter(const char* field, std::vector<std::string> values,
                                            JsonFieldFilter::Mode mode) {
  auto f = JsonFieldFilter::Create(field, std::move(values), mode);
  EXPECT_TRUE(f) << f.error().ToString();
  return f ? std::move(*f) : nullptr;
}

bool Keeps(Filter& f, const char* json) {
  auto kept = f.Keep(WithData(json));
  EXPECT_TRUE(kept) << json << ": " << kept.error().ToString();
  return kept.value_or(false);
}

TEST(JsonFieldFilter, EqualsKeepsOnlyMatchingValues) {
  auto f = MakeFilter("event.type", {"click", "3", "true"}, JsonFieldFilter::Mode::kKeepMatches);
  ASSERT_TRUE(f);
  EXPECT_TRUE(Keeps(*f, R"({"event":{"type":"click"}})"));
  EXPECT_FALSE(Keeps(*f, R"({"event":{"type":"view"}})"));
  // Numbers and booleans by their JSON text.
  EXPECT_TRUE(Keeps(*f, R"({"event":{"type":3}})"));
  EXPECT_FALSE(Keeps(*f, R"({"event":{"type":3.0}})"));
  EXPECT_TRUE(Keeps(*f, R"({"event":{"type":true}})"));
  EXPECT_TRUE(Keeps(*f, R"({"event":{"type":"3"}})"));
  // Missing, null and containers match nothing.
  EXPECT_FALSE(Keeps(*f, R"({"event":{}})"));
  EXPECT_FALSE(Keeps(*f, R"({"event":{"type":null}})"));
  EXPECT_FALSE(Keeps(*f, R"({"event":{"type":["click"]}})"));
  EXPECT_FALSE(Keeps(*f, R"({"type":"click"})"));
  // Compared unescaped.
  EXPECT_TRUE(Keeps(*f, R"({"event":{"type":"cl\u0069ck"}})"));
}

TEST(JsonFieldFilter, NotEqualsDropsMatchingValues) {
  auto f = MakeFilter("type", {"heartbeat"}, JsonFieldFilter::Mode::kDropMatches);
  ASSERT_TRUE(f);
  EXPECT_FALSE(Keeps(*f, R"({"type":"heartbeat"})"));
  EXPECT_TRUE(Keeps(*f, R"({"type":"click"})"));
  EXPECT_TRUE(Keeps(*f, R"({"other":1})"));
}

TEST(JsonFieldFilter, ARecordThatIsNotAJsonObjectIsAnError) {
  auto f = MakeFilter("type", {"a"}, JsonFieldFilter::Mode::kKeepMatches);
  ASSERT_TRUE(f);
  for (const char* bad : {"not json", "[\"a\"]", "{\"type\":\"a\"", ""}) {
    auto kept = f->Keep(WithData(bad));
    ASSERT_FALSE(kept) << bad;
    EXPECT_EQ(kept.error().code(), ErrorCode::kParse);
    EXPECT_TRUE(kept.error().message().starts_with("filter on field \"type\": not "))
        << kept.error().message();
  }
}

TEST(JsonFieldFilter, BadPathIsAConfigError) {
  auto f = JsonFieldFilter::Create("a..b", {"x"}, JsonFieldFilter::Mode::kKeepMatches);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), ErrorCode::kConfig);
  EXPECT_NE(f.error().message().find("\"a..b\""), std::string::npos);
}

}  // namespace
}  // namespace kc
