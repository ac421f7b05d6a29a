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

// A reader's checkpoint store: the lease table's Load and Save, each save
// conditional on the holding the reader works for.
class LeaseCoordinator::FencedStore final : public CheckpointStore {
 public:
  FencedStore(LeaseCoordinator* c, std::string shard, Generation generation)
      : c_(c), shard_(std::move(shard)), generation_(generation) {}

  Result<ShardCheckpoint> Load(const ShardKey& key) override { return c_->table_->Load(key.shard); }

  Status Save(const ShardKey& key, const ShardCheckpoint& state) override {
    if (key.shard != shard_) {
      return Fail(ErrorCode::kInternal,
                  "a store of shard " + shard_ + " asked to save " + key.shard);
    }
    std::shared_ptr<std::mutex> write;
    {
      std::lock_guard lock(c_->mu_);
      Holding* h = c_->HeldLocked(shard_, generation_);
      if (h == nullptr) return Fail(NotHeld());
      write = h->write;
    }
    std::lock_guard write_lock(*write);
    LeaseHold hold;
    bool unsure;
    {
      std::lock_guard lock(c_->mu_);
      Holding* h = c_->HeldLocked(shard_, generation_);
      if (h == nullptr) return Fail(NotHeld());
      unsure = h->unsure;
    }
    if (unsure) {
      // A renewal whose answer was lost may have moved the counter: a
      // renewal now finds out, and carries on from there.
      auto still = c_->RenewHeld(shard_, generation_);
      if (!still) return Fail(still.error());
      if (!*still) return Fail(NotHeld());
    }
    {
      std::lock_guard lock(c_->mu_);
      Holding* h = c_->HeldLocked(shard_, generation_);
      if (h == nullptr) return Fail(NotHeld());
      hold = h->hold;
    }
    auto saved = c_->table_->Save(shard_, hold, state);
    bool notify = false;
    {
      std::lock_guard lock(c_->mu_);
      Holding* h = c_->HeldLocked(shard_, generation_);
      if (h != nullptr && saved) {
        h->hold.counter = *saved;
        h->renewed = c_->clock_->Now();
      } else if (h != nullptr && saved.error().code() == ErrorCode::kConflict) {
        c_->LoseLocked(shard_, saved.error().message());
        notify = true;
      } else if (h != nullptr) {
        h->unsure = true;  // it may have been applied
      }
    }
    if (notify) c_->Notify();
    if (!saved) return Fail(saved.error());
    return Ok();
  }

  std::string Describe() const override {
    return c_->table_->Describe() + ", as worker " + c_->me_;
  }

 private:
  Error NotHeld() const {
    return Error(ErrorCode::kConflict,
                 "the checkpoint of shard " + shard_ + " was not saved: worker " + c_->me_ +
                     " no longer holds its lease in " + c_->table_->Describe());
  }
  LeaseCoordinator* c_;
  const std::string shard_;
  const Generation generation_;
};

LeaseCoordinator::LeaseCoordinator(const PipelineOptions& config, std::shared_ptr<LeaseTable> table,
                                   Clock* clock)
    : me_(config.leases->worker_id),
      options_(*config.leases),
      pipeline_(config.name),
      stream_(config.stream),
      initial_checkpoint_(InitialCheckpoint(config.start_at)),
      table_(std::move(table)),
      clock_(clock),
      started_(clock->Now()),
      watch_(options_.failover_time / 3) {
  counts_.worker_id = me_;
  counts_.table = table_->Describe();
}

LeaseCoordinator::~LeaseCoordinator() { Stop(); }

std::shared_ptr<CheckpointStore> LeaseCoordinator::StoreFor(const std::string& shard_id,
                                                            Generation generation) {
  return std::make_shared<FencedStore>(this, shard_id, generation);
}

