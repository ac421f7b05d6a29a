#include <gtest/gtest.h>

#include <random>

#include "base/base64.h"
#include "base/json_writer.h"
#include "base/time_format.h"

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

TEST(Base64, DecodingIntoAStringReusesItsMemoryAndReplacesItsContents) {
  std::string out(4096, 'x');
  const char* memory = out.data();
  ASSERT_TRUE(Base64DecodeInto("Zm9vYmE=", out));
  EXPECT_EQ(out, "fooba");
  EXPECT_EQ(out.data(), memory);
  ASSERT_TRUE(Base64DecodeInto("", out));
  EXPECT_EQ(out, "");
  // Too small: grown, with nothing of before left in it.
  std::string small = "abc";
  const std::string long_text(3000, 'A');
  ASSERT_TRUE(Base64DecodeInto(Base64Encode(long_text), small));
  EXPECT_EQ(small, long_text);
  EXPECT_EQ(Base64DecodeInto("ab!d", out).error().code(), ErrorCode::kParse);
}

TEST(Base64, NamesTheOffsetOfABadCharacterAnywhere) {
  // Groups before the last take the table path, the last the careful one:
  // both must reject every character outside the alphabet, padding in the
  // middle included, and say where it is.
  const std::string good = Base64Encode(std::string(30, 'x'));  // 40 characters
  for (size_t at = 0; at < good.size(); ++at) {
    for (char bad : {'!', '=', '-', '_', ' ', '\0', '\x80'}) {
      if (bad == '=' && at >= good.size() - 2) continue;  // legal padding place
      std::string text = good;
      text[at] = bad;
      auto d = Base64Decode(text);
      ASSERT_FALSE(d) << at << " " << int(bad);
      EXPECT_EQ(d.error().message(), "invalid base64 character at offset " + std::to_string(at));
    }
  }
}

TEST(Base64, EveryByteInEveryPlaceOfLongText) {
  // Long text goes through the vector path (blocks of 32 characters) where
  // the CPU has it: each byte value in each place of two blocks must be
  // accepted exactly when it is in the alphabet, and decode to what encodes
  // back to the same text.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string good = Base64Encode(std::string(51, '\x5a'));  // 68 characters
  for (size_t at = 0; at < 64; ++at) {
    for (int c = 0; c < 256; ++c) {
      std::string text = good;
      text[at] = static_cast<char>(c);
      auto d = Base64Decode(text);
      const bool in_alphabet = alphabet.find(static_cast<char>(c)) != std::string::npos;
      ASSERT_EQ(d.has_value(), in_alphabet) << "byte " << c << " at " << at;
      if (in_alphabet) {
        ASSERT_EQ(Base64Encode(*d), text) << "byte " << c << " at " << at;
      } else {
        EXPECT_EQ(d.error().message(), "invalid base64 character at offset " + std::to_string(at));
      }
    }
  }
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
