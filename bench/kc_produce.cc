// kc_produce STREAM RECORDS SIZE [ENDPOINT]: writes RECORDS synthetic records
// of SIZE bytes with PutRecords (500 a call, failed entries retried), random
// partition keys, and prints how long it took.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "aws/aws_context.h"
#include "kinesis/kinesis_factory.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s STREAM RECORDS SIZE [ENDPOINT]\n", argv[0]);
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
