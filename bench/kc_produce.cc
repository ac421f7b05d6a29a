// kc_produce [--create SHARDS] STREAM RECORDS SIZE [ENDPOINT]: writes RECORDS
// synthetic records of SIZE bytes with PutRecords (500 a call, failed entries
// retried), random partition keys, and prints how long it took. With
// --create, makes the stream first and waits until it is ACTIVE.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string_view>
#include <thread>

#include "clients/aws/aws_context.h"
#include "clients/kinesis/kinesis_factory.h"

namespace {

kc::Status CreateAndWait(const kc::kinesis::KinesisClient& client, const std::string& stream,
                         int shards) {
  if (auto s = client.CreateStream(stream, shards); !s) return s;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto summary = client.DescribeStreamSummary(stream);
    if (!summary) return kc::Fail(summary.error());
    if (summary->status == "ACTIVE") return kc::Ok();
    if (std::chrono::steady_clock::now() > deadline) {
      return kc::Fail(kc::ErrorCode::kUnavailable,
                      "stream " + stream + " is still " + summary->status + " after 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

int main(int argc, char** argv) {
  int create_shards = 0;
  if (argc > 2 && std::string_view(argv[1]) == "--create") {
    create_shards = std::atoi(argv[2]);
    argv += 2;
    argc -= 2;
  }
  if (argc < 4) {
    std::fprintf(stderr, "usage: kc_produce [--create SHARDS] STREAM RECORDS SIZE [ENDPOINT]\n");
    return 2;
  }
  const std::string stream = argv[1];
  const long total = std::atol(argv[2]);
  const size_t size = static_cast<size_t>(std::atol(argv[3]));
  kc::AwsConfig aws;
  if (argc > 4) aws.endpoint = argv[4];
  auto context = kc::aws::MakeAwsContext(aws);
  if (!context) {
    std::fprintf(stderr, "%s\n", context.error().message().c_str());
    return 1;
  }
  auto client = kc::kinesis::MakeKinesisClient(*context);
  if (create_shards > 0) {
    if (auto s = CreateAndWait(client, stream, create_shards); !s) {
      std::fprintf(stderr, "%s\n", s.error().message().c_str());
      return 1;
    }
  }
  std::mt19937_64 rng(7);
  auto start = std::chrono::steady_clock::now();
  long written = 0;
  while (written < total) {
    std::vector<kc::kinesis::PutRecordsEntry> entries;
    for (long i = written; i < total && entries.size() < 500; ++i) {
      kc::kinesis::PutRecordsEntry e;
      e.partition_key = "key-" + std::to_string(rng() % 10000);
      e.data.resize(size);
      for (auto& c : e.data) c = static_cast<char>('a' + rng() % 26);
      entries.push_back(std::move(e));
    }
    while (!entries.empty()) {
      auto r = client.PutRecords(stream, entries);
      if (!r) {
        std::fprintf(stderr, "%s\n", r.error().message().c_str());
        return 1;
      }
      std::vector<kc::kinesis::PutRecordsEntry> failed;
      for (size_t i = 0; i < r->records.size() && i < entries.size(); ++i) {
        if (r->records[i].error_code.empty()) {
          ++written;
        } else {
          failed.push_back(std::move(entries[i]));
        }
      }
      entries = std::move(failed);
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("produced %ld records of %zu bytes in %.2f s (%.0f records/s)\n", written, size, s,
              static_cast<double>(written) / s);
  return 0;
}
