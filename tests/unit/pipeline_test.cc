// The reader and the pipeline against an in-memory Kinesis (behind the HTTP
// transport seam) with a fake clock: delivery order, thresholds, replay of a
// pending batch, expired iterators, throttling, trimming, resharding.
#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "clients/kinesis/deaggregate.h"
#include "engine/pipeline_internal.h"
#include "engine/shard_reader.h"
#include "support/collector.h"
#include "support/fake_clock.h"
#include "support/fake_kinesis.h"
#include "support/memory_store.h"
#include "transforms/json/json_transformer.h"
#include "transforms/json_field/json_field_filter.h"

namespace kc {
namespace {

using namespace std::chrono_literals;

using testing::CollectingEmitter;
using testing::MemoryDeadLetters;
using testing::MemoryStore;

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() {
    config_.name = "t";
    config_.stream = "s";
    config_.buffer.max_records = 100;
    config_.buffer.max_bytes = 1 << 20;
    config_.buffer.max_age = 1h;
    config_.records_per_call = 1000;
    config_.poll_interval = 1s;
    config_.shard_discovery_interval = 1s;
  }

  std::unique_ptr<Pipeline> Make(bool once) {
    PipelineParts parts;
    parts.emitter = emitter_;
    parts.checkpoints = store_;
    if (transformer_) parts.transformer = transformer_;
    if (filter_) parts.filter = filter_;
    parts.dead_letter = dead_letters_;
    return core::MakePipeline(config_, parts, kinesis_->Client(kinesis_, &clock_), once, &clock_);
  }

  std::vector<std::string> PutMany(const std::string& shard, int n, const std::string& prefix) {
    std::vector<std::string> data;
    for (int i = 0; i < n; ++i) {
      data.push_back(prefix + std::to_string(i));
      kinesis_->Put(shard, data.back());
    }
    return data;
  }

  testing::FakeClock clock_;
  PipelineOptions config_;
  std::shared_ptr<testing::FakeKinesis> kinesis_ = std::make_shared<testing::FakeKinesis>();
  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  std::shared_ptr<CollectingEmitter> emitter_ = std::make_shared<CollectingEmitter>();
  std::shared_ptr<Transformer> transformer_;
  std::shared_ptr<Filter> filter_;
  std::shared_ptr<MemoryDeadLetters> dead_letters_;
};

TEST_F(PipelineTest, OnceDeliversEveryRecordInOrderAndCheckpointsTheLast) {
  kinesis_->AddShard("a");
  kinesis_->AddShard("b");
  auto a = PutMany("a", 250, "a");
  auto b = PutMany("b", 30, "b");
  auto p = Make(true);
  ASSERT_TRUE(p->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), a);
  EXPECT_EQ(emitter_->Data("b"), b);
  std::string last_of_a;
  for (auto& x : emitter_->batches) {
    if (x.shard_id == "a") last_of_a = x.last.sequence_number;
  }
  auto state = store_->Get("a");
  ASSERT_TRUE(state.position);
  EXPECT_EQ(state.position->sequence_number, last_of_a);
  EXPECT_TRUE(state.pending.empty());
  EXPECT_FALSE(state.shard_end);
  auto stats = p->stats();
  EXPECT_EQ(stats.records_read, 280u);
  EXPECT_EQ(stats.records_emitted, 280u);
  // 250 records with max_records 100: batches of 100, 100, 50.
  std::vector<size_t> sizes;
  for (auto& x : emitter_->batches) {
    if (x.shard_id == "a") sizes.push_back(x.records.size());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{100, 100, 50}));
}

TEST_F(PipelineTest, RecordsOfEveryBatchKeepTheirOwnBytesWhenStorageIsReused) {
  // Emitted batches give their records back for later pages to fill; with
  // pages of 5 and batches of 7, pages take records left from different
  // batches, and sizes that change from record to record would show any
  // bytes carried over from a record before.
  config_.records_per_call = 5;
  config_.buffer.max_records = 7;
  kinesis_->AddShard("a");
  std::vector<std::string> data, keys, sequences;
  for (int i = 0; i < 300; ++i) {
    data.push_back(std::string(i % 3 == 0 ? 3000 + i : i % 5, static_cast<char>('A' + i % 26)) +
                   std::to_string(i));
    keys.push_back(i % 2 == 0 ? std::string(40, 'k') + std::to_string(i) : "k" + std::to_string(i));
    sequences.push_back(kinesis_->Put("a", data.back(), keys.back()));
  }
  auto p = Make(true);
  ASSERT_TRUE(p->Run({}, {}));
  std::vector<std::string> got_data, got_keys, got_sequences;
  for (const auto& b : emitter_->batches) {
    for (const auto& r : b.records) {
      got_data.push_back(r.data);
      got_keys.push_back(r.partition_key);
      got_sequences.push_back(r.sequence_number);
      EXPECT_EQ(r.sub_sequence_number, 0u);
    }
  }
  EXPECT_EQ(got_data, data);
  EXPECT_EQ(got_keys, keys);
  EXPECT_EQ(got_sequences, sequences);
}

TEST(PageLimit, AboutBytesPerCallOfTheLastPagesRecords) {
  EXPECT_EQ(core::PageLimitFor(10'000, 1 << 20, 1024), 1024u);
  EXPECT_EQ(core::PageLimitFor(10'000, 1 << 20, 100), 10'000u);  // capped by records_per_call
  EXPECT_EQ(core::PageLimitFor(500, 1 << 20, 100), 500u);
  EXPECT_EQ(core::PageLimitFor(10'000, 1 << 20, 2 << 20), 1u);  // records larger than the budget
  EXPECT_EQ(core::PageLimitFor(10'000, 1 << 20, 0), 10'000u);
  EXPECT_EQ(core::PageLimitFor(0, 1 << 20, 10), 1u);
}

TEST_F(PipelineTest, PagesAreSizedByTheRecordsOfTheLastPage) {
  // 4 KiB records and a 64 KiB budget: after the first page (sized for the
  // assumed 1 KiB records), calls ask for 16 records; every record still
  // arrives, in order.
  config_.bytes_per_call = 64 << 10;
  config_.records_per_call = 10'000;
  config_.buffer.max_records = 1000;
  config_.buffer.max_bytes = 64 << 20;
  kinesis_->AddShard("a");
  std::vector<std::string> data;
  for (int i = 0; i < 200; ++i) {
    data.push_back(std::string(4096, static_cast<char>('a' + i % 26)) + std::to_string(i));
    kinesis_->Put("a", data.back());
  }
  auto p = Make(true);
  ASSERT_TRUE(p->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), data);
  const auto limits = kinesis_->GetRecordsLimits("a");
  ASSERT_GE(limits.size(), 3u);
  EXPECT_EQ(limits[0], 64u);  // 64 KiB of the assumed 1 KiB records
  for (size_t i = 1; i < limits.size(); ++i) EXPECT_EQ(limits[i], 15u) << i;  // 64 KiB / 4.1 KiB
}

TEST_F(PipelineTest, StartAtATimestampSkipsOlderRecords) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 10, "t");
  // The fake stamps record i (1-based) at 1'795'642'616'000 + i ms.
  config_.start_at.kind = StartAt::Kind::kTimestamp;
  config_.start_at.timestamp_ms = 1'795'642'616'004;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), std::vector<std::string>(data.begin() + 3, data.end()));
  EXPECT_EQ(kinesis_->IteratorRequests().front(), "AT_TIMESTAMP");
}

TEST_F(PipelineTest, StartAtLatestSkipsEverythingAlreadyThere) {
  kinesis_->AddShard("a");
  PutMany("a", 10, "old");
  config_.start_at.kind = StartAt::Kind::kLatest;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_TRUE(emitter_->batches.empty());
  EXPECT_EQ(kinesis_->IteratorRequests().front(), "LATEST");
}

TEST_F(PipelineTest, SecondRunReadsOnlyNewRecords) {
  kinesis_->AddShard("a");
  PutMany("a", 10, "old");
  ASSERT_TRUE(Make(true)->Run({}, {}));
  emitter_->batches.clear();
  auto fresh = PutMany("a", 5, "new");
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), fresh);
  // At the checkpoint, which is read again and skipped: it may be inside an aggregate.
  EXPECT_EQ(kinesis_->IteratorRequests().back().rfind("AT_SEQUENCE_NUMBER 4960", 0), 0u);
}

