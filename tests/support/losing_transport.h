// A transport that loses the answers of UpdateItem calls that were carried
// out, for the DynamoDB tests of writes whose answer is lost and sent again.
#pragma once

#include <atomic>
#include <memory>
#include <utility>

#include "clients/aws/http.h"

namespace kc::testing {

// Passes every request on to the real transport; while `lose_updates` is
// set, the answer to an UpdateItem that was carried out is replaced by a
// reset connection, as when a network fails between the write and its
// answer.
class LosingTransport final : public aws::HttpTransport {
 public:
  explicit LosingTransport(std::shared_ptr<aws::HttpTransport> real) : real_(std::move(real)) {}
  Result<aws::HttpResponse> Send(const aws::HttpRequest& request) override {
    auto response = real_->Send(request);
    bool is_update = false;
    for (const auto& [name, value] : request.headers) {
      if (name == "X-Amz-Target" && value.ends_with(".UpdateItem")) is_update = true;
    }
    if (is_update && lose_updates && response && response->status == 200) {
      ++lost;
      return Fail(ErrorCode::kConnection, "connection reset by the test after the write");
    }
    return response;
  }
  std::atomic<bool> lose_updates{false};
  std::atomic<int> lost{0};

 private:
  std::shared_ptr<aws::HttpTransport> real_;
};

}  // namespace kc::testing
