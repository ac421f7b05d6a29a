#include "daemon/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace kc::daemon {
namespace {

// 1234567 → "1,234,567".
std::string Grouped(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::vector<ProgressFigures> Progress::Sample(std::chrono::steady_clock::time_point now) {
  std::vector<ProgressFigures> out;
  for (const Pipeline* p : pipelines_) {
    ProgressFigures f;
    f.pipeline = p->options().name;
    const PipelineTelemetry t = p->telemetry();
    bool all_caught_up = !t.shards.empty();
    for (const ShardTelemetry& s : t.shards) {
      f.records += s.records_read;
      f.bytes += s.bytes_read;
      if (s.millis_behind_latest) {
        f.largest_lag_ms = std::max(f.largest_lag_ms.value_or(0), *s.millis_behind_latest);
      }
      if (!s.finished && s.millis_behind_latest.value_or(1) != 0) all_caught_up = false;
    }
    auto it = last_.find(p);
    if (it != last_.end()) {
      const Last& last = it->second;
      const double seconds = std::chrono::duration<double>(now - last.at).count();
      if (seconds > 0) {
        f.records_per_second = static_cast<double>(f.records - last.records) / seconds;
        f.bytes_per_second = static_cast<double>(f.bytes - last.bytes) / seconds;
        if (all_caught_up) {
          f.seconds_left = 0;
        } else if (f.largest_lag_ms && last.lag_ms && *f.largest_lag_ms < *last.lag_ms) {
          // The lag shrinks by (reading speed − 1) stream-seconds a second.
          const double shrink = static_cast<double>(*last.lag_ms - *f.largest_lag_ms) / seconds;
          f.seconds_left = static_cast<double>(*f.largest_lag_ms) / shrink;
        }
      }
    } else if (all_caught_up) {
      f.seconds_left = 0;
    }
    last_[p] = Last{now, f.records, f.bytes, f.largest_lag_ms};
    out.push_back(std::move(f));
  }
  return out;
}

std::string FormatDuration(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m {:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h {:02}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d {:02}h", s / 86400, s % 86400 / 3600);
}

std::string FormatProgress(const ProgressFigures& f) {
  std::string out = fmt::format("{}: {} records, {:.1f} MB, {} records/s ({:.1f} MB/s)", f.pipeline,
                                Grouped(f.records), static_cast<double>(f.bytes) / 1e6,
                                Grouped(static_cast<uint64_t>(std::llround(f.records_per_second))),
                                f.bytes_per_second / 1e6);
  if (f.largest_lag_ms) {
    out += *f.largest_lag_ms == 0
               ? ", at the tip"
               : ", " + FormatDuration(static_cast<double>(*f.largest_lag_ms) / 1000) + " behind";
  }
  if (f.seconds_left) {
    out += *f.seconds_left == 0 ? ", caught up"
                                : ", about " + FormatDuration(*f.seconds_left) + " left";
  }
  return out;
}

}  // namespace kc::daemon
