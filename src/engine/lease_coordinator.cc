#include "engine/lease_coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/log.h"

namespace kc::core {
namespace {

std::string InitialCheckpoint(const StartAt& start) {
  switch (start.kind) {
    case StartAt::Kind::kLatest:
      return "LATEST";
    case StartAt::Kind::kTimestamp:
      return "AT_TIMESTAMP";
    case StartAt::Kind::kTrimHorizon:
      break;
  }
  return "TRIM_HORIZON";
}

// Renewals run on this many threads at most, so that a worker holding a
// few hundred leases renews them all well within a third of the failover
// time (each renewal is one conditional write).
constexpr size_t kRenewThreads = 8;
constexpr size_t kLeasesPerRenewThread = 16;

}  // namespace

// The readers' checkpoint store: the lease table's Load and Save, each save
// conditional on this worker's hold of the lease.
class LeaseCoordinator::FencedStore final : public CheckpointStore {
 public:
  explicit FencedStore(LeaseCoordinator* c) : c_(c) {}

  Result<ShardCheckpoint> Load(const ShardKey& key) override { return c_->table_->Load(key.shard); }

  Status Save(const ShardKey& key, const ShardCheckpoint& state) override {
    std::shared_ptr<std::mutex> write;
    {
      std::lock_guard lock(c_->mu_);
      auto it = c_->held_.find(key.shard);
      if (it == c_->held_.end()) return Fail(NotHeld(key.shard));
      write = it->second.write;
    }
    std::lock_guard write_lock(*write);
    LeaseHold hold;
    {
      std::lock_guard lock(c_->mu_);
      auto it = c_->held_.find(key.shard);
      if (it == c_->held_.end()) return Fail(NotHeld(key.shard));
      hold = it->second.hold;
    }
    auto saved = c_->table_->Save(key.shard, hold, state);
    if (saved) {
      std::lock_guard lock(c_->mu_);
      if (auto it = c_->held_.find(key.shard); it != c_->held_.end()) {
        it->second.hold.counter = *saved;
        it->second.renewed = c_->clock_->Now();
      }
      return Ok();
    }
    if (saved.error().code() == ErrorCode::kConflict) {
      {
        std::lock_guard lock(c_->mu_);
        c_->LoseLocked(key.shard, saved.error().message());
      }
      c_->Notify();
    }
    return Fail(saved.error());
  }

  std::string Describe() const override {
    return c_->table_->Describe() + ", as worker " + c_->me_;
  }

