#include "clients/kinesis/deaggregate.h"

#include <kpl_aggregate.pb.h>

#include <algorithm>
#include <cstdint>
#include <string>
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

Aggregation DeaggregateInto(const Record& record, std::vector<Record>& out, std::string* why,
                            uint64_t limit) {
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
  // What the user records will hold, before any is made.
  uint64_t held = 0;
  for (const kpl::Record& user : aggregate.records()) {
    if (user.partition_key_index() >= static_cast<uint64_t>(aggregate.partition_key_table_size())) {
      return Malformed(why, "a partition key index is out of range");
    }
    held += sizeof(Record) + user.data().size() + record.sequence_number.size() +
            aggregate.partition_key_table(static_cast<int>(user.partition_key_index())).size();
  }
  if (held > limit) return Aggregation::kOverLimit;
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

bool HasAggregates(const std::vector<Record>& records) {
  for (const Record& r : records) {
    if (HasMagic(r.data)) return true;
  }
  return false;
}

DeaggregateCounts DeaggregatePart(std::vector<Record>& page, size_t& next, std::vector<Record>& out,
                                  uint64_t limit) {
  DeaggregateCounts counts;
  out.clear();
  out.reserve(page.size() - std::min(next, page.size()));
  uint64_t held = 0;
  std::string why;
  auto pass_malformed = [&](Record& record) {
    ++counts.malformed;
    if (counts.first_malformed.empty()) {
      counts.first_malformed = record.sequence_number + ": " + why;
    }
    held += HeldBytes(record);
    out.push_back(std::move(record));
  };
  for (; next < page.size(); ++next) {
    Record& record = page[next];
    const size_t before = out.size();
    const bool first = out.empty();
    // The first record of a part may use the whole limit, later ones what is left.
    const uint64_t room = limit - std::min(held, limit);
    if (!first && room == 0) break;
    switch (DeaggregateInto(record, out, &why, first ? limit : room)) {
      case Aggregation::kAggregate:
        ++counts.aggregates;
        counts.user_records += out.size() - before;
        for (size_t i = before; i < out.size(); ++i) held += HeldBytes(out[i]);
        break;
      case Aggregation::kOverLimit:
        if (!first) return counts;  // the next part starts with it
        why = "its user records would hold more than " +
              (limit % (1 << 20) == 0 ? std::to_string(limit >> 20) + " MiB"
                                      : std::to_string(limit) + " bytes") +
              " in memory";
        pass_malformed(record);
        break;
      case Aggregation::kMalformed:
        pass_malformed(record);
        break;
      case Aggregation::kPlain:
        held += HeldBytes(record);
        out.push_back(std::move(record));
        break;
    }
  }
  return counts;
}

DeaggregateCounts Deaggregate(std::vector<Record>& records) {
  if (!HasAggregates(records)) return {};
  std::vector<Record> out;
  size_t next = 0;
  DeaggregateCounts counts = DeaggregatePart(records, next, out, UINT64_MAX);
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
