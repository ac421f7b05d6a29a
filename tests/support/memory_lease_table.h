// A LeaseTable in memory for tests of the lease coordinator: the same
// conditional writes as a real table (owner and counter), writes whose
// answer is lost on demand, and the leases changed behind the workers'
// backs as another worker or a user would.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kc/lease.h"

namespace kc::testing {

class MemoryLeaseTable final : public LeaseTable {
 public:
  Result<std::vector<Lease>> List() override {
    std::lock_guard lock(mu_);
    std::vector<Lease> out;
    for (const auto& [id, e] : leases_) out.push_back(e.lease);
    return out;
  }
  Result<bool> Create(const NewLease& lease) override {
    std::lock_guard lock(mu_);
    if (leases_.contains(lease.shard_id)) return false;
    Entry& e = leases_[lease.shard_id];
    e.lease.shard_id = lease.shard_id;
    e.lease.parents = lease.parents;
    e.lease.checkpoint = lease.initial_checkpoint;
    e.lease.stream = lease.stream;
    return true;
  }
  Result<Lease> Take(const Lease& seen, const std::string& owner) override {
    std::lock_guard lock(mu_);
    Entry* e = Find(seen.shard_id);
    if (e == nullptr || e->lease.counter != seen.counter || e->lease.owner != seen.owner) {
      return Conflict(seen.shard_id);
    }
    e->lease.owner = owner;
    e->lease.handoff_to.reset();
    ++e->lease.counter;
    return e->lease;
  }
  Result<Lease> Renew(const std::string& shard_id, const LeaseHold& hold) override {
    std::lock_guard lock(mu_);
    ++renewals;
    Entry* e = Find(shard_id);
    if (e == nullptr || !Holds(*e, hold)) {
      // As the real table: an earlier attempt applied, its answer lost.
      if (e != nullptr && e->lease.owner == hold.owner && e->lease.counter == hold.counter + 1) {
        return e->lease;
      }
      return Conflict(shard_id);
    }
    ++e->lease.counter;
    if (lose_renew_answers > 0) {
      --lose_renew_answers;
      return Fail(ErrorCode::kConnection, "the answer was lost (test)");
    }
    return e->lease;
  }
  Status RequestHandoff(const Lease& seen, const std::string& to) override {
    std::lock_guard lock(mu_);
    Entry* e = Find(seen.shard_id);
    if (e == nullptr || e->lease.owner != seen.owner || e->lease.handoff_to) {
      return Fail(Conflict(seen.shard_id).error());
    }
    e->lease.handoff_to = to;
    return Ok();
  }
  Status Release(const std::string& shard_id, const LeaseHold& hold,
                 const std::optional<std::string>& to) override {
    std::lock_guard lock(mu_);
    Entry* e = Find(shard_id);
    if (e == nullptr || !Holds(*e, hold)) return Fail(Conflict(shard_id).error());
    e->lease.owner = to;
    e->lease.handoff_to.reset();
    ++e->lease.counter;
    return Ok();
  }
  Result<ShardCheckpoint> Load(const std::string& shard_id) override {
    std::lock_guard lock(mu_);
    Entry* e = Find(shard_id);
    return e == nullptr ? ShardCheckpoint{} : e->state;
  }
  Result<int64_t> Save(const std::string& shard_id, const LeaseHold& hold,
                       const ShardCheckpoint& state) override {
    std::lock_guard lock(mu_);
    Entry* e = Find(shard_id);
    if (e == nullptr || !Holds(*e, hold)) return Fail(Conflict(shard_id).error());
    e->state = state;
    e->lease.shard_end = state.shard_end;
    ++e->lease.counter;
    ++saves;
    return e->lease.counter;
  }
  std::string Describe() const override { return "lease table in memory"; }

  // Another worker (or a user) writes the lease.
  void Set(const std::string& shard_id, std::optional<std::string> owner) {
    std::lock_guard lock(mu_);
    Entry& e = leases_[shard_id];
    e.lease.shard_id = shard_id;
    e.lease.owner = std::move(owner);
    ++e.lease.counter;
  }
  Lease Get(const std::string& shard_id) {
    std::lock_guard lock(mu_);
    return leases_[shard_id].lease;
  }
  ShardCheckpoint State(const std::string& shard_id) {
    std::lock_guard lock(mu_);
    return leases_[shard_id].state;
  }

  // The next this many renewals are carried out and their answers lost.
  int lose_renew_answers = 0;  // guarded by mu_ (set before the workers run, or under Lock)
  int renewals = 0;
  int saves = 0;
  std::unique_lock<std::mutex> Lock() { return std::unique_lock(mu_); }

 private:
  struct Entry {
    Lease lease;
    ShardCheckpoint state;
  };
  Entry* Find(const std::string& shard_id) {
    auto it = leases_.find(shard_id);
    return it == leases_.end() ? nullptr : &it->second;
  }
  static bool Holds(const Entry& e, const LeaseHold& hold) {
    return e.lease.owner == hold.owner && e.lease.counter == hold.counter;
  }
  static Result<Lease> Conflict(const std::string& shard_id) {
    return Fail(ErrorCode::kConflict, "the lease of shard " + shard_id + " moved on");
  }

  std::mutex mu_;
  std::map<std::string, Entry> leases_;
};

}  // namespace kc::testing
