// HttpTransport over libcurl's easy interface. Handles are pooled: a handle
// keeps its connections open, so a reader polling one shard reuses one TCP
// (and TLS) connection instead of opening one per call.
#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "clients/aws/http.h"

namespace kc::aws {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Where a response goes, and the most of it a call accepts.
struct Receiving {
  HttpResponse* response;
  uint64_t max_body;
  const HttpRequest* request;
  CURL* handle;
  uint64_t received = 0;
  bool too_long = false;            // announced or received past max_body: the call was ended
  std::optional<Error> body_error;  // on_body's, which ended the call
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* in = static_cast<Receiving*>(user);
  const size_t n = size * count;
  in->received += n;
  if (in->received > in->max_body) {
    in->too_long = true;
    return 0;  // anything but n ends the transfer with CURLE_WRITE_ERROR
  }
  if (in->request->on_body) {
    long status = 0;
    curl_easy_getinfo(in->handle, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      if (auto s = in->request->on_body(std::string_view(data, n)); !s) {
        in->body_error = s.error();
        return 0;
      }
      return n;
    }
  }
  in->response->body.append(data, n);
  return n;
}

// A body announced by Content-Length is allocated once, with room for the
// parsers' padding (kResponseBodySlack), instead of growing chunk by chunk,
// copying a large GetRecords page several times. Announced sizes past this
// are left to grow as they come, so a wrong header cannot reserve gigabytes.
constexpr uint64_t kMaxReservedBody = 64ull << 20;

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* in = static_cast<Receiving*>(user);
  HttpResponse* response = in->response;
  auto* headers = &response->headers;
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100-continue or a redirect)
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    if (name.size() == 14 && strncasecmp(name.data(), "content-length", 14) == 0) {
      uint64_t length = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec == std::errc() && end == value.data() + value.size()) {
        if (length > in->max_body) {
          in->too_long = true;  // not worth receiving
          return 0;
        }
        if (length <= kMaxReservedBody && !in->request->on_body) {
          response->body.reserve(static_cast<size_t>(length) + kResponseBodySlack);
        }
      }
    }
    headers->push_back({std::string(name), std::string(value)});
  }
  return size * count;
}

Error ClassifyCurlError(CURLcode code, const char* detail, const std::string& url) {
  std::string what = std::string(curl_easy_strerror(code));
  if (detail != nullptr && detail[0] != '\0') what += " (" + std::string(detail) + ")";
  // Only the scheme, host and path: query strings may carry presigned secrets.
  std::string where = url.substr(0, url.find('?'));
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return Error(
          ErrorCode::kInvalidArgument,
          "TLS verification of " + where + " failed: " + what +
              "; check the endpoint's certificate, or name the authority that signed it with "
              "ca_file ([aws] or [aws.tls.<service>])");
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error(ErrorCode::kInvalidArgument, "bad URL " + where + ": " + what);
    default:
      return Error(ErrorCode::kConnection, "request to " + where + " failed: " + what);
  }
}

Error TooLong(const std::string& url, uint64_t max_body) {
  return Error(ErrorCode::kParse, "the answer from " + url.substr(0, url.find('?')) +
                                      " is longer than " + std::to_string(max_body) +
                                      " bytes, the most this call accepts");
}

constexpr long kReceiveBufferBytes = 128 * 1024;

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(const HttpOptions& options) : options_(options) { GlobalInitOnce(); }
  ~CurlTransport() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    CURL* h = Acquire();
    if (h == nullptr) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
    HttpResponse response;
    if (request.response_storage != nullptr) {
      response.body = std::move(*request.response_storage);
      response.body.clear();
    }
    Receiving receiving{.response = &response,
                        .max_body = request.max_response_bytes != 0 ? request.max_response_bytes
                                                                    : options_.max_response_bytes,
                        .request = &request,
                        .handle = h,
                        .received = 0,
                        .too_long = false,
                        .body_error = std::nullopt};
    char error_buffer[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    for (const auto& header : request.headers) {
      std::string line = header.name + ": " + header.value;
      headers = curl_slist_append(headers, line.c_str());
    }
    // No "Expect: 100-continue" round trip, and no header curl adds on its own
    // that the request did not sign.
    headers = curl_slist_append(headers, "Expect:");
    if (request.Header("Accept") == nullptr) headers = curl_slist_append(headers, "Accept:");
    if (request.Header("Content-Type") == nullptr) {
      headers = curl_slist_append(headers, "Content-Type:");
    }

    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    // Paths go out exactly as signed: no folding of "." and ".." segments.
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
    // A transfer that moves less than min_bytes_per_second for
    // stall_timeout is dead or trickling; a slow but moving upload of a
    // large object is not.
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.min_bytes_per_second));
    curl_easy_setopt(
        h, CURLOPT_LOW_SPEED_TIME,
        static_cast<long>(std::max<int64_t>(1, options_.stall_timeout.count() / 1000)));
    // Large answers (GetRecords pages of megabytes) are read in large
    // pieces: with curl's default of 16 KiB, receiving, and the window
    // updates each receive sends, cost more CPU than parsing the page.
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.use_proxy) curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &receiving);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &receiving);
    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }

    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      Error e = receiving.body_error ? *receiving.body_error
                : receiving.too_long ? TooLong(request.url, receiving.max_body)
                                     : ClassifyCurlError(rc, error_buffer, request.url);
      curl_easy_cleanup(h);  // its connection state is unknown: do not reuse it
      return Fail(std::move(e));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    Release(h);
    return response;
  }

 private:
  CURL* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL* h) {
    curl_easy_reset(h);  // keeps the connection cache, drops per-request options
    std::lock_guard lock(mu_);
    idle_.push_back(h);
  }

  HttpOptions options_;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::unique_ptr<HttpTransport> MakeCurlTransport(const HttpOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

}  // namespace kc::aws
