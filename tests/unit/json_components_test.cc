// The JSON transformer and the JSON field filter.
#include <gtest/gtest.h>

#include "transform/json_transformer.h"

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
  for (const char* bad : {"", "plain text", "{\"a\":1", "{\"a\":1} {\"b\":2}", "[1,]", "01",
                          "{'a':1}", "\xff"}) {
    Record r = WithData(bad);
    auto s = t.Transform(r);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code(), ErrorCode::kParse);
    EXPECT_TRUE(s.error().message().starts_with("not valid JSON: ")) << s.error().message();
    EXPECT_EQ(r.data, bad);
  }
}

}  // namespace
}  // namespace kc
