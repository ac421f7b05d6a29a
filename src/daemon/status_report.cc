#include "daemon/status_report.h"

#include <iomanip>
#include <map>
#include <memory>

#include "clients/aws/aws_context.h"
#include "clients/kinesis/kinesis_factory.h"
#include "daemon/components.h"

namespace kc::cli {
namespace {

std::string PositionText(const ShardCheckpoint& state) {
  if (!state.position) return "-";
  std::string s = state.position->sequence_number;
  if (state.position->sub_sequence_number != 0) {
    s += "/" + std::to_string(state.position->sub_sequence_number);
  }
  return s;
}

// How far the checkpoint is behind the tip: one GetRecords after it.
std::string Lag(const kinesis::KinesisClient& client, const std::string& stream,
                const kinesis::Shard& shard, const ShardCheckpoint& state) {
  if (state.shard_end) return "done";
  kinesis::IteratorSpec spec;
  if (state.position) {
    spec.type = kinesis::IteratorType::kAfterSequenceNumber;
    spec.sequence_number = state.position->sequence_number;
  }
  auto it = client.GetShardIterator(stream, shard.shard_id, spec);
  if (!it) return "?";
  if (it->empty()) return "0 ms";
  auto page = client.GetRecordsOnce(*it, 1);
  if (!page) return "?";
  if (page->records.empty() && shard.closed() && page->next_shard_iterator.empty()) return "0 ms";
  return std::to_string(page->millis_behind_latest) + " ms";
}

}  // namespace

Status PrintStatus(const Config& config, std::ostream& out) {
  auto context = aws::MakeAwsContext(config.aws);
  if (!context) return Fail(context.error());
  auto client = kinesis::MakeKinesisClient(*context);
  auto store = core::MakeCheckpointStore(config);
  if (!store) return Fail(store.error());
  for (const auto& p : config.pipelines) {
    auto shards = client.ListShards(p.stream);
    if (!shards) return Fail(shards.error().With("pipeline " + p.name));
    // With leases, the lease table holds the checkpoints, and who reads each shard.
    std::shared_ptr<LeaseTable> lease_table;
    std::map<std::string, Lease> leases;
    if (config.leases) {
      auto table = core::MakeLeaseTable(config, p);
      if (!table) return Fail(table.error());
      auto listed = (*table)->List();
      if (!listed) return Fail(listed.error().With("pipeline " + p.name));
      for (auto& l : *listed) leases.emplace(l.shard_id, std::move(l));
      lease_table = std::move(*table);
    }
    out << "pipeline " << p.name << " (stream " << p.stream << ", "
        << (lease_table ? lease_table->Describe() : (*store)->Describe()) << ")\n";
    out << "  " << std::left << std::setw(24) << "shard" << std::setw(8) << "state" << std::setw(24)
        << "parents" << std::setw(14) << "behind";
    if (lease_table) out << std::setw(24) << "owner" << std::setw(10) << "counter";
    out << "checkpoint\n";
    for (const auto& s : *shards) {
      auto state = lease_table ? lease_table->Load(s.shard_id)
                               : (*store)->Load(ShardKey{p.name, p.stream, s.shard_id});
      if (!state) return Fail(state.error());
      std::string parents = s.parent_shard_id;
      if (!s.adjacent_parent_shard_id.empty()) parents += "," + s.adjacent_parent_shard_id;
      if (parents.empty()) parents = "-";
      std::string checkpoint = PositionText(*state);
      if (state->shard_end) checkpoint += " (shard end)";
      if (!state->pending.empty()) checkpoint += " (a batch pending)";
      out << "  " << std::setw(24) << s.shard_id << std::setw(8) << (s.closed() ? "closed" : "open")
          << std::setw(24) << parents << std::setw(14) << Lag(client, p.stream, s, *state);
      if (lease_table) {
        auto l = leases.find(s.shard_id);
        if (l == leases.end()) {
          out << std::setw(24) << "(no lease yet)" << std::setw(10) << "-";
        } else {
          std::string owner = l->second.owner.value_or("(free)");
          if (l->second.handoff_to) owner += " → " + *l->second.handoff_to;
          out << std::setw(24) << owner << std::setw(10) << l->second.counter;
        }
      }
      out << checkpoint << "\n";
    }
  }
  // Where the calls above got their credentials, and until when: never a
  // key or token.
  out << "credentials: " << context->credentials->Describe() << "\n";
  return Ok();
}

}  // namespace kc::cli