TEST_F(PipelineTest, AgeThresholdFlushesWhenNoNewRecordsArrive) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 5, "x");
  config_.buffer.max_records = 1000;
  config_.buffer.max_age = 30s;
  auto p = Make(false);
  std::stop_source stop;
  Clock::TimePoint started = clock_.Now();
  Clock::TimePoint flushed{};
  emitter_->on_emit = [&](const Batch&) {
    flushed = clock_.Now();
    stop.request_stop();
  };
  ASSERT_TRUE(p->Run(stop.get_token(), {}));
  ASSERT_EQ(emitter_->batches.size(), 1u);
  EXPECT_EQ(emitter_->Data("a"), data);
  EXPECT_GE(flushed - started, 30s);
  EXPECT_LT(flushed - started, 32s);  // woke in time, not a poll interval late
}

TEST_F(PipelineTest, ReplayAfterAFailedEmitCutsExactlyTheSameBatch) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 250, "r");
  config_.buffer.max_records = 100;
  int emits = 0;
  emitter_->fail = [&](const Batch&) { return ++emits == 2; };
  auto first = Make(true)->Run({}, {});
  ASSERT_FALSE(first);
  EXPECT_NE(first.error().message().find("emitting shard a"), std::string::npos);
  ASSERT_EQ(emitter_->batches.size(), 1u);
  auto state = store_->Get("a");
  ASSERT_EQ(state.pending.size(), 1u);
  EXPECT_EQ(state.position, emitter_->batches[0].last);  // not past the refused batch
  const BatchRange refused = state.pending[0];

  // Different thresholds now: the pending batch is still cut where it was.
  emitter_->fail = nullptr;
  emitter_->batches.clear();
  config_.buffer.max_records = 1000;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  ASSERT_GE(emitter_->batches.size(), 2u);
  EXPECT_EQ(emitter_->batches[0].first, refused.first);
  EXPECT_EQ(emitter_->batches[0].last, refused.last);
  EXPECT_EQ(emitter_->batches[0].records.size(), 100u);
  std::vector<std::string> rest(data.begin() + 100, data.end());
  EXPECT_EQ(emitter_->Data("a"), rest);
  EXPECT_TRUE(store_->Get("a").pending.empty());
}

// Each user record of an aggregate as "key=data/sub", in emitted order.
std::vector<std::string> UserRecords(const std::vector<Batch>& batches) {
  std::vector<std::string> out;
  for (const auto& b : batches) {
    for (const auto& r : b.records) {
      out.push_back(r.partition_key + "=" + r.data + "/" + std::to_string(r.sub_sequence_number));
    }
  }
  return out;
}

TEST_F(PipelineTest, KplAggregatesAreSplitAndARestartMidAggregateResumesAfterTheLastDelivered) {
  kinesis_->AddShard("a");
  kinesis_->Put("a", "plain-0", "p");
  std::vector<std::pair<std::string, std::string>> first, second;
  for (int i = 0; i < 5; ++i)
    first.emplace_back("k" + std::to_string(i % 2), "u" + std::to_string(i));
  for (int i = 0; i < 3; ++i) second.emplace_back("j" + std::to_string(i), "v" + std::to_string(i));
  const std::string aggregate_seq = kinesis_->Put("a", kinesis::Aggregate(first), "outer");
  kinesis_->Put("a", "plain-1", "p");
  kinesis_->Put("a", kinesis::Aggregate(second), "outer");
  const std::vector<std::string> all = {"p=plain-0/0", "k0=u0/0", "k1=u1/1",     "k0=u2/2",
                                        "k1=u3/3",     "k0=u4/4", "p=plain-1/0", "j0=v0/0",
                                        "j1=v1/1",     "j2=v2/2"};
  // Batches of 3 end inside the first aggregate; the second batch is refused.
  config_.buffer.max_records = 3;
  int emits = 0;
  emitter_->fail = [&](const Batch&) { return ++emits == 2; };
  ASSERT_FALSE(Make(true)->Run({}, {}));
  EXPECT_EQ(UserRecords(emitter_->batches), std::vector<std::string>(all.begin(), all.begin() + 3));
  auto state = store_->Get("a");
  ASSERT_TRUE(state.position);
  EXPECT_EQ(*state.position, (ShardPosition{aggregate_seq, 1}));

  // The restart reads the aggregate again and delivers from its third user
  // record on: nothing skipped, nothing twice.
  emitter_->fail = nullptr;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(UserRecords(emitter_->batches), all);
  EXPECT_EQ(kinesis_->IteratorRequests().back(), "AT_SEQUENCE_NUMBER " + aggregate_seq);
  for (const auto& b : emitter_->batches) {
    for (const auto& r : b.records) {
      EXPECT_FALSE(r.sequence_number.empty()) << r.data;
    }
  }

  // And with a checkpoint on the aggregate's last user record, the restart
  // goes on after the whole aggregate.
  emitter_->batches.clear();
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_TRUE(emitter_->batches.empty());
}

TEST_F(PipelineTest, WithoutDeaggregationAnAggregateIsHandedOnWhole) {
  kinesis_->AddShard("a");
  const std::string aggregate = kinesis::Aggregate({{"k", "one"}, {"k", "two"}});
  kinesis_->Put("a", aggregate, "outer");
  // Looks aggregated, but the MD5 does not match: handed on as it is.
  std::string broken = aggregate;
  broken.back() ^= 1;
  kinesis_->Put("a", broken, "outer");
  config_.deaggregate = false;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), (std::vector<std::string>{aggregate, broken}));
  emitter_->batches.clear();
  store_ = std::make_shared<MemoryStore>();
  config_.deaggregate = true;
  auto p = Make(true);
  ASSERT_TRUE(p->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), (std::vector<std::string>{"one", "two", broken}));
}

