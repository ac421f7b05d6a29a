#include "clients/kinesis/deaggregate.h"

#include <kpl_aggregate.pb.h>

#include <string_view>
#include <utility>

#include "clients/aws/crypto.h"

namespace kc::kinesis {
namespace {

constexpr size_t kMagicSize = sizeof(kKplMagic) - 1;

bool HasMagic(const std::string& data) {
  return data.size() >= kMagicSize && std::string_view(data).substr(0, kMagicSize) == kKplMagic;
}

Aggregation Malformed(std::string* why, const char* reason) {
  if (why != nullptr) *why = reason;
  return Aggregation::kMalformed;
}

}  // namespace

Aggregation DeaggregateInto(const Record& record, std::vector<Record>& out, std::string* why) {
  if (!HasMagic(record.data)) return Aggregation::kPlain;
  const std::string_view data(record.data);
  if (data.size() < kMagicSize + aws::kMd5Size) {
    return Malformed(why, "shorter than the magic and the MD5 trailer");
  }
  const std::string_view message =
      data.substr(kMagicSize, data.size() - kMagicSize - aws::kMd5Size);
  const std::string_view trailer = data.substr(data.size() - aws::kMd5Size);
  if (aws::Md5(message) != trailer) return Malformed(why, "the MD5 trailer does not match");
  kpl::AggregatedRecord aggregate;
  // ParsePartial, then the check for required fields: ParseFromArray would
  // write its own log line for every such record.
  if (!aggregate.ParsePartialFromArray(message.data(), static_cast<int>(message.size()))) {
    return Malformed(why, "the protobuf message does not parse");
  }
  if (!aggregate.IsInitialized()) {
    return Malformed(why, "the protobuf message lacks a required field");
  }
  // Each user record gets its own copy of its key: a key longer than Kinesis
  // allows, shared by thousands of tiny records, would turn one small
  // aggregate into gigabytes.
  for (const std::string& key : aggregate.partition_key_table()) {
    if (key.size() > kMaxUserPartitionKeyBytes) {
      return Malformed(why, "a partition key is longer than 256 bytes");
    }
  }
  for (const kpl::Record& user : aggregate.records()) {
    if (user.partition_key_index() >= static_cast<uint64_t>(aggregate.partition_key_table_size())) {
      return Malformed(why, "a partition key index is out of range");
    }
  }
  out.reserve(out.size() + static_cast<size_t>(aggregate.records_size()));
  uint64_t sub = 0;
  for (kpl::Record& user : *aggregate.mutable_records()) {
    Record r;
    r.data = std::move(*user.mutable_data());
    r.partition_key = aggregate.partition_key_table(static_cast<int>(user.partition_key_index()));
    r.sequence_number = record.sequence_number;
    r.sub_sequence_number = sub++;
    r.approximate_arrival_ms = record.approximate_arrival_ms;
    out.push_back(std::move(r));
  }
  return Aggregation::kAggregate;
}

DeaggregateCounts Deaggregate(std::vector<Record>& records) {
  DeaggregateCounts counts;
  size_t first = 0;
  while (first < records.size() && !HasMagic(records[first].data)) ++first;
  if (first == records.size()) return counts;

  std::vector<Record> out;
  out.reserve(records.size());
  for (size_t i = 0; i < first; ++i) out.push_back(std::move(records[i]));
  std::string why;
  for (size_t i = first; i < records.size(); ++i) {
    const size_t before = out.size();
    switch (DeaggregateInto(records[i], out, &why)) {
      case Aggregation::kAggregate:
        ++counts.aggregates;
        counts.user_records += out.size() - before;
        break;
      case Aggregation::kMalformed:
        ++counts.malformed;
        if (counts.first_malformed.empty()) {
          counts.first_malformed = records[i].sequence_number + ": " + why;
        }
        out.push_back(std::move(records[i]));
        break;
      case Aggregation::kPlain:
        out.push_back(std::move(records[i]));
        break;
    }
  }
  records.swap(out);
  return counts;
}

std::string Aggregate(const std::vector<std::pair<std::string, std::string>>& user_records) {
  kpl::AggregatedRecord aggregate;
  for (const auto& [key, data] : user_records) {
    int index = 0;
    while (index < aggregate.partition_key_table_size() &&
           aggregate.partition_key_table(index) != key) {
      ++index;
    }
    if (index == aggregate.partition_key_table_size()) aggregate.add_partition_key_table(key);
    kpl::Record* r = aggregate.add_records();
    r->set_partition_key_index(static_cast<uint64_t>(index));
    r->set_data(data);
  }
  std::string message = aggregate.SerializeAsString();
  return std::string(kKplMagic) + message + aws::Md5(message);
}

}  // namespace kc::kinesis