Status LeaseCoordinator::Sync(const std::vector<kinesis::Shard>& listing) {
  std::map<std::string, std::vector<std::string>> have;  // shard → parents, of each lease
  std::string other_stream;                              // of a lease made for another
  bool known;
  {
    std::lock_guard lock(mu_);
    known = have_listing_;
    for (const auto& [id, lease] : leases_) {
      have.emplace(id, lease.parents);
      if (!lease.stream.empty() && lease.stream != stream_) other_stream = lease.stream;
    }
  }
  if (!known) {
    auto leases = table_->List();
    if (!leases) return Fail(leases.error());
    for (const auto& l : *leases) {
      have.emplace(l.shard_id, l.parents);
      if (!l.stream.empty() && l.stream != stream_) other_stream = l.stream;
    }
  }
  if (!other_stream.empty()) {
    return Fail(ErrorCode::kConfig,
                table_->Describe() + " holds leases of stream " + other_stream + ", and pipeline " +
                    pipeline_ + " reads stream " + stream_ +
                    ": its shards would resume at the other stream's checkpoints. Give the "
                    "pipeline a lease table of its own ([leases] table, or another app)");
  }
  std::set<std::string> listed;
  for (const auto& s : listing) listed.insert(s.shard_id);
  // A shard whose descendants have leases was read to its end: the KCL
  // deletes such leases once the children are under way, and making it
  // again would read the shard twice and hold its children back.
  std::set<std::string> done;
  std::vector<std::string> todo_parents;
  for (const auto& [id, parents] : have) {
    for (const auto& p : parents) todo_parents.push_back(p);
  }
  std::map<std::string, const kinesis::Shard*> by_id;
  for (const auto& s : listing) by_id.emplace(s.shard_id, &s);
  while (!todo_parents.empty()) {
    std::string p = std::move(todo_parents.back());
    todo_parents.pop_back();
    if (!done.insert(p).second) continue;
    if (auto it = by_id.find(p); it != by_id.end()) {
      for (const std::string* g :
           {&it->second->parent_shard_id, &it->second->adjacent_parent_shard_id}) {
        if (!g->empty()) todo_parents.push_back(*g);
      }
    }
  }
  // Parents first: a child's lease is never there without its parents',
  // which would let another worker read the child too early.
  std::vector<const kinesis::Shard*> todo;
  for (const auto& s : listing) {
    if (!have.contains(s.shard_id) && !done.contains(s.shard_id)) todo.push_back(&s);
  }
  while (!todo.empty()) {
    std::vector<const kinesis::Shard*> later;
    size_t created = 0;
    for (const kinesis::Shard* s : todo) {
      bool parents_there = true;
      NewLease lease{.shard_id = s->shard_id,
                     .stream = stream_,
                     .parents = {},
                     .starting_hash_key = s->starting_hash_key,
                     .ending_hash_key = s->ending_hash_key,
                     .initial_checkpoint = initial_checkpoint_};
      for (const std::string* p : {&s->parent_shard_id, &s->adjacent_parent_shard_id}) {
        if (p->empty()) continue;
        lease.parents.push_back(*p);
        if (listed.contains(*p) && !have.contains(*p) && !done.contains(*p)) {
          parents_there = false;
        }
      }
      if (!parents_there) {
        later.push_back(s);
        continue;
      }
      // A child starts where its parents ended: at its beginning, as the
      // KCL has it too.
      if (!lease.parents.empty()) lease.initial_checkpoint = "TRIM_HORIZON";
      auto made = table_->Create(lease);
      if (!made) return Fail(made.error());
      if (*made) spdlog::info("pipeline {}: lease created for shard {}", pipeline_, s->shard_id);
      have.emplace(s->shard_id, lease.parents);
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
  started_ = clock_->Now();
  renew_thread_ = std::jthread([this](std::stop_token stop) { RenewLoop(stop); });
  balance_thread_ = std::jthread([this](std::stop_token stop) { BalanceLoop(stop); });
}

void LeaseCoordinator::StopTaking() { taking_.store(false); }

void LeaseCoordinator::Stop() {
  taking_.store(false);
  for (std::jthread* t : {&balance_thread_, &renew_thread_}) {
    if (t->joinable()) {
      t->request_stop();
      t->join();
    }
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

void LeaseCoordinator::RenewLoop(std::stop_token stop) {
  const log::Scope fields(pipeline_, "");
  const auto every = options_.failover_time / 3;
  while (!stop.stop_requested()) {
    const Clock::TimePoint pass = clock_->Now();
    RenewAll(stop);
    const Clock::TimePoint next = pass + every;
    const Clock::TimePoint now = clock_->Now();
    if (next > now) clock_->SleepFor(next - now, stop);
  }
}

void LeaseCoordinator::BalanceLoop(std::stop_token stop) {
  const log::Scope fields(pipeline_, "");
  // Leases given back are taken at the next round: a tenth of the failover
  // time, at least once a second. One listing per round whatever the
  // number of shards (a Scan of about 300 bytes a lease).
  const auto every =
      std::min<std::chrono::milliseconds>(options_.failover_time / 10, std::chrono::seconds(1));
  while (!stop.stop_requested()) {
    const Clock::TimePoint round = clock_->Now();
    Balance();
    const Clock::TimePoint next = round + every;
    const Clock::TimePoint now = clock_->Now();
    if (next > now) clock_->SleepFor(next - now, stop);
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
  Generation generation;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(shard_id);
    if (it == held_.end()) return;
    write = it->second.write;
    generation = it->second.generation;
  }
  // A checkpoint being saved moves the counter itself.
  std::unique_lock write_lock(*write, std::try_to_lock);
  if (!write_lock.owns_lock()) return;
  (void)RenewHeld(shard_id, generation);
}

Result<bool> LeaseCoordinator::RenewHeld(const std::string& shard_id, Generation generation) {
  LeaseHold hold;
  {
    std::lock_guard lock(mu_);
    Holding* h = HeldLocked(shard_id, generation);
    if (h == nullptr) return false;
    hold = h->hold;
  }
  auto renewed = table_->Renew(shard_id, hold);
  bool notify = false;
  bool still = true;
  {
    std::lock_guard lock(mu_);
    Holding* held = HeldLocked(shard_id, generation);
    if (held == nullptr) return false;
    Holding& h = *held;
    if (renewed) {
      h.hold.counter = renewed->counter;
      h.renewed = clock_->Now();
      h.unsure = false;
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
      still = false;
    } else {
      ++counts_.renewals_failed;
      h.unsure = true;  // it may have been applied
      if (clock_->Now() - h.renewed >= options_.failover_time) {
        LoseLocked(shard_id, "no renewal got through for the failover time; the last one: " +
                                 renewed.error().ToString());
        notify = true;
        still = false;
      } else if (WarnNow(&renew_warned_)) {
        spdlog::warn(
            "pipeline {}: renewing the lease of shard {} failed (said at most every "
            "{}s): {}",
            pipeline_, shard_id, kWarnEvery.count(), renewed.error().ToString());
      }
    }
  }
  if (notify) Notify();
  if (!renewed && renewed.error().code() != ErrorCode::kConflict && still) {
    return Fail(renewed.error());
  }
  return still;
}

LeaseCoordinator::Holding* LeaseCoordinator::HeldLocked(const std::string& shard_id,
                                                        Generation generation) {
  auto it = held_.find(shard_id);
  return it == held_.end() || it->second.generation != generation ? nullptr : &it->second;
}

void LeaseCoordinator::LoseLocked(const std::string& shard_id, const std::string& why) {
  auto it = held_.find(shard_id);
  if (it == held_.end()) return;
  lost_[shard_id] = it->second.generation;
  held_.erase(it);
  ++counts_.lost;
  spdlog::warn("pipeline {}: lost the lease of shard {}: {}; stopped reading it", pipeline_,
               shard_id, why);
}

bool LeaseCoordinator::WarnNow(Clock::TimePoint* last) {
  const Clock::TimePoint now = clock_->Now();
  if (*last != Clock::TimePoint() && now - *last < kWarnEvery) return false;
  *last = now;
  return true;
}

void LeaseCoordinator::Balance() {
  auto leases = table_->List();
  if (!leases) {
    if (WarnNow(&list_warned_)) {
      spdlog::warn("pipeline {}: listing the leases failed (said at most every {}s): {}", pipeline_,
                   kWarnEvery.count(), leases.error().ToString());
    }
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
  // Nothing is taken before the stream was listed: a lease of a shard no
  // longer in the stream would be held and never read.
  if (!taking_.load() || !have_listing) {
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
                                              .listed = &listed});
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
    held_[seen.shard_id] = Holding{.generation = next_generation_++,
                                   .hold = {me_, taken->counter},
                                   .renewed = clock_->Now(),
                                   .handoff_to = {},
                                   .unsure = false,
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

void LeaseCoordinator::Release(const std::string& shard_id, Generation generation,
                               const std::optional<std::string>& to) {
  std::shared_ptr<std::mutex> write;
  {
    std::lock_guard lock(mu_);
    Holding* h = HeldLocked(shard_id, generation);
    if (h == nullptr) return;
    write = h->write;
  }
  std::lock_guard write_lock(*write);
  LeaseHold hold;
  bool unsure;
  {
    std::lock_guard lock(mu_);
    Holding* h = HeldLocked(shard_id, generation);
    if (h == nullptr) return;
    unsure = h->unsure;
  }
  if (unsure) {
    auto still = RenewHeld(shard_id, generation);
    if (!still || !*still) return;  // lost, or out of reach: it expires then
  }
  {
    std::lock_guard lock(mu_);
    Holding* h = HeldLocked(shard_id, generation);
    if (h == nullptr) return;
    hold = h->hold;
    held_.erase(shard_id);
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
  std::map<std::string, Generation> held = Held();
  for (const auto& [shard, generation] : held) Release(shard, generation, std::nullopt);
  if (!held.empty()) {
    spdlog::info("pipeline {}: gave back {} leases for other workers to take", pipeline_,
                 held.size());
  }
}

std::map<std::string, LeaseCoordinator::Generation> LeaseCoordinator::Held() {
  std::lock_guard lock(mu_);
  std::map<std::string, Generation> out;
  for (const auto& [id, h] : held_) out.emplace(id, h.generation);
  return out;
}

std::map<std::string, LeaseCoordinator::Generation> LeaseCoordinator::TakeLost() {
  std::lock_guard lock(mu_);
  std::map<std::string, Generation> out;
  out.swap(lost_);
  return out;
}

std::map<std::string, LeaseCoordinator::Generation> LeaseCoordinator::Asked() {
  std::lock_guard lock(mu_);
  std::map<std::string, Generation> out;
  for (const auto& [id, h] : held_) {
    if (h.handoff_to) out.emplace(id, h.generation);
  }
  return out;
}

void LeaseCoordinator::HandOver(const std::string& shard_id, Generation generation) {
  std::optional<std::string> to;
  {
    std::lock_guard lock(mu_);
    Holding* h = HeldLocked(shard_id, generation);
    if (h == nullptr) return;
    to = h->handoff_to;
  }
  Release(shard_id, generation, to);
}

void LeaseCoordinator::Finished(const std::string& shard_id, Generation generation) {
  Release(shard_id, generation, std::nullopt);
}

bool LeaseCoordinator::Holds(const std::string& shard_id, Generation generation) {
  std::lock_guard lock(mu_);
  return HeldLocked(shard_id, generation) != nullptr;
}

bool LeaseCoordinator::AfterParents(const std::string& shard_id) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(shard_id);
  if (it == leases_.end()) return false;
  // A parent still in the stream was read (its lease at SHARD_END, or
  // deleted once done, as the KCL does); one gone from it expired unread.
  return std::ranges::any_of(it->second.parents, [&](const std::string& p) {
    return leases_.contains(p) || listed_.contains(p);
  });
}

LeaseTelemetry LeaseCoordinator::telemetry() {
  std::lock_guard lock(mu_);
  LeaseTelemetry t = counts_;
  t.held = held_.size();
  return t;
}

}  // namespace kc::core