TEST_F(PipelineTest, RecordsThatFailToTransformGoToTheDeadLettersAndTheShardReadsOn) {
  kinesis_->AddShard("a");
  const std::vector<std::string> data = {"{\"n\":0}", "{\"n\":", "{\"n\":2}", "nope", "{\"n\":4}"};
  std::string last;
  for (const auto& d : data) last = kinesis_->Put("a", d);
  transformer_ = std::make_shared<transform::JsonTransformer>();
  dead_letters_ = std::make_shared<MemoryDeadLetters>();
  config_.on_error = OnError::kDeadLetter;
  auto p = Make(true);
  ASSERT_TRUE(p->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), (std::vector<std::string>{data[0], data[2], data[4]}));
  EXPECT_EQ(dead_letters_->Data(),
            (std::vector<std::string>{"transform:" + data[1], "transform:" + data[3]}));
  const DeadLetter& first = dead_letters_->letters[0];
  EXPECT_EQ(first.pipeline, "t");
  EXPECT_EQ(first.stream, "s");
  EXPECT_EQ(first.shard_id, "a");
  EXPECT_NE(first.error.find("not valid JSON"), std::string::npos) << first.error;
  EXPECT_EQ(p->stats().records_dead_lettered, 2u);
  EXPECT_EQ(p->stats().records_read, 5u);
  auto state = store_->Get("a");
  ASSERT_TRUE(state.position);
  EXPECT_EQ(state.position->sequence_number, last);  // past every record, the bad ones too
}

TEST_F(PipelineTest, TelemetryCountsEachShardAndTheEmitsDurations) {
  kinesis_->AddShard("a");
  kinesis_->AddShard("b");
  kinesis_->Close("b");
  PutMany("a", 250, "a");  // 2, 3 and 4 bytes a record
  kinesis_->Put("a", "{\"n\":1}");
  kinesis_->Put("a", "nope");
  PutMany("b", 30, "b");
  kinesis_->FailNext("GetRecords", 400, "ProvisionedThroughputExceededException");
  transformer_ = std::make_shared<transform::JsonTransformer>();
  dead_letters_ = std::make_shared<MemoryDeadLetters>();
  config_.on_error = OnError::kDeadLetter;
  auto p = Make(true);
  EXPECT_FALSE(p->telemetry().ready);  // not running yet
  ASSERT_TRUE(p->Run({}, {}));
  PipelineTelemetry t = p->telemetry();
  EXPECT_FALSE(t.ready);  // stopped
  EXPECT_EQ(t.shards_open, 1u);
  EXPECT_EQ(t.shards_closed, 1u);
  ASSERT_EQ(t.shards.size(), 2u);
  const ShardTelemetry& a = t.shards[0];
  const ShardTelemetry& b = t.shards[1];
  EXPECT_EQ(a.shard_id, "a");
  EXPECT_EQ(a.records_read, 252u);
  EXPECT_EQ(a.bytes_read, 10u * 2u + 90u * 3u + 150u * 4u + 7u + 4u);
  // Every "aN" is not JSON either: only {"n":1} is delivered.
  EXPECT_EQ(a.records_emitted, 1u);
  EXPECT_EQ(a.dead_lettered, (std::map<std::pair<std::string, std::string>, uint64_t>{
                                 {{"transform", ErrorCodeName(ErrorCode::kParse)}, 251u}}));
  EXPECT_FALSE(a.reading);
  EXPECT_FALSE(a.finished);
  EXPECT_EQ(a.millis_behind_latest, 0);
  EXPECT_EQ(a.records_buffered, 0u);
  EXPECT_EQ(b.records_read, 30u);
  EXPECT_EQ(b.records_emitted, 0u);  // "bN" is not JSON
  EXPECT_TRUE(b.finished);
  const uint64_t calls = a.get_records_calls + b.get_records_calls;
  EXPECT_GE(calls, 3u);
  EXPECT_EQ(a.get_records_throttled + b.get_records_throttled, 1u);
  std::map<std::string, uint64_t> errors = a.get_records_errors;
  for (const auto& [code, n] : b.get_records_errors) errors[code] += n;
  EXPECT_EQ(errors, (std::map<std::string, uint64_t>{{ErrorCodeName(ErrorCode::kThrottled), 1u}}));
  // One emitter call per batch with records: shard a's batches of 100.
  uint64_t batches = a.batches_emitted + b.batches_emitted;
  EXPECT_EQ(t.emit_seconds.counts.back(), batches);
  EXPECT_EQ(t.emit_seconds.counts.size(), t.emit_seconds.upper_bounds.size() + 1);
  EXPECT_EQ(p->stats().records_dead_lettered, 251u + 30u);
  EXPECT_EQ(p->stats().records_read, 282u);
}

TEST_F(PipelineTest, TelemetryIsReadyOnceEveryCheckpointIsLoadedAndNotWhileStopping) {
  kinesis_->AddShard("a");
  PutMany("a", 10, "r");
  auto p = Make(false);
  std::stop_source stop;
  std::thread run([&] { EXPECT_TRUE(p->Run(stop.get_token(), {})); });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  PipelineTelemetry t;
  while (std::chrono::steady_clock::now() < deadline) {
    t = p->telemetry();
    if (t.ready && !t.shards.empty() && t.shards[0].records_read == 10) break;
    std::this_thread::yield();
  }
  EXPECT_TRUE(t.ready);
  ASSERT_EQ(t.shards.size(), 1u);
  EXPECT_TRUE(t.shards[0].reading);
  EXPECT_TRUE(t.shards[0].seconds_since_checkpoint.has_value());
  stop.request_stop();
  EXPECT_FALSE(p->telemetry().ready);
  run.join();
  EXPECT_FALSE(p->telemetry().shards[0].seconds_since_checkpoint.has_value());
}

TEST_F(PipelineTest, AnEmitRefusalIsNarrowedToTheRecordsTheSinkRefuses) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 10, "r");
  dead_letters_ = std::make_shared<MemoryDeadLetters>();
  config_.on_error = OnError::kDeadLetter;
  emitter_->fail = [](const Batch& b) {
    for (const auto& r : b.records) {
      if (r.data == "r3" || r.data == "r8") return true;
    }
    return false;
  };
  auto p = Make(true);
  ASSERT_TRUE(p->Run({}, {}));
  std::vector<std::string> good;
  for (const auto& d : data) {
    if (d != "r3" && d != "r8") good.push_back(d);
  }
  EXPECT_EQ(emitter_->Data("a"), good);
  EXPECT_EQ(dead_letters_->Data(), (std::vector<std::string>{"emit:r3", "emit:r8"}));
  EXPECT_EQ(p->stats().records_emitted, 8u);
  EXPECT_EQ(p->stats().records_dead_lettered, 2u);
  EXPECT_TRUE(store_->Get("a").pending.empty());
}