 private:
  Error NotHeld(const std::string& shard) const {
    return Error(ErrorCode::kConflict,
                 "the checkpoint of shard " + shard + " was not saved: worker " + c_->me_ +
                     " no longer holds its lease in " + c_->table_->Describe());
  }
  LeaseCoordinator* c_;
};

LeaseCoordinator::LeaseCoordinator(const PipelineOptions& config, std::shared_ptr<LeaseTable> table,
                                   Clock* clock)
    : me_(config.leases->worker_id),
      options_(*config.leases),
      pipeline_(config.name),
      initial_checkpoint_(InitialCheckpoint(config.start_at)),
      table_(std::move(table)),
      clock_(clock),
      checkpoints_(std::make_shared<FencedStore>(this)),
      started_(clock->Now()) {
  counts_.worker_id = me_;
  counts_.table = table_->Describe();
}

LeaseCoordinator::~LeaseCoordinator() { Stop(); }

Status LeaseCoordinator::Sync(const std::vector<kinesis::Shard>& listing) {
  std::set<std::string> have;
  bool known;
  {
    std::lock_guard lock(mu_);
    known = have_listing_;
    for (const auto& [id, lease] : leases_) have.insert(id);
  }
  if (!known) {
    auto leases = table_->List();
    if (!leases) return Fail(leases.error());
    for (const auto& l : *leases) have.insert(l.shard_id);
  }
  std::set<std::string> listed;
  for (const auto& s : listing) listed.insert(s.shard_id);
  // Parents first: a child's lease is never there without its parents',
  // which would let another worker read the child too early.
  std::vector<const kinesis::Shard*> todo;
  for (const auto& s : listing) {
    if (!have.contains(s.shard_id)) todo.push_back(&s);
  }
  while (!todo.empty()) {
    std::vector<const kinesis::Shard*> later;
    size_t created = 0;
    for (const kinesis::Shard* s : todo) {
      bool parents_there = true;
      NewLease lease{.shard_id = s->shard_id,
                     .parents = {},
                     .starting_hash_key = s->starting_hash_key,
                     .ending_hash_key = s->ending_hash_key,
                     .initial_checkpoint = initial_checkpoint_};
      for (const std::string* p : {&s->parent_shard_id, &s->adjacent_parent_shard_id}) {
        if (p->empty()) continue;
        lease.parents.push_back(*p);
        if (listed.contains(*p) && !have.contains(*p)) parents_there = false;
      }
      if (!parents_there) {
        later.push_back(s);
        continue;
      }
      auto made = table_->Create(lease);
      if (!made) return Fail(made.error());
      if (*made) spdlog::info("pipeline {}: lease created for shard {}", pipeline_, s->shard_id);
      have.insert(s->shard_id);
      ++created;
    }
    if (created == 0) break;  // parents that are not listed after all: left for later
    todo = std::move(later);
  }
  std::lock_guard lock(mu_);
  listed_ = std::move(listed);
  have_listing_ = true;
  return Ok();
}

void LeaseCoordinator::Start(std::function<void()> changed) {
  {
    std::lock_guard lock(mu_);
    changed_ = std::move(changed);
  }
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void LeaseCoordinator::StopTaking() { taking_.store(false); }

void LeaseCoordinator::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void LeaseCoordinator::Notify() {
  std::function<void()> changed;
  {
    std::lock_guard lock(mu_);
    changed = changed_;
  }
  if (changed) changed();
}

void LeaseCoordinator::Loop(std::stop_token stop) {
  const log::Scope fields(pipeline_, "");
  const auto renew_every = options_.failover_time / 3;
  // Leases given back are taken at the next round: a tenth of the failover
  // time, at least once a second. One listing per round whatever the
  // number of shards (a Scan of about 300 bytes a lease).
  const auto round_every =
      std::min<std::chrono::milliseconds>(options_.failover_time / 10, std::chrono::seconds(1));
  Clock::TimePoint next_renew = clock_->Now();
  Clock::TimePoint next_round = next_renew;
  while (!stop.stop_requested()) {
    if (clock_->Now() >= next_renew) {
      RenewAll(stop);
      next_renew = clock_->Now() + renew_every;
    }
    if (clock_->Now() >= next_round) {
      Balance();
      next_round = clock_->Now() + round_every;
    }
    const Clock::TimePoint wake = std::min(next_renew, next_round);
    const Clock::TimePoint now = clock_->Now();
    if (wake > now) clock_->SleepFor(wake - now, stop);
  }
}

void LeaseCoordinator::RenewAll(std::stop_token stop) {
  std::vector<std::string> shards;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, h] : held_) shards.push_back(id);
  }
  const size_t threads =
      std::min(kRenewThreads, (shards.size() + kLeasesPerRenewThread - 1) / kLeasesPerRenewThread);
  if (threads <= 1) {
    for (const auto& s : shards) {
      if (stop.stop_requested()) return;
      Renew(s);
    }
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::jthread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      const log::Scope fields(pipeline_, "");
      for (size_t i = next++; i < shards.size() && !stop.stop_requested(); i = next++) {
        Renew(shards[i]);
      }
    });
  }
}

