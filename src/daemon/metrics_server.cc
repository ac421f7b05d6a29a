#include "daemon/metrics_server.h"

#include <civetweb.h>
#include <dirent.h>
#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>
#include <string_view>

#include "base/files.h"
#include "base/retry.h"
#include "clients/aws/aws_context.h"

namespace kc::daemon {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

constexpr std::string_view kPrefix = "kinesis_connect_";

// The families of one scrape, each made on first use, in the order made.
class Families {
 public:
  MetricFamily& Get(std::string_view name, MetricType type, std::string_view help) {
    auto [it, added] = index_.try_emplace(std::string(name), families_.size());
    if (added) {
      MetricFamily f;
      f.name = std::string(name);
      f.help = std::string(help);
      f.type = type;
      families_.push_back(std::move(f));
    }
    return families_[it->second];
  }
  void Counter(std::string_view name, std::string_view help, const Labels& labels, double value) {
    ClientMetric m;
    m.label = labels;
    m.counter.value = value;
    Get(std::string(kPrefix) + std::string(name), MetricType::Counter, help)
        .metric.push_back(std::move(m));
  }
  void Gauge(std::string_view name, std::string_view help, const Labels& labels, double value,
             bool prefixed = true) {
    ClientMetric m;
    m.label = labels;
    m.gauge.value = value;
    Get(prefixed ? std::string(kPrefix) + std::string(name) : std::string(name), MetricType::Gauge,
        help)
        .metric.push_back(std::move(m));
  }
  // An unprefixed counter (process_*).
  void ProcessCounter(std::string_view name, std::string_view help, double value) {
    ClientMetric m;
    m.counter.value = value;
    Get(name, MetricType::Counter, help).metric.push_back(std::move(m));
  }
  std::vector<MetricFamily> Take() { return std::move(families_); }

