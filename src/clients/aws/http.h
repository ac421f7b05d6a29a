// HTTP as a seam: clients build an HttpRequest and hand it to an HttpTransport.
// Production uses CurlTransport; unit tests inject responses and faults
// through their own transport, so no production code knows it is tested.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kc/status.h"

namespace kc::aws {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "POST";
  std::string url;  // scheme://host[:port]/path[?query], path and query already URI-encoded
  std::vector<HttpHeader> headers;
  std::string body;
  // If set, the response body is received into this string's memory (taken
  // from it, cleared): a caller that reads large answers one after another
  // hands the last body back here instead of allocating each one afresh.
  std::string* response_storage = nullptr;

  // The first header named `name` (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
  void SetHeader(std::string name, std::string value);  // replaces any of that name
};

// Bytes a transport leaves free after a response body it sized from
// Content-Length, so that parsers which read a little past the end (simdjson
// reads up to 64 bytes past it) can work on the body where it is.
inline constexpr size_t kResponseBodySlack = 64;

struct HttpResponse {
  long status = 0;
  std::vector<HttpHeader> headers;
  std::string body;  // capacity ≥ size + kResponseBodySlack when the length was announced
  const std::string* Header(std::string_view name) const;
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // No limit on a whole request by default: an upload of a large object may
  // take minutes. A stalled transfer is caught by stall_timeout instead.
  std::chrono::milliseconds request_timeout{0};
  std::chrono::milliseconds stall_timeout{30'000};
  bool verify_tls = true;
};

// Sends one request. A transport error (no connection, reset, timeout) is an
// Error with code kConnection; any HTTP status is a successful HttpResponse.
//
// Thread-safety: implementations are safe for concurrent Send calls.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// libcurl with a pool of reusable handles (keep-alive connections).
std::unique_ptr<HttpTransport> MakeCurlTransport(const HttpOptions& options);

}  // namespace kc::aws
