// An HttpTransport in front of another (a fake service) that can be made to
// fail: as a service that cannot be reached (a connection error, which
// passes) or one that refuses every request with a given answer (which does
// not). For the sink conformance suite and tests of outages.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "clients/aws/http.h"

namespace kc::testing {

class BreakableTransport final : public aws::HttpTransport {
 public:
  explicit BreakableTransport(std::shared_ptr<aws::HttpTransport> inner)
      : inner_(std::move(inner)) {}

  Result<aws::HttpResponse> Send(const aws::HttpRequest& request) override {
    {
      std::lock_guard lock(mu_);
      if (unreachable_) {
        return Fail(ErrorCode::kConnection, "connect to the fake service: connection refused");
      }
      if (refusal_) return *refusal_;
    }
    return inner_->Send(request);
  }

  // Every request fails to connect until Heal.
  void Unreachable() {
    std::lock_guard lock(mu_);
    unreachable_ = true;
  }
  // Every request gets `status` with `body` until Heal.
  void Refuse(long status, std::string body) {
    std::lock_guard lock(mu_);
    aws::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    refusal_ = std::move(r);
  }
  void Heal() {
    std::lock_guard lock(mu_);
    unreachable_ = false;
    refusal_.reset();
  }

 private:
  std::shared_ptr<aws::HttpTransport> inner_;
  std::mutex mu_;
  bool unreachable_ = false;
  std::optional<aws::HttpResponse> refusal_;
};

}  // namespace kc::testing
