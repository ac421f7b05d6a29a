#include "sinks/util/partial_batch.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <unordered_set>

namespace kc::emitter {

Status PartialBatchWriter::Write(std::string_view what, size_t count,
                                 const std::function<uint64_t(size_t)>& size_of, const Send& send,
                                 std::stop_token stop,
                                 const std::function<std::string_view(size_t)>& order_key) const {
  std::vector<size_t> pending(count);
  std::iota(pending.begin(), pending.end(), size_t{0});
  for (int attempt = 0;; ++attempt) {
    std::vector<size_t> refused;                   // to send again next round
    std::unordered_set<std::string_view> blocked;  // keys with an item in `refused`
    std::optional<Error> refusal;
    size_t accepted = 0;
    std::vector<size_t> rest = std::move(pending);  // still to try this round
    while (!rest.empty()) {
      // A wave: with order keys, each key's first item not yet tried.
      std::vector<size_t> wave;
      std::vector<size_t> later;
      std::unordered_set<std::string_view> in_wave;
      for (size_t i : rest) {
        if (order_key) {
          const std::string_view key = order_key(i);
          if (blocked.contains(key)) {
            refused.push_back(i);
            continue;
          }
          if (!in_wave.insert(key).second) {
            later.push_back(i);
            continue;
          }
        }
        wave.push_back(i);
      }
      for (size_t start = 0; start < wave.size();) {
        if (stop.stop_requested()) {
          return Fail(ErrorCode::kCancelled, std::string(what) + " cancelled by shutdown");
        }
        size_t end = start;
        uint64_t bytes = 0;
        while (end < wave.size() && end - start < limits_.max_items) {
          const uint64_t size = size_of(wave[end]);
          if (end > start && bytes + size > limits_.max_bytes) break;
          bytes += size;
          ++end;
        }
        const std::span<const size_t> request(wave.data() + start, end - start);
        start = end;
        auto answer = send(request);
        std::vector<size_t> not_taken;
        if (!answer) {
          if (!answer.error().retriable()) return Fail(answer.error().With(std::string(what)));
          refusal = answer.error();
          not_taken.assign(request.begin(), request.end());
        } else if (!answer->positions.empty()) {
          refusal = answer->error;
          for (size_t p : answer->positions) {
            if (p >= request.size()) {
              return Fail(ErrorCode::kInternal,
                          std::string(what) + ": position " + std::to_string(p) +
                              " refused in a request of " + std::to_string(request.size()));
            }
            not_taken.push_back(request[p]);
          }
        }
        accepted += request.size() - not_taken.size();
        for (size_t i : not_taken) {
          refused.push_back(i);
          if (order_key) blocked.insert(order_key(i));
        }
      }
      rest = std::move(later);
    }
    if (refused.empty()) return Ok();
    // The budget is for rounds without progress: a batch that gets items in
    // every round (throttled, or ordered one item per key at a time) goes on.
    if (accepted > 0) attempt = 0;
    std::sort(refused.begin(), refused.end());
    refused.erase(std::unique(refused.begin(), refused.end()), refused.end());
    const std::string left =
        std::to_string(refused.size()) + " of " + std::to_string(count) + " items not written";
    auto wait = retry_.NextWait(what, refusal->With(left), attempt);
    if (!wait) return Fail(wait.error());
    if (!clock_->SleepFor(*wait, stop)) {
      return Fail(ErrorCode::kCancelled, std::string(what) + " cancelled by shutdown");
    }
    pending = std::move(refused);
  }
}

}  // namespace kc::emitter