TEST_F(PipelineTest, ASinkUnavailableInTheMiddleOfSeparatingLettersOnlyWhatItDidNotTake) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 10, "r");
  dead_letters_ = std::make_shared<MemoryDeadLetters>();
  config_.on_error = OnError::kDeadLetter;
  // r3 is refused for its data; then the sink is down for the second half.
  emitter_->fail_with = [](const Batch& b) -> std::optional<ErrorCode> {
    for (const auto& r : b.records) {
      if (r.data == "r3") return ErrorCode::kInvalidArgument;
    }
    if (b.records.front().data == "r5") return ErrorCode::kUnavailable;
    return std::nullopt;
  };
  auto p = Make(true);
  ASSERT_TRUE(p->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), (std::vector<std::string>{"r0", "r1", "r2", "r4"}));
  std::vector<std::string> letters = dead_letters_->Data();
  std::sort(letters.begin(), letters.end());
  EXPECT_EQ(letters, (std::vector<std::string>{"emit:r3", "emit:r5", "emit:r6", "emit:r7",
                                               "emit:r8", "emit:r9"}));
  for (const auto& l : dead_letters_->letters) {
    EXPECT_EQ(l.error_code, l.record.data == "r3" ? "invalid argument" : "unavailable");
  }
  EXPECT_EQ(p->stats().records_emitted + p->stats().records_dead_lettered, 10u);
}

TEST_F(PipelineTest, ASinkOutageIsWaitedOutWithTheCheckpointHeld) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 250, "r");
  config_.buffer.max_records = 100;
  // The sink is down for the second batch's first 12 attempts (some minutes
  // of backoff on the fake clock), longer than any client's own retries.
  int refusals = 0;
  std::optional<ShardPosition> checkpoint_during_outage;
  emitter_->fail_with = [&](const Batch& b) -> std::optional<ErrorCode> {
    if (b.records.front().data != "r100" || refusals == 12) return std::nullopt;
    ++refusals;
    checkpoint_during_outage = store_->Get("a").position;
    return refusals % 2 ? ErrorCode::kUnavailable : ErrorCode::kConnection;
  };
  const auto started = clock_.Now();
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(refusals, 12);
  EXPECT_EQ(emitter_->Data("a"), data);  // each record once, in order
  // Throughout the outage the checkpoint stayed at the first batch's end.
  ASSERT_TRUE(checkpoint_during_outage);
  EXPECT_EQ(checkpoint_during_outage->sequence_number, emitter_->batches[0].last.sequence_number);
  // Backoff: waits grow to the 30 s cap, so 11 waits take a while but the
  // sink is asked again within 30 s of coming back.
  EXPECT_GT(clock_.Now() - started, 60s);
  for (auto d : clock_.sleeps()) EXPECT_LE(d, 30s);
}

// The checkpoint store down for minutes (more than 20 attempts of the read
// retry policy's kind) while batches are written: waited out like the sink.
TEST_F(PipelineTest, ACheckpointStoreOutageWhileWritingIsWaitedOut) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 250, "r");
  config_.buffer.max_records = 100;
  store_->FailSaves(25);
  const auto started = clock_.Now();
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), data);
  EXPECT_GT(clock_.Now() - started, 1min);  // 25 failed saves: about 5 min of backoff
  EXPECT_EQ(store_->Get("a").position->sequence_number,
            emitter_->batches.back().last.sequence_number);
}

TEST_F(PipelineTest, AnOutageLongerThanSinkRetryForStopsThePipelineWithoutMovingTheCheckpoint) {
  kinesis_->AddShard("a");
  PutMany("a", 50, "r");
  config_.sink_retry_for = 10min;
  int attempts = 0;
  emitter_->fail_with = [&](const Batch&) -> std::optional<ErrorCode> {
    ++attempts;
    return ErrorCode::kUnavailable;
  };
  const auto started = clock_.Now();
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("still failing after 600 s"), std::string::npos)
      << s.error().message();
  EXPECT_GE(clock_.Now() - started, 10min);
  EXPECT_LT(clock_.Now() - started, 11min);
  EXPECT_GT(attempts, 5);
  EXPECT_FALSE(store_->Get("a").position);
}

TEST_F(PipelineTest, SinkRetryForZeroGivesUpAtTheFirstFailedEmit) {
  kinesis_->AddShard("a");
  PutMany("a", 50, "r");
  config_.sink_retry_for = 0s;
  int attempts = 0;
  emitter_->fail_with = [&](const Batch&) -> std::optional<ErrorCode> {
    ++attempts;
    return ErrorCode::kThrottled;
  };
  ASSERT_FALSE(Make(true)->Run({}, {}));
  EXPECT_EQ(attempts, 1);
}

TEST_F(PipelineTest, AnErrorOfTheSetupIsNotWaitedOut) {
  kinesis_->AddShard("a");
  PutMany("a", 50, "r");
  int attempts = 0;
  emitter_->fail_with = [&](const Batch&) -> std::optional<ErrorCode> {
    ++attempts;
    return ErrorCode::kAuth;
  };
  ASSERT_FALSE(Make(true)->Run({}, {}));
  EXPECT_EQ(attempts, 1);
}

// A stop during an outage ends the wait: the batch is neither emitted nor
// dead-lettered, the checkpoint stays, and the run says so.
TEST_F(PipelineTest, AStopDuringAnOutageLeavesTheBatchForTheNextRun) {
  kinesis_->AddShard("a");
  PutMany("a", 50, "r");
  dead_letters_ = std::make_shared<MemoryDeadLetters>();
  config_.on_error = OnError::kDeadLetter;
  std::stop_source stop;
  int attempts = 0;
  emitter_->fail_with = [&](const Batch&) -> std::optional<ErrorCode> {
    if (++attempts == 3) stop.request_stop();
    return ErrorCode::kUnavailable;
  };
  auto s = Make(false)->Run(stop.get_token(), {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("shutting down"), std::string::npos) << s.error().message();
  EXPECT_EQ(attempts, 3);
  EXPECT_TRUE(dead_letters_->letters.empty());
  EXPECT_FALSE(store_->Get("a").position);
}

TEST_F(PipelineTest, AnEmitterThatCommitsCheckpointsIsCountedWithDeadLettersOn) {
  kinesis_->AddShard("a");
  PutMany("a", 250, "r");
  dead_letters_ = std::make_shared<MemoryDeadLetters>();
  config_.on_error = OnError::kDeadLetter;
  emitter_->commits_into = store_.get();
  auto p = Make(true);
  ASSERT_TRUE(p->Run({}, {}));
  EXPECT_EQ(p->stats().records_emitted, 250u);
  EXPECT_TRUE(dead_letters_->letters.empty());
}

TEST_F(PipelineTest, LettersThatCannotBeWrittenOnTheEmitSideLeaveTheCheckpoint) {
  kinesis_->AddShard("a");
  PutMany("a", 5, "r");
  dead_letters_ = std::make_shared<MemoryDeadLetters>();
  dead_letters_->refuse = true;
  config_.on_error = OnError::kDeadLetter;
  emitter_->fail = [](const Batch& b) {
    return std::any_of(b.records.begin(), b.records.end(),
                       [](const Record& r) { return r.data == "r2"; });
  };
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("memory dead letters"), std::string::npos)
      << s.error().message();
  EXPECT_FALSE(store_->Get("a").position);
}

