// What the daemon reports on its pipelines, from fake pipelines: the
// metrics' exposition text (what each figure is called and labelled),
// /health and /ready, an address that cannot be bound, and the progress
// lines of a backfill.
#include "daemon/metrics_server.h"
#include "daemon/progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kc::daemon {
namespace {

class FakePipeline final : public Pipeline {
 public:
  explicit FakePipeline(std::string name) {
    options_.name = std::move(name);
    options_.stream = "orders";
  }
  Status Run(std::stop_token, std::stop_token) override { return Ok(); }
  PipelineStats stats() const override { return {}; }
  PipelineTelemetry telemetry() const override { return telemetry_; }
  const PipelineOptions& options() const override { return options_; }

  PipelineOptions options_;
  PipelineTelemetry telemetry_;
};

PipelineTelemetry Sample() {
  PipelineTelemetry t;
  ShardTelemetry s;
  s.shard_id = "shardId-000000000001";
  s.reading = true;
  s.records_read = 12;
  s.bytes_read = 1200;
  s.records_filtered = 2;
  s.records_emitted = 7;
  s.bytes_emitted = 700;
  s.batches_emitted = 3;
  s.get_records_calls = 40;
  s.get_records_throttled = 4;
  s.get_records_errors = {{"throttled", 4}, {"unavailable", 1}};
  s.dead_lettered = {{{"transform", "parse error"}, 3}};
  s.millis_behind_latest = 1500;
  s.seconds_since_checkpoint = 2.5;
  s.records_buffered = 5;
  s.bytes_buffered = 500;
  t.shards.push_back(s);
  t.emit_seconds.upper_bounds = {0.1, 1};
  t.emit_seconds.counts = {2, 3, 3};
  t.emit_seconds.sum_seconds = 0.75;
  t.shards_open = 1;
  t.shards_closed = 2;
  t.ready = true;
  t.leases = LeaseTelemetry{.worker_id = "host-1",
                            .table = "DynamoDB lease table kc-to-s3",
                            .held = 4,
                            .taken = 5,
                            .stolen = 1,
                            .lost = 2,
                            .handed_over = 3,
                            .renewals_failed = 6};
  return t;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(MetricsReportTest, NamesAndLabelsEveryFigure) {
  FakePipeline p("to-s3");
  p.telemetry_ = Sample();
  MetricsReport report({{&p, "s3"}});
  const std::string text = report.Metrics();
  const std::string shard = R"(pipeline="to-s3",stream="orders",shard="shardId-000000000001")";
  for (
      const std::string& line : std::vector<std::string>{
          "kinesis_connect_records_read_total{" + shard + "} 12",
          "kinesis_connect_bytes_read_total{" + shard + "} 1200",
          "kinesis_connect_records_filtered_total{" + shard + "} 2",
          "kinesis_connect_records_emitted_total{" + shard + R"(,sink="s3"} 7)",
          "kinesis_connect_bytes_emitted_total{" + shard + R"(,sink="s3"} 700)",
          "kinesis_connect_batches_emitted_total{" + shard + R"(,sink="s3"} 3)",
          "kinesis_connect_get_records_calls_total{" + shard + "} 40",
          "kinesis_connect_get_records_throttled_total{" + shard + "} 4",
          "kinesis_connect_get_records_errors_total{" + shard + R"(,code="unavailable"} 1)",
          "kinesis_connect_records_dead_lettered_total{" + shard +
              R"(,stage="transform",code="parse error"} 3)",
          "kinesis_connect_millis_behind_latest{" + shard + "} 1500",
          "kinesis_connect_seconds_since_checkpoint{" + shard + "} 2.5",
          "kinesis_connect_records_buffered{" + shard + "} 5",
          "kinesis_connect_bytes_buffered{" + shard + "} 500",
          R"(kinesis_connect_shards{pipeline="to-s3",stream="orders",state="closed"} 2)",
          R"(kinesis_connect_shards_reading{pipeline="to-s3",stream="orders"} 1)",
          R"(kinesis_connect_pipeline_ready{pipeline="to-s3",stream="orders"} 1)",
          R"(kinesis_connect_leases_held{pipeline="to-s3",stream="orders",worker="host-1"} 4)",
          R"(kinesis_connect_leases_taken_total{pipeline="to-s3",stream="orders",worker="host-1"} 5)",
          R"(kinesis_connect_leases_stolen_total{pipeline="to-s3",stream="orders",worker="host-1"} 1)",
          R"(kinesis_connect_leases_lost_total{pipeline="to-s3",stream="orders",worker="host-1"} 2)",
          R"(kinesis_connect_leases_handed_over_total{pipeline="to-s3",stream="orders",worker="host-1"} 3)",
          R"(kinesis_connect_lease_renewals_failed_total{pipeline="to-s3",stream="orders",worker="host-1"} 6)",
          R"(kinesis_connect_emit_duration_seconds_bucket{pipeline="to-s3",stream="orders",sink="s3",le="0.1"} 2)",
          R"(kinesis_connect_emit_duration_seconds_bucket{pipeline="to-s3",stream="orders",sink="s3",le="+Inf"} 3)",
          R"(kinesis_connect_emit_duration_seconds_count{pipeline="to-s3",stream="orders",sink="s3"} 3)",
          "# TYPE kinesis_connect_records_read_total counter",
          "# TYPE kinesis_connect_millis_behind_latest gauge",
          "# TYPE kinesis_connect_emit_duration_seconds histogram",
          "# TYPE process_cpu_seconds_total counter",
      }) {
    EXPECT_TRUE(Has(text, line)) << line << "\nnot in:\n" << text;
  }
  for (const char* name :
       {"process_resident_memory_bytes ", "process_open_fds ", "process_start_time_seconds ",
        "process_max_fds ", "kinesis_connect_retries_total{code=\"throttled\"} "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name;
  }
}

TEST(MetricsReportTest, HealthFailsOncePipelineStoppedWithAnError) {
  FakePipeline a("a");
  FakePipeline b("b");
  MetricsReport report({{&a, "file"}, {&b, "file"}});
  EXPECT_EQ(report.Health(), (std::pair<int, std::string>{200, "ok\n"}));
  report.Failed(1);
  EXPECT_EQ(report.Health(),
            (std::pair<int, std::string>{503, "pipeline b: stopped with an error\n"}));
}

TEST(MetricsReportTest, ReadyOnceEveryPipelineReadsAndNotWhileStopping) {
  FakePipeline a("a");
  FakePipeline b("b");
  a.telemetry_.ready = true;
  MetricsReport report({{&a, "file"}, {&b, "file"}});
  EXPECT_EQ(report.Ready(), (std::pair<int, std::string>{503, "pipeline b: not reading yet\n"}));
  b.telemetry_.ready = true;
  EXPECT_EQ(report.Ready(), (std::pair<int, std::string>{200, "ready\n"}));
  report.Stopping();
  EXPECT_EQ(report.Ready(), (std::pair<int, std::string>{503, "shutting down\n"}));
}

TEST(MetricsServerTest, AnAddressInUseIsAClearConfigError) {
  FakePipeline a("a");
  MetricsReport report({{&a, "file"}});
  auto first = MetricsServer::Start("127.0.0.1:0", &report);
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_GT((*first)->port(), 0);
  auto second = MetricsServer::Start("127.0.0.1:" + std::to_string((*first)->port()), &report);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kConfig);
  EXPECT_NE(second.error().message().find("[metrics] listen"), std::string::npos);
}

ShardTelemetry Shard(std::string id, uint64_t records, std::optional<int64_t> lag) {
  ShardTelemetry s;
  s.shard_id = std::move(id);
  s.reading = true;
  s.records_read = records;
  s.bytes_read = records * 1000;
  s.millis_behind_latest = lag;
  return s;
}

TEST(ProgressTest, RateLagAndTimeLeftFromHowFastTheLagShrinks) {
  FakePipeline p("backfill");
  Progress progress({&p});
  const auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  p.telemetry_.shards = {Shard("a", 100, 3'600'000), Shard("b", 50, 20'000)};
  std::vector<ProgressFigures> first = progress.Sample(t0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].records, 150u);
  EXPECT_EQ(first[0].largest_lag_ms, 3'600'000);
  EXPECT_EQ(first[0].seconds_left, std::nullopt);  // no rate yet
  EXPECT_EQ(FormatProgress(first[0]),
            "backfill: 150 records, 0.1 MB, 0 records/s (0.0 MB/s), 1h 00m behind");

  // 10 s later the lag is 100 s shorter: 10 stream-seconds a second, so the
  // 3,500 s left take 350 s.
  p.telemetry_.shards = {Shard("a", 10'100, 3'500'000), Shard("b", 1'050, 0)};
  std::vector<ProgressFigures> second = progress.Sample(t0 + std::chrono::seconds(10));
  EXPECT_DOUBLE_EQ(second[0].records_per_second, 1'100);
  EXPECT_DOUBLE_EQ(*second[0].seconds_left, 350);
  EXPECT_EQ(FormatProgress(second[0]),
            "backfill: 11,150 records, 11.2 MB, 1,100 records/s (1.1 MB/s), 58m 20s behind, "
            "about 5m 50s left");

  // A lag that grows gives no estimate; every shard at the tip is caught up.
  p.telemetry_.shards = {Shard("a", 10'200, 3'600'000), Shard("b", 1'050, 0)};
  EXPECT_EQ(progress.Sample(t0 + std::chrono::seconds(20))[0].seconds_left, std::nullopt);
  p.telemetry_.shards = {Shard("a", 20'000, 0), Shard("b", 1'050, 0)};
  std::vector<ProgressFigures> done = progress.Sample(t0 + std::chrono::seconds(30));
  EXPECT_EQ(done[0].seconds_left, 0);
  EXPECT_NE(FormatProgress(done[0]).find("at the tip, caught up"), std::string::npos);
}

TEST(ProgressTest, Durations) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(59.4), "59s");
  EXPECT_EQ(FormatDuration(245), "4m 05s");
  EXPECT_EQ(FormatDuration(3 * 3600 + 12 * 60 + 5), "3h 12m");
  EXPECT_EQ(FormatDuration(2 * 86400 + 4 * 3600), "2d 04h");
}

}  // namespace
}  // namespace kc::daemon
