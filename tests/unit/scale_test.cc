// The pipeline at scale, against the in-memory Kinesis with a fake clock: a
// thousand shards, a few busy and the rest idle, read on a bounded number of
// threads without any shard being asked for records more than five times a
// second; and what an idle shard costs in memory (printed, not asserted
// tightly: it is a measurement).
//
// This binary counts the bytes live on the C++ heap by replacing the global
// operator new and delete, so that the figure covers every thread's
// allocations whatever malloc arena they come from.
#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <new>
#include <set>

#include "engine/pipeline_internal.h"
#include "support/collector.h"
#include "support/fake_clock.h"
#include "support/fake_kinesis.h"
#include "support/memory_store.h"

namespace {
std::atomic<int64_t> g_live_bytes{0};
}  // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  g_live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace kc {
namespace {

using namespace std::chrono_literals;

size_t ThreadsOfThisProcess() {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                                           std::filesystem::directory_iterator{}));
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

std::string ShardName(int i) {
  std::string digits = std::to_string(i);
  return "shardId-" + std::string(12 - digits.size(), '0') + digits;
}

PipelineOptions Config(uint32_t reader_threads) {
  PipelineOptions config;
  config.name = "t";
  config.stream = "s";
  config.records_per_call = 50;
  config.poll_interval = 1s;
  config.shard_discovery_interval = 1s;
  config.buffer.max_records = 100;
  config.buffer.max_bytes = 1 << 20;
  config.buffer.max_age = 1h;
  config.reader_threads = reader_threads;
  return config;
}

PipelineParts Parts(std::shared_ptr<Emitter> emitter) {
  PipelineParts parts;
  parts.emitter = std::move(emitter);
  parts.checkpoints = std::make_shared<testing::MemoryStore>();
  return parts;
}

// The most GetRecords calls in any one-second window.
size_t MostCallsInASecond(const std::vector<Clock::TimePoint>& times) {
  size_t most = 0;
  for (size_t i = 0, j = 0; i < times.size(); ++i) {
    while (times[i] - times[j] >= 1s) ++j;
    most = std::max(most, i - j + 1);
  }
  return most;
}

TEST(ScaleTest, AThousandMostlyIdleShardsOnAFewThreadsWithinFiveCallsASecond) {
  constexpr int kShards = 1000;
  constexpr uint32_t kThreads = 8;
  constexpr int kRecordsPerBusyShard = 400;  // 8 pages of 50
  const std::set<int> busy = {0, 250, 500, 750, 999};
  testing::FakeClock clock;
  auto kinesis = std::make_shared<testing::FakeKinesis>();
  kinesis->TimeCallsWith(&clock);
  std::map<std::string, std::vector<std::string>> sent;
  for (int i = 0; i < kShards; ++i) kinesis->AddShard(ShardName(i));
  for (int i : busy) {
    for (int n = 0; n < kRecordsPerBusyShard; ++n) {
      sent[ShardName(i)].push_back(ShardName(i) + "/" + std::to_string(n));
      kinesis->Put(ShardName(i), sent[ShardName(i)].back());
    }
  }
  const size_t total = busy.size() * kRecordsPerBusyShard;
  PipelineOptions config = Config(kThreads);
  // One batch per busy shard, cut at its last record: the pages before it
  // are paced by the spacing between calls alone.
  config.buffer.max_records = kRecordsPerBusyShard;
  auto emitter = std::make_shared<testing::CollectingEmitter>();

  const size_t threads_before = ThreadsOfThisProcess();
  std::atomic<size_t> most_threads{threads_before};
  std::stop_source stop;
  const Clock::TimePoint start = clock.Now();
  // Runs whenever the pipeline waits for its next due shard: look at the
  // thread count, and stop once every record is in and idle shards have been
  // polled for a while.
  clock.OnSleep([&] {
    size_t now = ThreadsOfThisProcess();
    size_t seen = most_threads.load();
    while (now > seen && !most_threads.compare_exchange_weak(seen, now)) {
    }
    const auto elapsed = clock.Now() - start;
    if ((emitter->records() == total && elapsed >= 20s) || elapsed >= 1h) stop.request_stop();
  });
  auto pipeline =
      core::MakePipeline(config, Parts(emitter), kinesis->Client(kinesis, &clock), false, &clock);
  ASSERT_TRUE(pipeline->Run(stop.get_token(), {}));
  clock.OnSleep(nullptr);

  for (int i : busy) EXPECT_EQ(emitter->Data(ShardName(i)), sent[ShardName(i)]) << i;
  EXPECT_EQ(pipeline->stats().shards_started, static_cast<uint64_t>(kShards));

  const size_t added = most_threads.load() - threads_before;
  std::cout << "[ figures  ] " << kShards << " shards, reader_threads " << kThreads
            << " (and as many emit threads): at most " << added
            << " threads more than before the run (" << most_threads.load() << " in the process)\n";
  EXPECT_LE(added, 2 * kThreads + 1)
      << "the reader pool, its timer and the emit pool, whatever the shard count";

  size_t most_calls = 0;
  std::vector<Clock::Duration> busy_gaps;
  for (int i = 0; i < kShards; ++i) {
    SCOPED_TRACE(ShardName(i));
    const auto times = kinesis->GetRecordsTimes(ShardName(i));
    most_calls = std::max(most_calls, MostCallsInASecond(times));
    for (size_t k = 1; k < times.size(); ++k) {
      ASSERT_GE(times[k] - times[k - 1], 200ms);
      if (busy.contains(i) && k <= kRecordsPerBusyShard / 50) {
        busy_gaps.push_back(times[k] - times[k - 1]);
      } else {
        // Idle at the tip: asked again only after poll_interval.
        ASSERT_GE(times[k] - times[k - 1], config.poll_interval);
      }
    }
    // Idle shards keep being polled (some 20 times in the 20 s).
    if (!busy.contains(i)) {
      ASSERT_GE(times.size(), 10u);
    }
  }
  std::ranges::sort(busy_gaps);
  const auto median = busy_gaps[busy_gaps.size() / 2];
  std::cout << "[ figures  ] most GetRecords calls on one shard in any second: " << most_calls
            << "; a busy shard's pages came a median "
            << std::chrono::duration_cast<std::chrono::milliseconds>(median).count()
            << " ms apart (idle shards: every "
            << std::chrono::duration_cast<std::chrono::milliseconds>(config.poll_interval).count()
            << " ms)\n";
  EXPECT_LE(most_calls, 5u);
  // Busy shards are read back to back, not at the idle pace. (The fake clock
  // moves whenever the scheduler waits, also while another shard's step
  // runs, so a gap is sometimes a multiple of 200 ms.)
  EXPECT_LT(median, config.poll_interval);
}