 private:
  std::map<std::string, size_t> index_;
  std::vector<MetricFamily> families_;
};

Labels With(Labels labels, std::string name, std::string value) {
  labels.push_back({std::move(name), std::move(value)});
  return labels;
}

void AddPipeline(const MetricsPipeline& p, Families& f) {
  const PipelineTelemetry t = p.pipeline->telemetry();
  const std::string& name = p.pipeline->options().name;
  const Labels pipeline{{"pipeline", name}, {"stream", p.pipeline->options().stream}};
  uint64_t reading = 0;
  for (const ShardTelemetry& s : t.shards) {
    reading += s.reading ? 1 : 0;
    const Labels shard = With(pipeline, "shard", s.shard_id);
    const Labels sink = With(shard, "sink", p.sink);
    auto count = [](uint64_t n) { return static_cast<double>(n); };
    f.Counter("records_read_total",
              "Records read from the shard (KPL user records counted "
              "one by one).",
              shard, count(s.records_read));
    f.Counter("bytes_read_total", "Record data read from the shard (of user records), in bytes.",
              shard, count(s.bytes_read));
    f.Counter("records_filtered_total", "Records the filter dropped.", shard,
              count(s.records_filtered));
    f.Counter("records_emitted_total", "Records the sink acknowledged.", sink,
              count(s.records_emitted));
    f.Counter("bytes_emitted_total", "Record data the sink acknowledged, in bytes.", sink,
              count(s.bytes_emitted));
    f.Counter("batches_emitted_total", "Batches the sink acknowledged.", sink,
              count(s.batches_emitted));
    f.Counter("get_records_calls_total", "GetRecords calls made.", shard,
              count(s.get_records_calls));
    f.Counter("get_records_throttled_total", "GetRecords calls Kinesis throttled.", shard,
              count(s.get_records_throttled));
    for (const auto& [code, n] : s.get_records_errors) {
      f.Counter("get_records_errors_total", "GetRecords calls that failed, by error code.",
                With(shard, "code", code), count(n));
    }
    for (const auto& [why, n] : s.dead_lettered) {
      f.Counter("records_dead_lettered_total",
                "Records written to the dead-letter destination, by stage and error code.",
                With(With(shard, "stage", why.first), "code", why.second), count(n));
    }
    if (s.millis_behind_latest && s.reading) {  // a shard no longer read has no lag
      f.Gauge("millis_behind_latest",
              "How far the shard's last GetRecords answer was behind the tip, in milliseconds.",
              shard, static_cast<double>(*s.millis_behind_latest));
    }
    if (s.seconds_since_checkpoint) {
      f.Gauge("seconds_since_checkpoint",
              "Seconds since the shard's checkpoint covered everything read (loaded, saved, or "
              "found at the tip with nothing to save).",
              shard, *s.seconds_since_checkpoint);
    }
    if (s.reading) {
      f.Gauge("records_buffered", "Records read into the shard's buffer, not yet in a batch.",
              shard, count(s.records_buffered));
      f.Gauge("bytes_buffered", "Bytes the shard's buffer holds.", shard, count(s.bytes_buffered));
    }
  }
  const std::string shards_help = "Shards of the stream in its last listing, by state.";
  f.Gauge("shards", shards_help, With(pipeline, "state", "open"),
          static_cast<double>(t.shards_open));
  f.Gauge("shards", shards_help, With(pipeline, "state", "closed"),
          static_cast<double>(t.shards_closed));
  f.Gauge("shards_reading", "Shards this process reads now.", pipeline,
          static_cast<double>(reading));
  f.Gauge("pipeline_ready", "1 once the pipeline has loaded its checkpoints and is reading.",
          pipeline, t.ready ? 1 : 0);
  if (t.leases) {
    const LeaseTelemetry& l = *t.leases;
    const Labels worker = With(pipeline, "worker", l.worker_id);
    f.Gauge("leases_held", "Leases this worker holds now.", worker, static_cast<double>(l.held));
    f.Counter("leases_taken_total", "Free or expired leases this worker took.", worker,
              static_cast<double>(l.taken));
    f.Counter("leases_stolen_total",
              "Leases this worker got from a live worker (handed over when asked, or taken "
              "when the handoff did not come in time).",
              worker, static_cast<double>(l.stolen));
    f.Counter("leases_lost_total",
              "Leases taken from this worker, or given up after no renewal got through for "
              "the failover time.",
              worker, static_cast<double>(l.lost));
    f.Counter("leases_handed_over_total", "Leases this worker handed to a worker that asked.",
              worker, static_cast<double>(l.handed_over));
    f.Counter("lease_renewals_failed_total", "Lease renewals that did not get through.", worker,
              static_cast<double>(l.renewals_failed));
  }

  if (t.emit_seconds.counts.size() != t.emit_seconds.upper_bounds.size() + 1) return;
  ClientMetric h;
  h.label = With(pipeline, "sink", p.sink);
  h.histogram.sample_count = t.emit_seconds.counts.back();
  h.histogram.sample_sum = t.emit_seconds.sum_seconds;
  for (size_t i = 0; i < t.emit_seconds.counts.size(); ++i) {
    h.histogram.bucket.push_back(
        {t.emit_seconds.counts[i], i < t.emit_seconds.upper_bounds.size()
                                       ? t.emit_seconds.upper_bounds[i]
                                       : std::numeric_limits<double>::infinity()});
  }
  f.Get(std::string(kPrefix) + "emit_duration_seconds", MetricType::Histogram,
        "How long each call of the sink took, retries counted one by one.")
      .metric.push_back(std::move(h));
}

// process_* as the Prometheus client libraries name them, from /proc.
void AddProcess(Families& f) {
  const std::string stat = util::ReadFile("/proc/self/stat", 64 << 10).value_or("");
  // The fields after the command name, which is in parentheses and may hold
  // anything: state is field 3, utime 14, stime 15, starttime 22, vsize 23,
  // rss 24.
  const size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(stat.substr(close + 1));
    std::vector<std::string> fields;
    for (std::string field; rest >> field;) fields.push_back(field);
    auto field = [&](size_t n) -> double {
      return n - 3 < fields.size() ? std::strtod(fields[n - 3].c_str(), nullptr) : 0;
    };
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    f.ProcessCounter("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
                     (field(14) + field(15)) / ticks);
    f.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {}, field(23), false);
    f.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {}, field(24) * page,
            false);
    std::istringstream proc_stat(util::ReadFile("/proc/stat", 1 << 20).value_or(""));
    for (std::string line; std::getline(proc_stat, line);) {
      if (line.starts_with("btime ")) {
        f.Gauge("process_start_time_seconds",
                "Start time of the process since the Unix epoch in seconds.", {},
                std::strtod(line.c_str() + 6, nullptr) + field(22) / ticks, false);
        break;
      }
    }
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    double open = 0;
    while (const dirent* entry = readdir(dir)) open += entry->d_name[0] == '.' ? 0 : 1;
    closedir(dir);
    f.Gauge("process_open_fds", "Number of open file descriptors.", {}, open - 1,
            false);  // less the one reading the directory
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    f.Gauge("process_max_fds", "Maximum number of open file descriptors.", {},
            static_cast<double>(limit.rlim_cur), false);
  }
}

void AddRetries(Families& f) {
  for (ErrorCode code : {ErrorCode::kThrottled, ErrorCode::kUnavailable, ErrorCode::kConnection}) {
    f.Counter("retries_total",
              "Calls tried again after a passing failure, by error code (every client and "
              "pipeline of the process).",
              {{"code", ErrorCodeName(code)}}, static_cast<double>(RetriesSoFar(code)));
  }
}