TEST_F(PipelineTest, ErrorsOfTheSetupStillStopWithDeadLettersOn) {
  kinesis_->AddShard("a");
  PutMany("a", 5, "r");
  dead_letters_ = std::make_shared<MemoryDeadLetters>();
  config_.on_error = OnError::kDeadLetter;
  emitter_->fail = [](const Batch&) { return true; };
  emitter_->fail_code = ErrorCode::kAuth;
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kAuth);
  EXPECT_TRUE(dead_letters_->letters.empty());
  EXPECT_FALSE(store_->Get("a").position);
}

TEST_F(PipelineTest, ADeadLetterThatCannotBeWrittenStopsBeforeTheCheckpointPassesIt) {
  kinesis_->AddShard("a");
  const std::string good = kinesis_->Put("a", "{}");
  const std::string bad = kinesis_->Put("a", "{");
  kinesis_->Put("a", "{}");
  transformer_ = std::make_shared<transform::JsonTransformer>();
  dead_letters_ = std::make_shared<MemoryDeadLetters>();
  dead_letters_->refuse = true;
  config_.on_error = OnError::kDeadLetter;
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("at sequence number " + bad), std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find("memory dead letters"), std::string::npos);
  EXPECT_FALSE(store_->Get("a").position);  // the whole batch, good record included, waits
}

TEST_F(PipelineTest, AnEmitterThatCommitsCheckpointsGetsTheStateAfterEachBatch) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 250, "c");
  emitter_->commits_into = store_.get();
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), data);
  ASSERT_EQ(emitter_->commits.size(), 3u);
  for (size_t i = 0; i < emitter_->commits.size(); ++i) {
    const auto& [key, after] = emitter_->commits[i];
    EXPECT_EQ(key.pipeline, "t");
    EXPECT_EQ(key.stream, "s");
    EXPECT_EQ(key.shard, "a");
    EXPECT_EQ(after.position, emitter_->batches[i].last);
    EXPECT_TRUE(after.pending.empty()) << "the committed batch is no longer pending";
    EXPECT_FALSE(after.shard_end);
  }
  // The reader saved each range as pending first and never the checkpoint
  // after a batch: that is the emitter's to commit.
  const auto saved = store_->saved();
  ASSERT_EQ(saved.size(), 3u);
  for (size_t i = 0; i < saved.size(); ++i) {
    ASSERT_EQ(saved[i].pending.size(), 1u);
    EXPECT_EQ(saved[i].pending[0].first, emitter_->batches[i].first);
    EXPECT_EQ(saved[i].pending[0].last, emitter_->batches[i].last);
  }
  EXPECT_EQ(store_->Get("a").position, emitter_->batches.back().last);
}

TEST_F(PipelineTest, AFailedCommitLeavesTheCheckpointAndTheSameBatchIsCommittedNextTime) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 250, "f");
  emitter_->commits_into = store_.get();
  int emits = 0;
  emitter_->fail = [&](const Batch&) { return ++emits == 2; };
  ASSERT_FALSE(Make(true)->Run({}, {}));
  ASSERT_EQ(emitter_->batches.size(), 1u);
  auto state = store_->Get("a");
  EXPECT_EQ(state.position, emitter_->batches[0].last);
  ASSERT_EQ(state.pending.size(), 1u);
  const BatchRange refused = state.pending[0];

  emitter_->fail = nullptr;
  config_.buffer.max_records = 1000;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  ASSERT_EQ(emitter_->batches.size(), 3u);
  EXPECT_EQ(emitter_->batches[1].first, refused.first);
  EXPECT_EQ(emitter_->batches[1].last, refused.last);
  EXPECT_EQ(emitter_->Data("a"), data);  // every record once, in order
  EXPECT_TRUE(store_->Get("a").pending.empty());
  EXPECT_EQ(store_->Get("a").position, emitter_->batches.back().last);
}

TEST_F(PipelineTest, ExpiredIteratorBeforeAnyRecordStartsOver) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 40, "e");
  kinesis_->FailNext("GetRecords", 400, "ExpiredIteratorException");
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), data);
  EXPECT_EQ(kinesis_->IteratorRequests(),
            (std::vector<std::string>{"TRIM_HORIZON", "TRIM_HORIZON"}));
}

TEST_F(PipelineTest, ExpiredIteratorMidShardDoesNotRepeatRecords) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 40, "e");
  config_.records_per_call = 10;
  config_.buffer.max_records = 1000;
  // Let two pages through, then expire the iterator once.
  struct Expirer : Transformer {
    std::shared_ptr<testing::FakeKinesis> k;
    int seen = 0;
    Status Transform(Record&) override {
      if (++seen == 20) k->FailNext("GetRecords", 400, "ExpiredIteratorException");
      return Ok();
    }
  };
  auto t = std::make_shared<Expirer>();
  t->k = kinesis_;
  transformer_ = t;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), data);
  auto requests = kinesis_->IteratorRequests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1], "AT_SEQUENCE_NUMBER " + emitter_->batches[0].records[19].sequence_number);
}

TEST_F(PipelineTest, ThrottlingBacksOffWithJitterAndLosesNothing) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 10, "t");
  kinesis_->TimeCallsWith(&clock_);
  for (int i = 0; i < 4; ++i) {
    kinesis_->FailNext("GetRecords", 400, "ProvisionedThroughputExceededException");
  }
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), data);
  auto times = kinesis_->CallTimes("GetRecords");
  ASSERT_EQ(times.size(), 6u);  // 4 throttled, the page, the empty tail
  // After throttled answer n the wait is at most the full-jitter ceiling
  // 100 ms * 2^n (plus the 200 ms spacing Kinesis requires between calls).
  for (int n = 0; n < 4; ++n) {
    EXPECT_LE(times[n + 1] - times[n], std::chrono::milliseconds(100 << n) + 200ms) << n;
  }
  // And it does wait: four throttled answers are not retried back to back.
  EXPECT_GT(times[4] - times[0], 0ms);
}

