// Kinesis sequence numbers.
//
// A sequence number is a decimal string. The API allows up to 129 digits and
// real ones are 56 digits long, more than any fixed-width integer holds, so
// they are compared as arbitrary-precision decimals: fewer significant digits
// means smaller, equal lengths compare digit by digit. Records produced by the
// Kinesis Producer Library share one sequence number and are told apart by a
// sub-sequence number, so a position in a shard is the pair.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kc {

// True if `s` is a non-empty string of ASCII digits of at most 129 characters.
bool IsValidSequenceNumber(std::string_view s);

// Numeric three-way comparison of two valid sequence numbers.
// REQUIRES: IsValidSequenceNumber(a) && IsValidSequenceNumber(b)
std::strong_ordering CompareSequenceNumbers(std::string_view a, std::string_view b);

// A position in a shard: a sequence number and a sub-sequence number.
struct ShardPosition {
  std::string sequence_number;
  uint64_t sub_sequence_number = 0;

  friend std::strong_ordering operator<=>(const ShardPosition& a, const ShardPosition& b) {
    auto c = CompareSequenceNumbers(a.sequence_number, b.sequence_number);
    if (c != std::strong_ordering::equal) return c;
    return a.sub_sequence_number <=> b.sub_sequence_number;
  }
  friend bool operator==(const ShardPosition& a, const ShardPosition& b) {
    return (a <=> b) == std::strong_ordering::equal;
  }
};

}  // namespace kc
