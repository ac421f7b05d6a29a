#include "kc/sequence_number.h"

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
  for (char c : s) {
    if (c < '0' || c > '9') return false;
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
