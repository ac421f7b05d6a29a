#include <gtest/gtest.h>

#include <random>

#include "util/base64.h"
#include "util/json_writer.h"
#include "util/time_format.h"

namespace kc::util {
namespace {

TEST(Base64, KnownVectors) {
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto d = Base64Decode(encoded);
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, plain);
  }
}

TEST(Base64, BinaryRoundTrip) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 300; ++n) {
    std::string bytes(n, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    auto d = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, bytes);
  }
}

TEST(Base64, RejectsGarbage) {
  EXPECT_FALSE(Base64Decode("abc"));
  EXPECT_FALSE(Base64Decode("ab!d"));
  EXPECT_FALSE(Base64Decode("a==b"));
  EXPECT_FALSE(Base64Decode("=abc"));
  EXPECT_EQ(Base64Decode("ab\ncd").error().code(), ErrorCode::kParse);
}

TEST(JsonWriter, EscapesAndNests) {
  JsonWriter w;
  w.BeginObject()
      .Field("s", std::string_view("a\"b\\c\n\t\x01 é"))
      .Field("n", int64_t{-5})
      .Field("u", uint64_t{18446744073709551615ull})
      .Field("b", true)
      .Key("a")
      .BeginArray()
      .Int(1)
      .BeginObject()
      .EndObject()
      .Null()
      .EndArray()
      .Key("d")
      .Double(1732563456.789)
      .EndObject();
  EXPECT_EQ(w.str(),
            "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001 é\",\"n\":-5,\"u\":18446744073709551615,"
            "\"b\":true,\"a\":[1,{},null],\"d\":1732563456.789}");
}

TEST(TimeFormat, CivilConversions) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(1795642616123), "2026-11-25T21:36:56.123Z");
  EXPECT_EQ(FormatRfc3339Millis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatAmzDate(1440938160000), "20150830T123600Z");
  EXPECT_EQ(Pad(7, 3), "007");
  EXPECT_EQ(Pad(-7, 3), "-007");
}

}  // namespace
}  // namespace kc::util