// Acknowledges batch k of its shard only once the reader fetched every page
// it may fetch meanwhile (those of batch k+1), and notes the heap then: the
// moment a shard holds the most (a batch in flight, a full buffer, a page).
class SlowSink final : public Emitter {
 public:
  SlowSink(std::shared_ptr<testing::FakeKinesis> kinesis, int pages)
      : kinesis_(kinesis), pages_(pages) {}

  Status Emit(const Batch& batch, std::stop_token) override {
    std::unique_lock lock(mu_);
    const int wanted = std::min(2 * (batches_ + 2), pages_ + 1);
    if (!cv_.wait_for(lock, 30s, [&] { return kinesis_->Calls("GetRecords") >= wanted; })) {
      return Fail(ErrorCode::kInternal, "the reader did not read on while a batch was emitted");
    }
    heap_.push_back(g_live_bytes.load());
    ++batches_;
    records_ += batch.records.size();
    return Ok();
  }
  std::string Describe() const override { return "slow sink"; }
  // Called for every record read, so that Emit looks at the calls again.
  void Poke() {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }
  std::vector<int64_t> heap() {
    std::lock_guard lock(mu_);
    return heap_;
  }
  size_t records() {
    std::lock_guard lock(mu_);
    return records_;
  }

 private:
  std::shared_ptr<testing::FakeKinesis> kinesis_;
  const int pages_;
  std::mutex mu_;
  std::condition_variable cv_;
  int batches_ = 0;
  size_t records_ = 0;
  std::vector<int64_t> heap_;
};

