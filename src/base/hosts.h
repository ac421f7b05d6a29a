// Whether a host names this machine: "localhost", or an IPv4 address in
// 127.0.0.0/8 or the IPv6 address ::1 (bracketed or not), each a complete
// literal address, so that names such as "127.example.com" or
// "127.0.0.1.1" (which a resolver would look up) are not taken for one.
// Used to decide which connections may skip TLS without a warning, and
// where credentials may go over plain HTTP.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace kc::util {

inline bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
    for (int i = 0; i < 16; ++i) {
      if (v6.s6_addr[i] != kLoopback.s6_addr[i]) return false;
    }
    return true;
  }
  return false;
}

}  // namespace kc::util
