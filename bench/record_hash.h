// The order-independent checksum the throughput benchmark compares: the sum
// (mod 2^64) of a 64-bit hash of every record's payload, with the record
// count beside it. A lost, duplicated or altered record changes it; the
// order in which shards and batches land does not.
//
// The hash is MurmurHash64A (8 bytes a step): fast enough that verifying a
// gigabyte of output costs well under a second.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace kc::bench {

inline uint64_t RecordHash(std::string_view data, uint64_t seed = 0x6b63626e6368ULL) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const size_t len = data.size();
  uint64_t h = seed ^ (len * m);
  const char* p = data.data();
  const char* end = p + (len & ~size_t{7});
  for (; p != end; p += 8) {
    uint64_t k;
    std::memcpy(&k, p, 8);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, len & 7);
  if ((len & 7) != 0) {
    h ^= tail;
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

struct Checksum {
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t sum = 0;

  void Add(std::string_view data) {
    records += 1;
    bytes += data.size();
    sum += RecordHash(data);
  }
  void Merge(const Checksum& other) {
    records += other.records;
    bytes += other.bytes;
    sum += other.sum;
  }
};

}  // namespace kc::bench