TEST(ScaleTest, AHugeBacklogAndASlowSinkHoldSteadyMemory) {
  constexpr int kRecords = 50'000;
  constexpr size_t kRecordSize = 1024;
  // One reader thread: each reader thread keeps a JSON parser as large as
  // the largest page it parsed, a cost per thread, not per shard or backlog,
  // which would make the figure below step up as more threads join in.
  PipelineOptions config = Config(1);
  config.records_per_call = 500;
  config.buffer.max_records = 1000;  // a batch is two pages
  config.buffer.max_bytes = 64 << 20;
  testing::FakeClock clock;
  auto kinesis = std::make_shared<testing::FakeKinesis>();
  kinesis->AddShard("backlog");
  for (int i = 0; i < kRecords; ++i) kinesis->Put("backlog", std::string(kRecordSize, 'x'));
  auto sink = std::make_shared<SlowSink>(kinesis, kRecords / 500);
  struct Poke : Transformer {
    SlowSink* sink;
    Status Transform(Record&) override {
      sink->Poke();
      return Ok();
    }
  };
  auto parts = Parts(sink);
  auto poke = std::make_shared<Poke>();
  poke->sink = sink.get();
  parts.transformer = poke;
  auto client = kinesis->Client(kinesis, &clock);

  const int64_t before = g_live_bytes.load();
  auto pipeline = core::MakePipeline(config, parts, client, true, &clock);
  ASSERT_TRUE(pipeline->Run({}, {}));
  EXPECT_EQ(sink->records(), static_cast<size_t>(kRecords));

  const auto heap = sink->heap();
  ASSERT_EQ(heap.size(), static_cast<size_t>(kRecords / 1000));
  auto most = [&](size_t from, size_t to) {
    return (*std::max_element(heap.begin() + from, heap.begin() + to) - before) >> 10;
  };
  const int64_t backlog = int64_t{kRecords} * kRecordSize >> 10;
  std::cout << "[ figures  ] backlog of " << backlog << " KiB, sink acknowledging a batch only "
            << "once the next one was read: the pipeline held at most " << most(0, 10)
            << " KiB over the first 10 batches, " << most(heap.size() - 10, heap.size())
            << " KiB over the last 10\n";
  // A batch in flight, a full buffer, a page and the parser of a page, and
  // the same at the end as at the start: bounded by the configuration, not
  // by the backlog.
  EXPECT_LT(most(0, heap.size()), backlog / 2);
  EXPECT_LT(most(heap.size() - 10, heap.size()), most(0, 10) + 1024);
}

TEST(ScaleTest, MemoryPerIdleShard) {
  constexpr int kShards = 1000;
  constexpr uint32_t kThreads = 8;
  const PipelineOptions config = Config(kThreads);
  testing::FakeClock clock;
  {
    // A first run starts the pool's threads once, so that what they keep
    // for themselves (stacks, malloc arenas) is not counted per shard below.
    auto warm = std::make_shared<testing::FakeKinesis>();
    for (int i = 0; i < 2 * static_cast<int>(kThreads); ++i) warm->AddShard(ShardName(i));
    auto pipeline =
        core::MakePipeline(config, Parts(std::make_shared<testing::CollectingEmitter>()),
                           warm->Client(warm, &clock), true, &clock);
    ASSERT_TRUE(pipeline->Run({}, {}));
  }
  auto kinesis = std::make_shared<testing::FakeKinesis>();
  for (int i = 0; i < kShards; ++i) kinesis->AddShard(ShardName(i));
  auto parts = Parts(std::make_shared<testing::CollectingEmitter>());
  auto client = kinesis->Client(kinesis, &clock);

  const int64_t heap_before = g_live_bytes.load();
  const int64_t resident_before = ResidentBytes();
  std::atomic<int64_t> heap_idle{0};
  std::atomic<int64_t> resident_idle{0};
  std::stop_source stop;
  // Measured once every shard was polled three times on average: all of
  // them are started, hold an iterator and wait for their next poll.
  clock.OnSleep([&] {
    if (stop.stop_requested() || kinesis->Calls("GetRecords") < 3 * kShards) return;
    heap_idle = g_live_bytes.load();
    resident_idle = ResidentBytes();
    stop.request_stop();
  });
  auto pipeline = core::MakePipeline(config, parts, client, false, &clock);
  ASSERT_TRUE(pipeline->Run(stop.get_token(), {}));
  clock.OnSleep(nullptr);
  ASSERT_NE(heap_idle.load(), 0);

  const double heap_per_shard = static_cast<double>(heap_idle - heap_before) / kShards;
  const double resident_per_shard = static_cast<double>(resident_idle - resident_before) / kShards;
  std::cout << "[ figures  ] memory per idle shard (" << kShards << " shards, " << kThreads
            << " reader threads): " << static_cast<int64_t>(heap_per_shard)
            << " bytes of C++ heap, " << static_cast<int64_t>(resident_per_shard)
            << " bytes of resident memory\n";
  // A loose bound, not a figure to hold: a shard state is a few KiB at most,
  // where a thread of its own would cost a stack.
  EXPECT_LT(heap_per_shard, 64 * 1024);
}

}  // namespace
}  // namespace kc