TEST_F(PipelineTest, AuthErrorsAreNotRetriedAndSayWhy) {
  kinesis_->AddShard("a");
  PutMany("a", 3, "x");
  kinesis_->FailNext("GetRecords", 400, "UnrecognizedClientException");
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kAuth);
  EXPECT_NE(s.error().message().find("shard a"), std::string::npos);
  EXPECT_EQ(kinesis_->Calls("GetRecords"), 1);
  EXPECT_TRUE(emitter_->batches.empty());
}

std::vector<Error> Errors(int n, ErrorCode code) {
  return std::vector<Error>(n, Error(code, "store briefly unreachable"));
}

TEST_F(PipelineTest, ACheckpointStoreBlipAtAShardsStartIsWaitedOut) {
  kinesis_->AddShard("a");
  auto first = PutMany("a", 5, "first");
  ASSERT_TRUE(Make(true)->Run({}, {}));
  auto second = PutMany("a", 5, "second");
  store_->FailLoads({Error(ErrorCode::kUnavailable, "server restarting"),
                     Error(ErrorCode::kConnection, "connection refused"),
                     Error(ErrorCode::kUnavailable, "server restarting")});
  const int loads_before = store_->loads();
  const size_t sleeps_before = clock_.sleeps().size();
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(store_->loads() - loads_before, 4);
  // It waited between the attempts (on the injected clock).
  EXPECT_GE(clock_.sleeps().size() - sleeps_before, 3u);
  // The checkpoint was loaded in the end: the second run starts after it.
  auto all = first;
  all.insert(all.end(), second.begin(), second.end());
  EXPECT_EQ(emitter_->Data("a"), all);
}

// The waits between loads are timers of the scheduler: the one reader thread
// reads the other shard meanwhile.
TEST_F(PipelineTest, AShardWaitingToLoadItsCheckpointHoldsNoReaderThread) {
  config_.reader_threads = 1;
  kinesis_->AddShard("a");
  kinesis_->AddShard("b");
  auto a = PutMany("a", 5, "a-");
  auto b = PutMany("b", 5, "b-");
  int get_records_before_a_loaded = -1;
  store_->FailLoadsOf("a", 3, [&] { get_records_before_a_loaded = kinesis_->Calls("GetRecords"); });
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_GE(get_records_before_a_loaded, 1) << "shard b was not read while a waited";
  EXPECT_EQ(emitter_->Data("a"), a);
  EXPECT_EQ(emitter_->Data("b"), b);
}

TEST_F(PipelineTest, ACheckpointStoreBlipWhileLookingAtClosedShardsIsWaitedOut) {
  kinesis_->AddShard("p");
  kinesis_->AddShard("c", "p");
  auto p = PutMany("p", 4, "p-");
  auto c = PutMany("c", 3, "c-");
  kinesis_->Close("p");
  ASSERT_TRUE(Make(true)->Run({}, {}));
  ASSERT_TRUE(store_->Get("p").shard_end);
  emitter_->batches.clear();
  // The first load of the next run is the closed parent's, by the pipeline.
  store_->FailLoads(Errors(2, ErrorCode::kConnection));
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_TRUE(emitter_->batches.empty()) << "nothing is read twice";
}

TEST_F(PipelineTest, ANonRetriableCheckpointLoadErrorStopsThePipelineNamingShardAndStore) {
  kinesis_->AddShard("a");
  PutMany("a", 3, "x");
  store_->FailLoads({Error(ErrorCode::kParse, "the stored checkpoint is not valid JSON")});
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kParse);
  EXPECT_EQ(store_->loads(), 1) << "not retried";
  const std::string& m = s.error().message();
  EXPECT_NE(m.find("loading the checkpoint of shard a from memory: the stored checkpoint is not "
                   "valid JSON"),
            std::string::npos)
      << m;
  EXPECT_TRUE(emitter_->batches.empty());
  EXPECT_EQ(kinesis_->Calls("GetRecords"), 0);
}

// Down at start-up for longer than any client's own retries (minutes of
// backoff): waited out as during writes.
TEST_F(PipelineTest, ACheckpointStoreDownAtStartIsWaitedOut) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 3, "x");
  store_->FailLoads(Errors(40, ErrorCode::kUnavailable));
  const auto started = clock_.Now();
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(store_->loads(), 41);
  EXPECT_EQ(emitter_->Data("a"), data);
  EXPECT_GT(clock_.Now() - started, 2min);
}

// sink_retry_for = 0 gives up on the sink at once; a store blip at start-up
// still gets the read policy's attempts.
TEST_F(PipelineTest, WithSinkRetryForZeroACheckpointLoadIsStillRetried) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 3, "x");
  config_.sink_retry_for = 0s;
  store_->FailLoads(Errors(5, ErrorCode::kThrottled));
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(store_->loads(), 6);
  EXPECT_EQ(emitter_->Data("a"), data);
}

TEST_F(PipelineTest, ACheckpointStoreThatStaysDownStopsThePipelineAfterSinkRetryFor) {
  kinesis_->AddShard("a");
  PutMany("a", 3, "x");
  config_.sink_retry_for = 10min;
  store_->FailLoads(Errors(1000, ErrorCode::kUnavailable));
  const auto started = clock_.Now();
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  EXPECT_GE(clock_.Now() - started, 10min);
  EXPECT_LT(clock_.Now() - started, 11min);
  const std::string& m = s.error().message();
  EXPECT_NE(m.find("loading the checkpoint of shard a from memory: still failing after 600 s"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("(sink_retry_for)"), std::string::npos) << m;
  EXPECT_TRUE(emitter_->batches.empty());
}

TEST_F(PipelineTest, AStopWhileWaitingToLoadACheckpointEndsCleanly) {
  kinesis_->AddShard("a");
  PutMany("a", 3, "x");
  std::stop_source stop;
  store_->FailLoads(Errors(100, ErrorCode::kUnavailable), [&] { stop.request_stop(); });
  ASSERT_TRUE(Make(false)->Run(stop.get_token(), {}));
  EXPECT_EQ(store_->loads(), 1);
  EXPECT_TRUE(emitter_->batches.empty());
}

TEST_F(PipelineTest, TrimmedCheckpointRestartsAtTrimHorizon) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 20, "d");
  ASSERT_TRUE(Make(true)->Run({}, {}));
  auto more = PutMany("a", 10, "m");
  kinesis_->Trim("a", 25);  // the checkpoint (record 19) and 20..24 are gone
  emitter_->batches.clear();
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), std::vector<std::string>(more.begin() + 5, more.end()));
  EXPECT_EQ(kinesis_->IteratorRequests().back(), "TRIM_HORIZON");
}

