// The daemon's HTTP endpoint for operators ([metrics] listen):
//
//   /metrics  Prometheus's text format, written by prometheus-cpp from what
//             the pipelines count (Pipeline::telemetry(), read at each
//             scrape, so counting costs the hot path nothing more), the
//             retries, the credentials' expiry and the process_* figures.
//   /health   200 while every pipeline runs or waits out an outage; 503 once
//             one has stopped with an error.
//   /ready    200 once every pipeline has loaded its checkpoints and is
//             reading; 503 before, and from the start of a shutdown.
//
// Served by civetweb on two threads; only GET and HEAD are answered.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kc/pipeline.h"
#include "kc/status.h"

struct mg_context;  // civetweb's

namespace kc::daemon {

// A pipeline to report on, with its sink's type (the `sink` label).
struct MetricsPipeline {
  const Pipeline* pipeline;
  std::string sink;
};

// What the endpoint answers, without the HTTP server: the tests' way in.
class MetricsReport {
 public:
  explicit MetricsReport(std::vector<MetricsPipeline> pipelines);

  // Pipeline `i` stopped with an error.
  void Failed(size_t i);
  // The process is shutting down: no longer ready.
  void Stopping() { stopping_.store(true); }

  // The exposition text of /metrics.
  std::string Metrics() const;
  // The status code and body of /health and /ready.
  std::pair<int, std::string> Health() const;
  std::pair<int, std::string> Ready() const;

 private:
  const std::vector<MetricsPipeline> pipelines_;
  std::unique_ptr<std::atomic<bool>[]> failed_;
  std::atomic<bool> stopping_{false};
};

class MetricsServer {
 public:
  // Serves `report` on `listen` ("127.0.0.1:9108", "[::1]:0"); port 0: a
  // free port, see port(). kConfig when the address cannot be bound.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen,
                                                      const MetricsReport* report);
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  ~MetricsServer();  // stops serving; returns once no request is being answered

  int port() const { return port_; }

 private:
  MetricsServer() = default;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace kc::daemon
