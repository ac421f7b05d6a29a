#include <gtest/gtest.h>

#include "kc/sequence_number.h"

namespace kc {
namespace {

TEST(SequenceNumber, ComparesAsNumbersNotStrings) {
  EXPECT_EQ(CompareSequenceNumbers("9", "10"), std::strong_ordering::less);
  EXPECT_EQ(CompareSequenceNumbers("10", "9"), std::strong_ordering::greater);
  EXPECT_EQ(CompareSequenceNumbers("010", "10"), std::strong_ordering::equal);
  EXPECT_EQ(CompareSequenceNumbers("0", "0000"), std::strong_ordering::equal);
}

TEST(SequenceNumber, BeyondSixtyFourAndOneHundredTwentyEightBits) {
  // Real sequence numbers have 56 digits, far beyond uint64_t.
  const std::string a = "49590338271490256608559692538361571095921575989136588898";
  const std::string b = "49590338271490256608559692540925702759324208523137515618";
  EXPECT_EQ(CompareSequenceNumbers(a, b), std::strong_ordering::less);
  EXPECT_EQ(CompareSequenceNumbers(b, a), std::strong_ordering::greater);
  EXPECT_EQ(CompareSequenceNumbers(a, a), std::strong_ordering::equal);
  // 2^128 vs 2^128 - 1
  EXPECT_EQ(CompareSequenceNumbers("340282366920938463463374607431768211456",
                                   "340282366920938463463374607431768211455"),
            std::strong_ordering::greater);
  // Differs only in the last of 129 digits.
  std::string big(129, '9');
  std::string smaller = big;
  smaller.back() = '8';
  EXPECT_EQ(CompareSequenceNumbers(smaller, big), std::strong_ordering::less);
}

TEST(SequenceNumber, Validity) {
  EXPECT_TRUE(IsValidSequenceNumber("0"));
  EXPECT_TRUE(IsValidSequenceNumber(std::string(129, '1')));
  EXPECT_FALSE(IsValidSequenceNumber(std::string(130, '1')));
  EXPECT_FALSE(IsValidSequenceNumber(""));
  EXPECT_FALSE(IsValidSequenceNumber("12a"));
  EXPECT_FALSE(IsValidSequenceNumber("-1"));
  EXPECT_FALSE(IsValidSequenceNumber(" 1"));
}

// Every byte value at every position of a word-sized and a ragged number:
// only the ten digits pass, whatever their neighbours.
TEST(SequenceNumber, ValidityOfEveryByteAtEveryPosition) {
  for (size_t length : {size_t{8}, size_t{19}, size_t{56}}) {
    for (size_t at = 0; at < length; ++at) {
      for (int b = 0; b < 256; ++b) {
        for (char fill : {'0', '9'}) {
          std::string s(length, fill);
          s[at] = static_cast<char>(b);
          EXPECT_EQ(IsValidSequenceNumber(s), b >= '0' && b <= '9')
              << "byte " << b << " at " << at << " of " << length;
        }
      }
    }
  }
}

TEST(ShardPosition, OrdersBySequenceThenSubSequence) {
  ShardPosition a{"100", 0};
  ShardPosition b{"100", 1};
  ShardPosition c{"99", 7};
  EXPECT_LT(a, b);
  EXPECT_LT(c, a);
  EXPECT_EQ(a, (ShardPosition{"0100", 0}));
}

}  // namespace
}  // namespace kc
