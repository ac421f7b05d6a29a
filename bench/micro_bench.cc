// Microbenchmarks of the per-record hot path: parsing a GetRecords page,
// base64, formatting a batch, compressing it (gzip, zstd) for the file and
// S3 emitters, the transformer, filter and buffer a record goes through,
// splitting KPL aggregates, and JSON records as DynamoDB items.
#include <benchmark/benchmark.h>

#include <random>

#include "base/base64.h"
#include "base/compression.h"
#include "base/json_writer.h"
#include "clients/dynamodb/item.h"
#include "clients/kinesis/deaggregate.h"
#include "clients/kinesis/wire.h"
#include "kc/buffer.h"
#include "sinks/util/format.h"
#include "transforms/json/json_transformer.h"
#include "transforms/json_field/json_field_filter.h"

namespace {

std::string RandomBytes(size_t n, std::mt19937& rng) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// A GetRecords response of `count` records of `size` bytes each.
std::string MakePage(int count, size_t size) {
  std::mt19937 rng(1);
  kc::util::JsonWriter w;
  w.BeginObject().Key("Records").BeginArray();
  for (int i = 0; i < count; ++i) {
    w.BeginObject()
        .Field("SequenceNumber",
               "4959033827149025660855969253836157109592157598913" + std::to_string(1000000 + i))
        .Key("ApproximateArrivalTimestamp")
        .Double(1732563456.789)
        .Field("Data", kc::util::Base64Encode(RandomBytes(size, rng)))
        .Field("PartitionKey", "user-" + std::to_string(i % 100))
        .EndObject();
  }
  w.EndArray()
      .Field("NextShardIterator", "AAAAAAAAAAFz")
      .Field("MillisBehindLatest", 0)
      .EndObject();
  return w.Take();
}

void BM_ParseGetRecords(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const size_t size = static_cast<size_t>(state.range(1));
  std::string page = MakePage(count, size);
  for (auto _ : state) {
    auto r = kc::kinesis::ParseGetRecordsResponse(page);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(count * size));
}
BENCHMARK(BM_ParseGetRecords)->Args({1000, 1024})->Args({10000, 100});

void BM_Base64Decode(benchmark::State& state) {
  std::mt19937 rng(2);
  std::string text = kc::util::Base64Encode(RandomBytes(static_cast<size_t>(state.range(0)), rng));
  for (auto _ : state) {
    auto r = kc::util::Base64Decode(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Base64Decode)->Arg(1024)->Arg(1 << 20);

void BM_FormatEnvelope(benchmark::State& state) {
  auto page = kc::kinesis::ParseGetRecordsResponse(MakePage(500, 1024));
  kc::Batch batch;
  batch.shard_id = "shardId-000000000000";
  batch.records = page->records;
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto formatted = kc::emitter::AppendFormatted(out, batch, kc::FileFormat::kEnvelope);
    benchmark::DoNotOptimize(formatted);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * 500);
  state.SetBytesProcessed(state.iterations() * 500 * 1024);
}
BENCHMARK(BM_FormatEnvelope);

// Application events as JSON objects of about 250 bytes, the kind of records
// the sinks store: repeated keys, a few values drawn from small sets, ids and
// timestamps that vary. Random bytes would say nothing about compression.
std::vector<std::string> MakeEvents(size_t count) {
  static constexpr const char* kKinds[] = {"click", "view", "purchase", "signup", "logout"};
  static constexpr const char* kPages[] = {"/",     "/products", "/products/item",
                                           "/cart", "/checkout", "/account/settings"};
  static constexpr const char* kAgents[] = {
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"};
  std::mt19937 rng(3);
  std::vector<std::string> events;
  events.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    kc::util::JsonWriter w;
    w.BeginObject()
        .Field("id", static_cast<uint64_t>(1'000'000 + i))
        .Field("ts", "2026-11-26T01:" + std::to_string(10 + rng() % 50) + ":" +
                         std::to_string(10 + rng() % 50) + "." + std::to_string(100 + rng() % 900) +
                         "Z")
        .Field("kind", kKinds[rng() % 5])
        .Key("user")
        .BeginObject()
        .Field("id", static_cast<uint64_t>(rng() % 50'000))
        .Field("country", rng() % 3 == 0 ? "DE" : "US")
        .EndObject()
        .Field("page", std::string(kPages[rng() % 6]) + "/" + std::to_string(rng() % 2000))
        .Field("agent", kAgents[rng() % 3])
        .Key("value")
        .Double(static_cast<double>(rng() % 100'000) / 100.0)
        .EndObject();
    events.push_back(w.Take());
  }
  return events;
}

// About 4 MiB of newline-separated events: a batch near the default 5 MiB
// max_bytes, as the lines format writes it.
const std::string& EventLines() {
  static const std::string text = [] {
    std::string out;
    for (const auto& e : MakeEvents(16'000)) {
      out += e;
      out += '\n';
    }
    return out;
  }();
  return text;
}

void BM_Compress(benchmark::State& state) {
  const auto compression = static_cast<kc::Compression>(state.range(0));
  const std::string& text = EventLines();
  size_t compressed = 0;
  for (auto _ : state) {
    auto out = kc::util::Compress(text, compression);
    if (!out) state.SkipWithError(out.error().message().c_str());
    compressed = out->size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.counters["ratio"] = static_cast<double>(text.size()) / static_cast<double>(compressed);
  state.SetLabel(kc::util::CompressionName(compression));
}
BENCHMARK(BM_Compress)
    ->Arg(static_cast<int>(kc::Compression::kGzip))
    ->Arg(static_cast<int>(kc::Compression::kZstd))
    ->Unit(benchmark::kMillisecond);

void BM_Decompress(benchmark::State& state) {
  const auto compression = static_cast<kc::Compression>(state.range(0));
  const std::string& text = EventLines();
  const std::string packed = *kc::util::Compress(text, compression);
  for (auto _ : state) {
    auto out = kc::util::Decompress(packed, compression);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.SetLabel(kc::util::CompressionName(compression));
}
BENCHMARK(BM_Decompress)
    ->Arg(static_cast<int>(kc::Compression::kGzip))
    ->Arg(static_cast<int>(kc::Compression::kZstd))
    ->Unit(benchmark::kMillisecond);

std::vector<kc::Record> EventRecords(size_t count) {
  std::vector<kc::Record> records;
  uint64_t seq = 0;
  for (auto& e : MakeEvents(count)) {
    kc::Record r;
    r.data = std::move(e);
    r.partition_key = "user-" + std::to_string(seq % 100);
    r.sequence_number = "49590338271490256608559692538361571095921575989" + std::to_string(++seq);
    records.push_back(std::move(r));
  }
  return records;
}

// One Transform call per record, over a page of events.
void RunTransformer(benchmark::State& state, kc::Transformer& transformer) {
  auto records = EventRecords(1000);
  for (auto _ : state) {
    for (auto& r : records) {
      auto s = transformer.Transform(r);
      benchmark::DoNotOptimize(s);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records.size()));
}

void BM_TransformString(benchmark::State& state) {
  kc::StringTransformer t;
  RunTransformer(state, t);
}
BENCHMARK(BM_TransformString);

void BM_TransformJson(benchmark::State& state) {
  kc::transform::JsonTransformer t;
  RunTransformer(state, t);
}
BENCHMARK(BM_TransformJson);

// json_field on a top-level field ("kind") and on a nested one ("user.country").
void BM_FilterJsonField(benchmark::State& state) {
  const bool nested = state.range(0) != 0;
  auto filter = kc::transform::JsonFieldFilter::Create(
      nested ? "user.country" : "kind",
      nested ? std::vector<std::string>{"DE"} : std::vector<std::string>{"click", "purchase"},
      kc::transform::JsonFieldFilter::Mode::kKeepMatches);
  if (!filter) {
    state.SkipWithError(filter.error().message().c_str());
    return;
  }
  auto records = EventRecords(1000);
  int64_t kept = 0;
  for (auto _ : state) {
    for (const auto& r : records) {
      auto k = (*filter)->Keep(r);
      kept += k && *k;
    }
  }
  benchmark::DoNotOptimize(kept);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records.size()));
  state.SetLabel(nested ? "user.country" : "kind");
}
BENCHMARK(BM_FilterJsonField)->Arg(0)->Arg(1);

// The threshold buffer with default settings, as a reader drives it: Add
// (records moved in), ShouldFlush after each, Take at 500 records.
void BM_ThresholdBuffer(benchmark::State& state) {
  const auto pool = EventRecords(500);
  kc::ThresholdBuffer buffer{kc::BufferConfig{}};
  const kc::Clock::TimePoint now{};
  std::vector<kc::Record> records;
  kc::Batch taken;
  for (auto _ : state) {
    state.PauseTiming();
    taken = kc::Batch{};  // freeing the records is the emitter's cost, not the buffer's
    records = pool;
    state.ResumeTiming();
    for (auto& r : records) {
      buffer.Add(std::move(r), true, now);
      if (buffer.ShouldFlush(now)) taken = buffer.Take();
    }
    benchmark::DoNotOptimize(taken);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(pool.size()));
}
BENCHMARK(BM_ThresholdBuffer);

}  // namespace

// A page of 1,000 records: plain ones (arg 0), whose only cost is the check
// for the magic, or KPL aggregates of 100 user records of 100 bytes (arg 1).
void BM_Deaggregate(benchmark::State& state) {
  std::mt19937 rng(5);
  std::vector<std::pair<std::string, std::string>> users;
  for (int i = 0; i < 100; ++i)
    users.emplace_back("key-" + std::to_string(i % 7), RandomBytes(100, rng));
  const std::string aggregate = kc::kinesis::Aggregate(users);
  const bool aggregated = state.range(0) == 1;
  std::vector<kc::Record> page(aggregated ? 10 : 1000);
  for (auto& r : page) {
    r.data = aggregated ? aggregate : RandomBytes(100, rng);
    r.sequence_number = "49590338271490256608559692538361571095921575989136588898";
  }
  uint64_t user_records = 0;
  for (auto _ : state) {
    if (!aggregated) {  // left untouched: the same page every time
      auto counts = kc::kinesis::Deaggregate(page);
      benchmark::DoNotOptimize(counts);
      user_records += page.size();
      continue;
    }
    std::vector<kc::Record> records = page;  // split: a fresh page each time
    auto counts = kc::kinesis::Deaggregate(records);
    benchmark::DoNotOptimize(counts);
    user_records += records.size();
  }
  state.counters["user_records/s"] =
      benchmark::Counter(static_cast<double>(user_records), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Deaggregate)->Arg(0)->Arg(1);

// A JSON record of about 200 bytes as a DynamoDB item.
void BM_DynamoDbItem(benchmark::State& state) {
  kc::dynamodb::ItemSchema schema;
  schema.hash_key = "id";
  const std::string record =
      R"({"id":"order-123456","user":{"id":42,"name":"Ada","tags":["a","b"]},)"
      R"("amount":12.50,"paid":true,"note":null,"items":[{"sku":"X1","qty":2},{"sku":"Y2","qty":1}]})";
  for (auto _ : state) {
    auto item = kc::dynamodb::ConvertRecord(record, schema);
    benchmark::DoNotOptimize(item);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DynamoDbItem);

BENCHMARK_MAIN();
