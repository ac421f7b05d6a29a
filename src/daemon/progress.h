// Progress of a backfill (`run --once`): per pipeline, what was read, how
// fast, how far its furthest shard is behind the tip and, from how fast
// that lag shrinks, about how long is left.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kc/pipeline.h"

namespace kc::daemon {

struct ProgressFigures {
  std::string pipeline;
  uint64_t records = 0;  // read since the start
  uint64_t bytes = 0;
  double records_per_second = 0;  // since the previous sample
  double bytes_per_second = 0;
  // MillisBehindLatest of the shard furthest behind; nullopt before any
  // shard has answered.
  std::optional<int64_t> largest_lag_ms;
  // Lag ÷ the rate it shrank at since the previous sample; nullopt when it
  // did not shrink (or at the first sample). 0 once caught up.
  std::optional<double> seconds_left;
};

class Progress {
 public:
  explicit Progress(std::vector<const Pipeline*> pipelines) : pipelines_(std::move(pipelines)) {}

  // The figures now, `now` being a steady time.
  std::vector<ProgressFigures> Sample(std::chrono::steady_clock::time_point now);

 private:
  struct Last {
    std::chrono::steady_clock::time_point at;
    uint64_t records = 0;
    uint64_t bytes = 0;
    std::optional<int64_t> lag_ms;
  };
  std::vector<const Pipeline*> pipelines_;
  std::map<const Pipeline*, Last> last_;
};

// "orders: 1,234,567 records, 1,234.5 MB, 12,345 records/s (12.3 MB/s),
// 3h 12m behind, about 1h 03m left".
std::string FormatProgress(const ProgressFigures& f);
// "45s", "4m 05s", "3h 12m", "2d 04h".
std::string FormatDuration(double seconds);

}  // namespace kc::daemon
