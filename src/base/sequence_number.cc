#include "kc/sequence_number.h"

#include <cstdint>
#include <cstring>

namespace kc {
namespace {

std::string_view StripLeadingZeros(std::string_view s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0') ++i;
  return s.substr(i);
}

}  // namespace

bool IsValidSequenceNumber(std::string_view s) {
  if (s.empty() || s.size() > 129) return false;
  // Eight characters at a time: this runs for every record read. A byte is
  // a digit exactly when its high nibble is 3 and adding 6 to it does not
  // carry into the high nibble; no byte's sum can carry into the next byte
  // unless it is 0xFA or more, and such a byte already fails the first test.
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ull;
    if (((v & kHigh) | (((v + 0x0606060606060606ull) & kHigh) >> 4)) != 0x3333333333333333ull) {
      return false;
    }
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i] - '0') >= 10) return false;
  }
  return true;
}

std::strong_ordering CompareSequenceNumbers(std::string_view a, std::string_view b) {
  a = StripLeadingZeros(a);
  b = StripLeadingZeros(b);
  if (a.size() != b.size()) return a.size() <=> b.size();
  int c = a.compare(b);
  return c <=> 0;
}

}  // namespace kc
