// Fuzz entry point for the Kinesis response parsers: any bytes come back as a
// result or as a kParse error, never a crash, and what parses is consistent.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "clients/kinesis/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto page = kc::kinesis::ParseGetRecordsResponse(body);
  if (page) {
    uint64_t bytes = 0;
    for (const auto& r : page->records) {
      if (!kc::IsValidSequenceNumber(r.sequence_number)) __builtin_trap();
      bytes += r.data.size();
    }
    if (bytes != page->bytes) __builtin_trap();
  } else if (page.error().code() != kc::ErrorCode::kParse) {
    __builtin_trap();
  }
  std::string token;
  auto shards = kc::kinesis::ParseListShardsResponse(body, &token);
  if (shards) {
    for (const auto& s : *shards) {
      if (s.shard_id.empty()) __builtin_trap();
    }
  } else if (shards.error().code() != kc::ErrorCode::kParse) {
    __builtin_trap();
  }
  (void)kc::kinesis::ParsePutRecordsResponse(body);
  (void)kc::kinesis::ParseDescribeStreamSummaryResponse(body);
  return 0;
}