void LeaseCoordinator::Renew(const std::string& shard_id) {
  std::shared_ptr<std::mutex> write;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(shard_id);
    if (it == held_.end()) return;
    write = it->second.write;
  }
  // A checkpoint being saved moves the counter itself.
  std::unique_lock write_lock(*write, std::try_to_lock);
  if (!write_lock.owns_lock()) return;
  LeaseHold hold;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(shard_id);
    if (it == held_.end()) return;
    hold = it->second.hold;
  }
  auto renewed = table_->Renew(shard_id, hold);
  bool notify = false;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(shard_id);
    if (it == held_.end()) return;
    Holding& h = it->second;
    if (renewed) {
      h.hold.counter = renewed->counter;
      h.renewed = clock_->Now();
      if (renewed->handoff_to && *renewed->handoff_to != me_ && !h.handoff_to) {
        h.handoff_to = renewed->handoff_to;
        spdlog::info(
            "pipeline {}: worker {} asked for the lease of shard {}; handing it over "
            "once its batch is checkpointed",
            pipeline_, *h.handoff_to, shard_id);
        notify = true;
      }
    } else if (renewed.error().code() == ErrorCode::kConflict) {
      LoseLocked(shard_id, renewed.error().message());
      notify = true;
    } else {
      ++counts_.renewals_failed;
      if (clock_->Now() - h.renewed >= options_.failover_time) {
        LoseLocked(shard_id, "no renewal got through for the failover time; the last one: " +
                                 renewed.error().ToString());
        notify = true;
      } else {
        spdlog::warn("pipeline {}: renewing the lease of shard {} failed: {}", pipeline_, shard_id,
                     renewed.error().ToString());
      }
    }
  }
  if (notify) Notify();
}

void LeaseCoordinator::LoseLocked(const std::string& shard_id, const std::string& why) {
  if (held_.erase(shard_id) == 0) return;
  lost_.insert(shard_id);
  ++counts_.lost;
  spdlog::warn("pipeline {}: lost the lease of shard {}: {}; stopped reading it", pipeline_,
               shard_id, why);
}

void LeaseCoordinator::Balance() {
  auto leases = table_->List();
  if (!leases) {
    spdlog::warn("pipeline {}: listing the leases failed: {}", pipeline_,
                 leases.error().ToString());
    return;
  }
  const Clock::TimePoint now = clock_->Now();
  watch_.Saw(*leases, now);
  bool notify = false;
  std::set<std::string> held;
  std::map<std::string, Clock::TimePoint> asked;
  std::set<std::string> listed;
  bool have_listing;
  {
    std::lock_guard lock(mu_);
    leases_.clear();
    for (const Lease& l : *leases) leases_.emplace(l.shard_id, l);
    // A held lease that names another owner was taken.
    for (auto it = held_.begin(); it != held_.end();) {
      auto l = leases_.find(it->first);
      if (l != leases_.end() && l->second.owner != me_) {
        const std::string shard = (it++)->first;
        LoseLocked(shard, "it is owned by " + l->second.owner.value_or("no one") + " now");
        notify = true;
      } else {
        ++it;
      }
    }
    // Asks whose lease went to a third worker are void.
    for (auto it = asked_.begin(); it != asked_.end();) {
      auto l = leases_.find(it->first);
      const bool void_ask =
          l == leases_.end() || (l->second.owner != me_ && l->second.owner != it->second.of);
      it = void_ask ? asked_.erase(it) : std::next(it);
    }
    for (const auto& [id, h] : held_) held.insert(id);
    for (const auto& [id, a] : asked_) asked.emplace(id, a.when);
    listed = listed_;
    have_listing = have_listing_;
  }
  if (!taking_.load()) {
    if (notify) Notify();
    return;
  }
  LeaseRound round = PlanLeaseRound(*leases, watch_,
                                    LeaseView{.me = me_,
                                              .options = options_,
                                              .held = held,
                                              .asked = asked,
                                              .now = now,
                                              .starting = now - started_ < options_.failover_time,
                                              .listed = have_listing ? &listed : nullptr});
  for (const Lease& seen : round.take) {
    if (!taking_.load()) break;
    auto taken = table_->Take(seen, me_);
    if (!taken) {
      if (taken.error().code() != ErrorCode::kConflict) {
        spdlog::warn("pipeline {}: taking the lease of shard {} failed: {}", pipeline_,
                     seen.shard_id, taken.error().ToString());
      }
      continue;
    }
    std::lock_guard lock(mu_);
    const bool from_live = asked_.contains(seen.shard_id);
    asked_.erase(seen.shard_id);
    held_[seen.shard_id] = Holding{.hold = {me_, taken->counter},
                                   .renewed = clock_->Now(),
                                   .handoff_to = {},
                                   .write = std::make_shared<std::mutex>()};
    ++(from_live ? counts_.stolen : counts_.taken);
    spdlog::info("pipeline {}: took the lease of shard {}{}", pipeline_, seen.shard_id,
                 seen.owner && *seen.owner != me_
                     ? " from " + *seen.owner + (from_live ? " (handed over)" : " (expired)")
                     : "");
    notify = true;
  }
  for (const Lease& seen : round.ask) {
    if (!taking_.load()) break;
    if (auto s = table_->RequestHandoff(seen, me_); !s) {
      if (s.error().code() != ErrorCode::kConflict) {
        spdlog::warn("pipeline {}: asking for the lease of shard {} failed: {}", pipeline_,
                     seen.shard_id, s.error().ToString());
      }
      continue;
    }
    std::lock_guard lock(mu_);
    asked_[seen.shard_id] = Ask{.when = now, .of = seen.owner.value_or("")};
    spdlog::info("pipeline {}: asked {} for the lease of shard {} ({} of {} leases, {} workers)",
                 pipeline_, seen.owner.value_or("?"), seen.shard_id, held.size(), round.eligible,
                 round.workers);
  }
  if (notify) Notify();
}

