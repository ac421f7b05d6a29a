// Fuzz entry point for the KPL deaggregator. The input is tried twice: as a
// record's data as it is (the magic and MD5 checks), and wrapped as an
// aggregate with a correct MD5 around it (so that mutations reach the
// protobuf parser). Never a crash; a record is either plain, malformed
// (nothing appended) or split into user records numbered 0..n-1 under its
// sequence number; a page never loses a record.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clients/aws/crypto.h"
#include "clients/kinesis/deaggregate.h"

namespace {

void Check(const std::string& data) {
  kc::Record record;
  record.data = data;
  record.sequence_number = "49590338271490256608559692538361571095921575989136588898";
  std::vector<kc::Record> out;
  const auto kind = kc::kinesis::DeaggregateInto(record, out);
  const bool magic = std::string_view(data).starts_with(kc::kinesis::kKplMagic);
  if ((kind == kc::kinesis::Aggregation::kPlain) == magic) __builtin_trap();
  if (kind != kc::kinesis::Aggregation::kAggregate && !out.empty()) __builtin_trap();
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].sub_sequence_number != i) __builtin_trap();
    if (out[i].sequence_number != record.sequence_number) __builtin_trap();
  }
  std::vector<kc::Record> page = {record, record};
  page[1].data = "plain";
  const auto counts = kc::kinesis::Deaggregate(page);
  const size_t expected = 1 + (kind == kc::kinesis::Aggregation::kAggregate ? out.size() : 1);
  if (page.size() != expected || page.back().data != "plain") __builtin_trap();
  if (counts.malformed != (kind == kc::kinesis::Aggregation::kMalformed ? 1u : 0u)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  Check(input);
  Check(std::string(kc::kinesis::kKplMagic) + input + kc::aws::Md5(input));
  return 0;
}
