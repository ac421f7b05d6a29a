// Whether a host names this machine: "localhost", "::1" (bracketed or not)
// or an IPv4 address in 127.0.0.0/8, written as digits and dots only, so
// that a name such as "127.example.com" is not taken for one. Used to
// decide which connections may skip TLS without a warning.
#pragma once

#include <string_view>

namespace kc::util {

inline bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  return host.starts_with("127.") &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace kc::util
