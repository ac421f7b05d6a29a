// Decompression of data nobody vouches for: streams fed in any pieces come
// out whole, bombs stop at the cap with an error saying so, damaged or cut
// data is an error, and nothing allocates what a header claims.
#include "base/compression.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace kc::util {
namespace {

std::string Text(size_t n) {
  std::mt19937 rng(7);
  std::string out;
  while (out.size() < n) out += "event " + std::to_string(rng() % 100000) + ",user\n";
  out.resize(n);
  return out;
}

// Feeds `data` to a decompressor in pieces of `piece` bytes; the output, or
// the first error.
Result<std::string> Stream(Compression c, std::string_view data, size_t piece, uint64_t max) {
  std::string out;
  std::unique_ptr<Decompressor> d = MakeDecompressor(c, max, [&](std::string_view got) {
    out.append(got);
    return Ok();
  });
  for (size_t at = 0; at < data.size(); at += piece) {
    if (auto s = d->Feed(data.substr(at, piece)); !s) return Fail(s.error());
  }
  if (auto s = d->Finish(); !s) return Fail(s.error());
  return out;
}

class DecompressorTest : public ::testing::TestWithParam<Compression> {};

TEST_P(DecompressorTest, AnyPiecesGiveTheWholeData) {
  const std::string text = Text(3'000'000);
  auto packed = Compress(text, GetParam());
  ASSERT_TRUE(packed);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{65536}, packed->size()}) {
    if (piece == 1 && packed->size() > 200'000) continue;  // slow for no more proof
    auto out = Stream(GetParam(), *packed, piece, 1ull << 30);
    ASSERT_TRUE(out) << out.error().ToString();
    EXPECT_EQ(*out, text) << "pieces of " << piece;
  }
  // Two compressed streams one after the other are one stream of both.
  auto both = Stream(GetParam(), *packed + *packed, 65536, 1ull << 30);
  ASSERT_TRUE(both) << both.error().ToString();
  EXPECT_EQ(*both, text + text);
}

TEST_P(DecompressorTest, ABombStopsAtTheCap) {
  const std::string zeros(64 << 20, '\0');
  auto packed = Compress(zeros, GetParam());
  ASSERT_TRUE(packed);
  uint64_t handed_on = 0;
  std::unique_ptr<Decompressor> d = MakeDecompressor(GetParam(), 1 << 20, [&](std::string_view s) {
    handed_on += s.size();
    return Ok();
  });
  Status fed = d->Feed(*packed);
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().code(), ErrorCode::kParse);
  EXPECT_EQ(fed.error().message(),
            "the data decompresses to more than 1048576 bytes, the most allowed");
  EXPECT_LE(handed_on, 1u << 20);
  // The whole-buffer form stops there too.
  auto whole = Decompress(*packed, GetParam(), 1 << 20);
  ASSERT_FALSE(whole);
  EXPECT_EQ(whole.error().message(), fed.error().message());
}

TEST_P(DecompressorTest, DamagedOrCutDataIsAnError) {
  if (GetParam() == Compression::kNone) GTEST_SKIP() << "nothing to damage";
  auto packed = Compress(Text(100'000), GetParam());
  ASSERT_TRUE(packed);
  auto cut = Stream(GetParam(), packed->substr(0, packed->size() / 2), 4096, 1ull << 30);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code(), ErrorCode::kParse);
  EXPECT_NE(cut.error().message().find("ends early"), std::string::npos) << cut.error().message();
  std::string damaged = *packed;
  for (size_t i = 20; i < damaged.size(); i += 97) damaged[i] ^= 0x5a;
  auto bad = Stream(GetParam(), damaged, 4096, 1ull << 30);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kParse);
}

TEST_P(DecompressorTest, ASinkErrorEndsTheStreamAsItIs) {
  auto packed = Compress(Text(1'000'000), GetParam());
  ASSERT_TRUE(packed);
  std::unique_ptr<Decompressor> d = MakeDecompressor(GetParam(), 1ull << 30, [](std::string_view) {
    return Status(Fail(ErrorCode::kConnection, "the database went away"));
  });
  Status fed = d->Feed(*packed);
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().code(), ErrorCode::kConnection);
  EXPECT_EQ(fed.error().message(), "the database went away");
}

INSTANTIATE_TEST_SUITE_P(Compressions, DecompressorTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip,
                                           Compression::kZstd),
                         [](const auto& p) { return std::string(CompressionName(p.param)); });

TEST(Decompress, AZstdFrameClaiming64GiBAllocatesNothing) {
  // A frame header alone: magic, a descriptor with an 8-byte content size
  // and a window byte, and 64 GiB as the content size.
  std::string frame = "\x28\xb5\x2f\xfd";
  frame += '\xc0';  // content size in 8 bytes, not single-segment
  frame += '\x00';  // window descriptor: 1 KiB
  uint64_t claimed = 64ull << 30;
  for (int i = 0; i < 8; ++i) frame += static_cast<char>(claimed >> (8 * i) & 0xff);
  auto out = Decompress(frame, Compression::kZstd, 1 << 20);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message(),
            "the data decompresses to more than 1048576 bytes, the most allowed");
  // The stream decoder never looks at the claim: the data simply ends.
  auto streamed = Stream(Compression::kZstd, frame, 4096, 1 << 20);
  ASSERT_FALSE(streamed);
  EXPECT_EQ(streamed.error().code(), ErrorCode::kParse);
}

TEST(Decompress, AGzipTrailerClaimingMoreThanTheCapAllocatesOnlyTheCap) {
  auto packed = Compress(Text(10'000), Compression::kGzip);
  ASSERT_TRUE(packed);
  std::string lying = *packed;
  for (size_t i = lying.size() - 4; i < lying.size(); ++i) lying[i] = '\xff';  // ISIZE 4 GiB
  auto out = Decompress(lying, Compression::kGzip, 1 << 20);
  // The data itself is fine apart from its size field, which libdeflate
  // checks: an error, and no 4 GiB buffer on the way.
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::kParse);
}

}  // namespace
}  // namespace kc::util