TEST_F(PipelineTest, ChildrenAreReadOnlyAfterEveryParentEnded) {
  kinesis_->AddShard("p0");
  kinesis_->AddShard("p1");
  kinesis_->AddShard("c", "p0", "p1");
  auto p0 = PutMany("p0", 120, "p0-");
  auto p1 = PutMany("p1", 80, "p1-");
  auto c = PutMany("c", 50, "c-");
  kinesis_->Close("p0");
  kinesis_->Close("p1");
  config_.buffer.max_records = 30;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("p0"), p0);
  EXPECT_EQ(emitter_->Data("p1"), p1);
  EXPECT_EQ(emitter_->Data("c"), c);
  size_t last_parent = 0;
  size_t first_child = emitter_->batches.size();
  for (size_t i = 0; i < emitter_->batches.size(); ++i) {
    if (emitter_->batches[i].shard_id == "c") {
      first_child = std::min(first_child, i);
    } else {
      last_parent = i;
    }
  }
  EXPECT_LT(last_parent, first_child);
  EXPECT_TRUE(store_->Get("p0").shard_end);
  EXPECT_TRUE(store_->Get("p1").shard_end);
  EXPECT_FALSE(store_->Get("c").shard_end);
  // A later run does not read the finished parents again.
  emitter_->batches.clear();
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_TRUE(emitter_->batches.empty());
}

TEST_F(PipelineTest, BadRecordStopsThePipelineNamingShardAndSequenceNumber) {
  kinesis_->AddShard("a");
  PutMany("a", 5, "ok");
  std::string bad_seq = kinesis_->Put("a", "BAD");
  PutMany("a", 5, "after");
  struct Strict : Transformer {
    Status Transform(Record& r) override {
      if (r.data == "BAD") return Fail(ErrorCode::kParse, "not valid");
      return Ok();
    }
  };
  transformer_ = std::make_shared<Strict>();
  config_.buffer.max_records = 5;
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("shard a"), std::string::npos);
  EXPECT_NE(s.error().message().find(bad_seq), std::string::npos);
  EXPECT_NE(s.error().message().find("not valid"), std::string::npos);
  // The records before it were delivered and checkpointed; nothing after it.
  EXPECT_EQ(emitter_->Data("a").size(), 5u);
  auto state = store_->Get("a");
  ASSERT_TRUE(state.position);
  EXPECT_EQ(CompareSequenceNumbers(state.position->sequence_number, bad_seq),
            std::strong_ordering::less);
}

TEST_F(PipelineTest, BadRecordMidBatchDeliversTheRecordsBeforeItAndStopsThereAgain) {
  kinesis_->AddShard("a");
  std::vector<std::string> before;
  std::string last_good;
  for (int i = 0; i < 4; ++i) {
    before.push_back("{\"n\":" + std::to_string(i) + "}");
    last_good = kinesis_->Put("a", before.back());
  }
  const std::string bad_seq = kinesis_->Put("a", "{\"n\":");
  kinesis_->Put("a", "{\"n\":5}");
  transformer_ = std::make_shared<transform::JsonTransformer>();
  config_.buffer.max_records = 100;  // the bad record comes in the middle of a batch

  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run);
    auto s = Make(true)->Run({}, {});
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), ErrorCode::kParse);
    const std::string& m = s.error().message();
    EXPECT_NE(m.find("pipeline t"), std::string::npos) << m;
    EXPECT_NE(m.find("shard a at sequence number " + bad_seq + ": not valid JSON"),
              std::string::npos)
        << m;
    // Every record before the bad one, once, in order; nothing after it.
    EXPECT_EQ(emitter_->Data("a"), before);
    auto state = store_->Get("a");
    ASSERT_TRUE(state.position);
    EXPECT_EQ(state.position->sequence_number, last_good);
    EXPECT_TRUE(state.pending.empty());
  }
}

TEST_F(PipelineTest, AFilterErrorIsABadRecordToo) {
  kinesis_->AddShard("a");
  kinesis_->Put("a", R"({"type":"click","n":1})");
  kinesis_->Put("a", R"({"type":"view","n":2})");
  const std::string dropped_seq = kinesis_->Put("a", R"({"type":"view","n":3})");
  const std::string bad_seq = kinesis_->Put("a", R"(["click"])");
  kinesis_->Put("a", R"({"type":"click","n":5})");
  auto filter = transform::JsonFieldFilter::Create("type", {"click"},
                                                   transform::JsonFieldFilter::Mode::kKeepMatches);
  ASSERT_TRUE(filter);
  filter_ = std::move(*filter);
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("shard a at sequence number " + bad_seq +
                                     ": filter on field \"type\": not a JSON object"),
            std::string::npos)
      << s.error().message();
  EXPECT_EQ(emitter_->Data("a"), (std::vector<std::string>{R"({"type":"click","n":1})"}));
  // The checkpoint covers the dropped records before the bad one, not the bad one.
  auto state = store_->Get("a");
  ASSERT_TRUE(state.position);
  EXPECT_EQ(state.position->sequence_number, dropped_seq);
}

TEST_F(PipelineTest, BadRecordInsideABatchRecordedBeforeARestartLeavesThatBatchWhole) {
  kinesis_->AddShard("a");
  PutMany("a", 2, "ok");
  const std::string bad_seq = kinesis_->Put("a", "BAD");
  PutMany("a", 2, "after");
  // First run: the batch of all five is cut and recorded, but the sink fails.
  emitter_->fail = [](const Batch&) { return true; };
  ASSERT_FALSE(Make(true)->Run({}, {}));
  ASSERT_EQ(store_->Get("a").pending.size(), 1u);
  const BatchRange recorded = store_->Get("a").pending.front();
  // Second run: the record in the middle is now refused.
  emitter_->fail = nullptr;
  struct Strict : Transformer {
    Status Transform(Record& r) override {
      if (r.data == "BAD") return Fail(ErrorCode::kParse, "not valid");
      return Ok();
    }
  };
  transformer_ = std::make_shared<Strict>();
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find(bad_seq), std::string::npos);
  // Emitting the two records before it would name another batch than the
  // recorded one: nothing is emitted and the record stays pending.
  EXPECT_TRUE(emitter_->batches.empty());
  auto state = store_->Get("a");
  EXPECT_FALSE(state.position);
  ASSERT_EQ(state.pending.size(), 1u);
  EXPECT_EQ(state.pending.front(), recorded);
}

TEST_F(PipelineTest, StopEmitsAndCheckpointsWhatWasReadAndTheRestComesNextTime) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 25, "s");
  config_.buffer.max_records = 10;
  std::stop_source stop;
  // Stop while the second batch is half read: its 4 records are emitted.
  struct StopAt : Transformer {
    std::stop_source* stop;
    int left = 14;
    Status Transform(Record&) override {
      if (--left == 0) stop->request_stop();
      return Ok();
    }
  };
  auto t = std::make_shared<StopAt>();
  t->stop = &stop;
  transformer_ = t;
  ASSERT_TRUE(Make(false)->Run(stop.get_token(), {}));
  EXPECT_EQ(emitter_->Data("a"), std::vector<std::string>(data.begin(), data.begin() + 14));
  EXPECT_EQ(store_->Get("a").position, emitter_->batches.back().last);
  EXPECT_TRUE(store_->Get("a").pending.empty());

  transformer_ = nullptr;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a"), data);
}

