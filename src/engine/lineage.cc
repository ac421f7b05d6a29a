#include "engine/lineage.h"

namespace kc::core {

std::vector<const kinesis::Shard*> ShardLineage::ToCheck(
    const std::vector<kinesis::Shard>& listing, const std::set<std::string>& reading) const {
  std::vector<const kinesis::Shard*> out;
  for (const auto& s : listing) {
    if (!s.closed() || checked_.contains(s.shard_id) || finished_.contains(s.shard_id) ||
        reading.contains(s.shard_id)) {
      continue;
    }
    out.push_back(&s);
  }
  return out;
}

void ShardLineage::Checked(const std::string& shard_id, bool shard_end) {
  checked_.insert(shard_id);
  if (shard_end) finished_.insert(shard_id);
}

ShardLineage::Plan ShardLineage::Next(const std::vector<kinesis::Shard>& listing,
                                      const std::set<std::string>& reading) {
  std::set<std::string> listed;
  for (const auto& s : listing) listed.insert(s.shard_id);
  Plan plan;
  for (const auto& s : listing) {
    if (finished_.contains(s.shard_id)) continue;
    if (reading.contains(s.shard_id)) {
      plan.all_done = false;
      continue;
    }
    // An open shard caught up in once mode is done, unless it has closed
    // since: then it is read on to its end so that its children can start.
    if (caught_up_.contains(s.shard_id)) {
      if (!s.closed()) continue;
      caught_up_.erase(s.shard_id);
    }
    plan.all_done = false;
    bool parents_done = true;
    bool has_parent = false;
    for (const std::string* p : {&s.parent_shard_id, &s.adjacent_parent_shard_id}) {
      if (p->empty() || !listed.contains(*p)) continue;
      has_parent = true;
      if (!finished_.contains(*p)) parents_done = false;
    }
    if (parents_done) plan.start.push_back({&s, has_parent});
  }
  return plan;
}

void ShardLineage::Ended(const std::string& shard_id, ShardOutcome outcome) {
  if (outcome == ShardOutcome::kShardEnd) {
    finished_.insert(shard_id);
  } else if (outcome == ShardOutcome::kCaughtUp) {
    caught_up_.insert(shard_id);
  }
}

}  // namespace kc::core
