// HTTP as a seam: clients build an HttpRequest and hand it to an HttpTransport.
// Production uses CurlTransport; unit tests inject responses and faults
// through their own transport, so no production code knows it is tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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
  // The longest body this call accepts; 0: HttpOptions::max_response_bytes.
  // A longer answer (announced or received) ends the call with kParse.
  uint64_t max_response_bytes = 0;
  // If set, the body of a 2xx answer goes here piece by piece as it
  // arrives, not into the response; an error it returns ends the call with
  // that error. Other answers' bodies stay in the response, for their errors.
  std::function<Status(std::string_view)> on_body;

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

// Every call is bounded in time and size: a server that stops answering,
// trickles its answer or sends an endless one holds a thread no longer
// than these say, and memory no more.
struct HttpOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // The longest one request may take, sending and receiving: a part of a
  // large multipart upload may take minutes, so this is generous; the rate
  // below catches a dead or trickling transfer much sooner.
  std::chrono::milliseconds request_timeout{600'000};
  // A transfer moving fewer than min_bytes_per_second over stall_timeout
  // (a server thinking, or trickling its answer) is abandoned.
  std::chrono::milliseconds stall_timeout{30'000};
  uint64_t min_bytes_per_second = 1024;
  // The longest answer a call accepts unless it says otherwise: AWS JSON
  // answers other than GetRecords pages are at most a few MB.
  uint64_t max_response_bytes = 16ull << 20;
  bool verify_tls = true;
  std::string ca_file;  // PEM authorities to trust instead of the system's
  // Whether the environment's proxy settings (https_proxy, ...) apply.
  // Off for link-local services, whose answers must not leave the machine.
  bool use_proxy = true;
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