TEST_F(PipelineTest, StopWhileReplayingAPendingBatchNeverSplitsIt) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 250, "p");
  config_.buffer.max_records = 100;
  config_.records_per_call = 30;  // the replayed batch spans several pages
  // Run 1: the second batch reaches the sink, then the process "dies" before
  // its checkpoint (the emitter keeps the batch but reports failure).
  int emits = 0;
  emitter_->fail = [&](const Batch& b) {
    if (++emits != 2) return false;
    emitter_->batches.push_back(b);
    return true;
  };
  ASSERT_FALSE(Make(true)->Run({}, {}));
  ASSERT_EQ(store_->Get("a").pending.size(), 1u);
  const BatchRange recorded = store_->Get("a").pending[0];
  emitter_->fail = nullptr;

  // Run 2: stopped after 40 records of the replay.
  struct StopAfter : Transformer {
    std::stop_source* stop;
    int left;
    Status Transform(Record&) override {
      if (--left == 0) stop->request_stop();
      return Ok();
    }
  };
  std::stop_source stop;
  auto t = std::make_shared<StopAfter>();
  t->stop = &stop;
  t->left = 40;
  transformer_ = t;
  ASSERT_TRUE(Make(false)->Run(stop.get_token(), {}));
  EXPECT_EQ(emitter_->batches.size(), 2u);  // nothing new: the partial replay was dropped
  ASSERT_EQ(store_->Get("a").pending.size(), 1u);
  EXPECT_EQ(store_->Get("a").pending[0], recorded);

  // Run 3 finishes: the recorded batch is cut whole, so the sink (which
  // overwrites a batch of the same range) holds every record exactly once.
  transformer_ = nullptr;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> sink;
  for (const auto& b : emitter_->batches) {
    std::vector<std::string> records;
    for (const auto& r : b.records) records.push_back(r.data);
    sink[{b.first.sequence_number, b.last.sequence_number}] = records;
  }
  std::vector<std::string> all;
  for (const auto& [range, records] : sink) all.insert(all.end(), records.begin(), records.end());
  EXPECT_EQ(all, data);
}

TEST_F(PipelineTest, MissingNextIteratorOnAnOpenShardIsAnErrorNotTheEnd) {
  kinesis_->AddShard("a");
  PutMany("a", 5, "x");
  kinesis_->OmitNextIteratorOnce();
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("still open"), std::string::npos);
  EXPECT_FALSE(store_->Get("a").shard_end);
  // The next run reads on normally.
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_EQ(emitter_->Data("a").size(), 5u);
}

TEST_F(PipelineTest, ReadingOverlapsTheEmitOfThePreviousBatchWithOneBatchInFlight) {
  kinesis_->AddShard("a");
  auto data = PutMany("a", 300, "o");
  config_.records_per_call = 50;
  config_.buffer.max_records = 100;  // a batch is two pages
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int most_in_flight = 0;
  int emits = 0;
  bool overlapped = false;
  int calls_while_first_in_flight = 0;
  // The first batch is acknowledged only once the pages of the second were
  // fetched: a reader that waited for the sink would never get there.
  emitter_->fail = [&](const Batch&) {
    std::unique_lock lock(mu);
    most_in_flight = std::max(most_in_flight, ++in_flight);
    if (++emits == 1) {
      overlapped = cv.wait_for(lock, 30s, [&] { return kinesis_->Calls("GetRecords") >= 4; });
      // The third batch is due only after the first is acknowledged: the
      // reader stopped after the second batch's pages.
      calls_while_first_in_flight = kinesis_->Calls("GetRecords");
    }
    --in_flight;
    return false;
  };
  // Nothing notifies `cv` when a page is fetched: the transformer, which sees
  // every record read, does.
  struct Notify : Transformer {
    std::mutex* mu;
    std::condition_variable* cv;
    Status Transform(Record&) override {
      std::lock_guard lock(*mu);
      cv->notify_all();
      return Ok();
    }
  };
  auto t = std::make_shared<Notify>();
  t->mu = &mu;
  t->cv = &cv;
  transformer_ = t;
  ASSERT_TRUE(Make(true)->Run({}, {}));
  EXPECT_TRUE(overlapped) << "the second batch's pages were not read while the first was emitted";
  EXPECT_EQ(calls_while_first_in_flight, 4);
  EXPECT_EQ(most_in_flight, 1);
  EXPECT_EQ(emitter_->Data("a"), data);
  std::vector<size_t> sizes;
  for (auto& x : emitter_->batches) sizes.push_back(x.records.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{100, 100, 100}));
  EXPECT_EQ(store_->Get("a").position, emitter_->batches.back().last);
}

TEST_F(PipelineTest, ASinkStuckOnOneShardDoesNotStopTheOthers) {
  kinesis_->AddShard("a");
  kinesis_->AddShard("b");
  auto a = PutMany("a", 10, "a");
  auto b = PutMany("b", 250, "b");
  config_.buffer.max_records = 100;
  config_.reader_threads = 1;  // held by the stuck emit, nothing would be read
  config_.emit_threads = 2;
  // Holds shard a's batch until every record of b is in the sink.
  struct Stuck : Emitter {
    std::shared_ptr<CollectingEmitter> sink;
    std::mutex mu;
    std::condition_variable cv;
    bool waited = false;
    Status Emit(const Batch& batch, std::stop_token stop) override {
      if (batch.shard_id == "a") {
        std::unique_lock lock(mu);
        waited = cv.wait_for(lock, 30s, [&] { return sink->Data("b").size() == 250; });
      }
      auto s = sink->Emit(batch, stop);
      std::lock_guard lock(mu);
      cv.notify_all();
      return s;
    }
    std::string Describe() const override { return "stuck"; }
  };
  auto stuck = std::make_shared<Stuck>();
  stuck->sink = emitter_;
  PipelineParts parts;
  parts.emitter = stuck;
  parts.checkpoints = store_;
  ASSERT_TRUE(core::MakePipeline(config_, parts, kinesis_->Client(kinesis_, &clock_), true, &clock_)
                  ->Run({}, {}));
  EXPECT_TRUE(stuck->waited) << "shard b waited for shard a's sink";
  EXPECT_EQ(emitter_->Data("a"), a);
  EXPECT_EQ(emitter_->Data("b"), b);
}

TEST_F(PipelineTest, AnExceptionFromUserCodeStopsThePipelineNamingTheShard) {
  kinesis_->AddShard("a");
  PutMany("a", 5, "x");
  struct Throws : Transformer {
    Status Transform(Record&) override { throw std::runtime_error("user bug"); }
  };
  transformer_ = std::make_shared<Throws>();
  auto s = Make(true)->Run({}, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("shard a: unexpected exception: user bug"), std::string::npos);
  EXPECT_TRUE(emitter_->batches.empty());
}

}  // namespace
}  // namespace kc
