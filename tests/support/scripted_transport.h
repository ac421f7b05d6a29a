// An HttpTransport for unit tests: answers requests from a script and keeps
// what it was sent. Without a scripted answer it replies 200 with an empty
// body. An answer's body (or a dropped connection's message) may hold
// "{auth}" and "{token}", replaced by the request's Authorization and
// X-Amz-Security-Token headers: a server, or a proxy, that quotes them back.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clients/aws/http.h"

namespace kc::testing {

class ScriptedTransport final : public aws::HttpTransport {
 public:
  void Answer(long status, std::string body = {}, std::vector<aws::HttpHeader> headers = {}) {
    std::lock_guard lock(mu_);
    script_.push_back(aws::HttpResponse{status, std::move(headers), std::move(body)});
  }
  // The next request fails as a connection that broke.
  void Drop(std::string message = "connection reset") {
    std::lock_guard lock(mu_);
    script_.push_back(kc::unexpected(Error(ErrorCode::kConnection, std::move(message))));
  }
  Result<aws::HttpResponse> Send(const aws::HttpRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (script_.empty()) return aws::HttpResponse{200, {}, {}};
    auto next = std::move(script_.front());
    script_.pop_front();
    if (next) {
      Echo(next->body, "{auth}", request.Header("Authorization"));
      Echo(next->body, "{token}", request.Header("X-Amz-Security-Token"));
    } else {
      std::string message = next.error().message();
      Echo(message, "{auth}", request.Header("Authorization"));
      next = kc::unexpected(Error(next.error().code(), message));
    }
    return next;
  }
  std::vector<aws::HttpRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  aws::HttpRequest last() {
    std::lock_guard lock(mu_);
    return requests_.back();
  }

 private:
  static void Echo(std::string& text, std::string_view marker, const std::string* value) {
    if (auto at = text.find(marker); at != std::string::npos && value != nullptr) {
      text.replace(at, marker.size(), *value);
    }
  }

  std::mutex mu_;
  std::deque<Result<aws::HttpResponse>> script_;
  std::vector<aws::HttpRequest> requests_;
};

}  // namespace kc::testing