void AddCredentials(Families& f) {
  // Chains differ by more than the labels (region, endpoints, TLS): one
  // series per profile and role, the earliest expiry of its chains.
  std::map<std::pair<std::string, std::string>, int64_t> earliest;
  for (const aws::CredentialsInUse& c : aws::CredentialsInUseNow()) {
    if (!c.expiration_ms) continue;
    auto [it, added] = earliest.try_emplace({c.profile, c.role_arn}, *c.expiration_ms);
    if (!added) it->second = std::min(it->second, *c.expiration_ms);
  }
  for (const auto& [who, expires] : earliest) {
    f.Gauge("credentials_expiry_timestamp_seconds",
            "When the AWS credentials in use expire, in seconds since the Unix epoch.",
            {{"profile", who.first}, {"role_arn", who.second}},
            static_cast<double>(expires) / 1000.0);
  }
}

// Writes an answer and returns its status, as civetweb's handlers do.
int Answer(mg_connection* conn, int status, std::string_view content_type,
           const std::string& body) {
  const char* reason = status == 200   ? "OK"
                       : status == 503 ? "Service Unavailable"
                       : status == 405 ? "Method Not Allowed"
                                       : "Not Found";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
            status, reason, static_cast<int>(content_type.size()), content_type.data(), body.size(),
            status == 405 ? "Allow: GET, HEAD\r\n" : "");
  const mg_request_info* request = mg_get_request_info(conn);
  if (std::strcmp(request->request_method, "HEAD") != 0) mg_write(conn, body.data(), body.size());
  return status;
}

int Handle(mg_connection* conn, void* data) {
  const auto* report = static_cast<const MetricsReport*>(data);
  const mg_request_info* request = mg_get_request_info(conn);
  const std::string_view method = request->request_method;
  const std::string_view uri = request->local_uri != nullptr ? request->local_uri : "";
  constexpr std::string_view kText = "text/plain; charset=utf-8";
  if (uri != "/metrics" && uri != "/health" && uri != "/ready") {
    return Answer(conn, 404, kText, "not found; try /metrics, /health or /ready\n");
  }
  if (method != "GET" && method != "HEAD") return Answer(conn, 405, kText, "use GET\n");
  if (uri == "/metrics") {
    return Answer(conn, 200, "text/plain; version=0.0.4; charset=utf-8", report->Metrics());
  }
  auto [status, body] = uri == "/health" ? report->Health() : report->Ready();
  return Answer(conn, status, kText, body);
}

int LogMessage(const mg_connection* /*conn*/, const char* message) {
  spdlog::debug("metrics endpoint: {}", message);
  return 1;
}

}  // namespace

MetricsReport::MetricsReport(std::vector<MetricsPipeline> pipelines)
    : pipelines_(std::move(pipelines)),
      failed_(std::make_unique<std::atomic<bool>[]>(pipelines_.size())) {}

void MetricsReport::Failed(size_t i) { failed_[i].store(true); }

std::string MetricsReport::Metrics() const {
  Families f;
  for (const MetricsPipeline& p : pipelines_) AddPipeline(p, f);
  AddRetries(f);
  AddCredentials(f);
  AddProcess(f);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, f.Take());
  return out.str();
}

std::pair<int, std::string> MetricsReport::Health() const {
  std::string failed;
  for (size_t i = 0; i < pipelines_.size(); ++i) {
    if (failed_[i].load()) {
      failed += "pipeline " + pipelines_[i].pipeline->options().name + ": stopped with an error\n";
    }
  }
  if (!failed.empty()) return {503, failed};
  return {200, "ok\n"};
}

std::pair<int, std::string> MetricsReport::Ready() const {
  if (stopping_.load()) return {503, "shutting down\n"};
  std::string waiting;
  for (const MetricsPipeline& p : pipelines_) {
    if (!p.pipeline->telemetry().ready) {
      waiting += "pipeline " + p.pipeline->options().name + ": not reading yet\n";
    }
  }
  if (!waiting.empty()) return {503, waiting};
  return {200, "ready\n"};
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                            const MetricsReport* report) {
  static const unsigned initialised = mg_init_library(0);
  (void)initialised;
  const char* options[] = {
      "listening_ports", listen.c_str(),      "num_threads", "2",    "request_timeout_ms",
      "10000",           "enable_keep_alive", "no",          nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = LogMessage;
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->context_ = mg_start(&callbacks, nullptr, options);
  if (server->context_ == nullptr) {
    return Fail(ErrorCode::kConfig,
                "[metrics] listen: cannot serve on " + listen +
                    " (the port may be taken by another process, or the address is not this "
                    "machine's); choose another port, or 0 for any free one");
  }
  for (const char* uri : {"/metrics", "/health", "/ready", "/"}) {
    mg_set_request_handler(server->context_, uri, Handle, const_cast<MetricsReport*>(report));
  }
  mg_server_port ports[1]{};
  if (mg_get_server_ports(server->context_, 1, ports) == 1) server->port_ = ports[0].port;
  return server;
}

MetricsServer::~MetricsServer() {
  if (context_ != nullptr) mg_stop(context_);
}

}  // namespace kc::daemon
