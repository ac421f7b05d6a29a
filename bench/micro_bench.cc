// Microbenchmarks of the per-record hot path: parsing a GetRecords page,
// base64, and formatting a batch as envelope lines.
#include <benchmark/benchmark.h>

#include <random>

#include "emitter/format.h"
#include "kinesis/client.h"
#include "util/base64.h"
#include "util/json_writer.h"

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

}  // namespace

BENCHMARK_MAIN();