void LeaseCoordinator::Release(const std::string& shard_id, const std::optional<std::string>& to) {
  std::shared_ptr<std::mutex> write;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(shard_id);
    if (it == held_.end()) return;
    write = it->second.write;
  }
  std::lock_guard write_lock(*write);
  LeaseHold hold;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(shard_id);
    if (it == held_.end()) return;
    hold = it->second.hold;
    held_.erase(it);
    if (to) ++counts_.handed_over;
  }
  if (auto s = table_->Release(shard_id, hold, to); !s) {
    // Taken meanwhile, or the table is out of reach: the lease expires then.
    spdlog::warn("pipeline {}: giving back the lease of shard {} failed: {}", pipeline_, shard_id,
                 s.error().ToString());
  } else if (to) {
    spdlog::info("pipeline {}: handed the lease of shard {} to {}", pipeline_, shard_id, *to);
  }
}

void LeaseCoordinator::ReleaseAll() {
  std::vector<std::string> shards;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, h] : held_) shards.push_back(id);
  }
  for (const auto& s : shards) Release(s, std::nullopt);
  if (!shards.empty()) {
    spdlog::info("pipeline {}: gave back {} leases for other workers to take", pipeline_,
                 shards.size());
  }
}

std::set<std::string> LeaseCoordinator::Held() {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [id, h] : held_) out.insert(id);
  return out;
}

std::set<std::string> LeaseCoordinator::TakeLost() {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  out.swap(lost_);
  return out;
}

std::set<std::string> LeaseCoordinator::Asked() {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [id, h] : held_) {
    if (h.handoff_to) out.insert(id);
  }
  return out;
}

void LeaseCoordinator::HandOver(const std::string& shard_id) {
  std::optional<std::string> to;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(shard_id);
    if (it == held_.end()) return;
    to = it->second.handoff_to;
  }
  Release(shard_id, to);
}

void LeaseCoordinator::Finished(const std::string& shard_id) { Release(shard_id, std::nullopt); }

bool LeaseCoordinator::Holds(const std::string& shard_id) {
  std::lock_guard lock(mu_);
  return held_.contains(shard_id);
}

bool LeaseCoordinator::AfterParents(const std::string& shard_id) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(shard_id);
  if (it == leases_.end()) return false;
  return std::ranges::any_of(it->second.parents,
                             [&](const std::string& p) { return leases_.contains(p); });
}

LeaseTelemetry LeaseCoordinator::telemetry() {
  std::lock_guard lock(mu_);
  LeaseTelemetry t = counts_;
  t.held = held_.size();
  return t;
}

}  // namespace kc::core
