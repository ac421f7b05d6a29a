// LeaseCoordinator: one pipeline's leases in this process (kc/lease.h).
//
// A thread of its own renews the leases held every third of the failover
// time (counted from the start of each pass, so that a slow call does not
// push the next ones back); another, every tenth of the failover time (at
// least every second), lists the table, watches the other workers'
// counters and takes or asks for leases (engine/lease_balancer.h). The
// pipeline reads the shards of the leases held, and learns from the
// coordinator which ones to stop:
// - lost (a renewal or a checkpoint refused, or no renewal got through for
//   the failover time): stop at once, dropping what was not emitted;
// - asked for by another worker: stop as on shutdown (emit, checkpoint),
//   then HandOver, which passes the lease to that worker.
//
// Checkpoints go through checkpoints(), which saves each one conditional on
// this worker holding the lease (owner and counter), so a worker that lost
// a lease cannot move the shard's checkpoint. A save and a renewal of one
// lease never run at once: both move the counter.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "clients/kinesis/client.h"
#include "engine/lease_balancer.h"
#include "kc/checkpoint.h"
#include "kc/clock.h"
#include "kc/lease.h"
#include "kc/pipeline.h"

namespace kc::core {

class LeaseCoordinator {
 public:
  // REQUIRES: config.leases
  LeaseCoordinator(const PipelineOptions& config, std::shared_ptr<LeaseTable> table, Clock* clock);
  ~LeaseCoordinator();
  LeaseCoordinator(const LeaseCoordinator&) = delete;
  LeaseCoordinator& operator=(const LeaseCoordinator&) = delete;

  // Gives every shard of the listing a lease, parents first, unless it has
  // one; remembers the listing (a lease of a shard not listed is not read).
  // A table with leases made for another stream is a kConfig error.
  Status Sync(const std::vector<kinesis::Shard>& listing);

  // Starts renewing and balancing; `changed` is called (on the
  // coordinator's threads) when a lease is got or lost or asked for.
  void Start(std::function<void()> changed);
  // No lease is taken or asked for from now on (the pipeline is stopping);
  // the ones held are still renewed.
  void StopTaking();
  // Ends the threads: no lease is renewed, taken or asked for any more.
  void Stop();
  // Gives back every lease held, free for others to take at once.
  // REQUIRES: Stop() (so that no take is under way).
  void ReleaseAll();

  // Each time this worker gets a lease it is a new holding, with a
  // generation of its own: a reader works for one holding, and whatever it
  // does after that holding ended (the lease lost, even if got back since)
  // is refused.
  using Generation = uint64_t;

  // What the pipeline should read: the leases held, by shard.
  std::map<std::string, Generation> Held();
  // Holdings lost since the last call: stop reading them at once.
  std::map<std::string, Generation> TakeLost();
  // Holdings another worker asked for: stop reading them gracefully.
  std::map<std::string, Generation> Asked();
  // The checkpoint store of a reader of `shard_id` for holding `generation`:
  // the lease table's, each save conditional on this worker's hold of the
  // lease (owner and counter) and refused once that holding ended.
  std::shared_ptr<CheckpointStore> StoreFor(const std::string& shard_id, Generation generation);
  // The reader of a holding ended after its handoff was asked for: passes
  // the lease to the worker that asked.
  void HandOver(const std::string& shard_id, Generation generation);
  // The reader of a holding read the shard to its end: the lease is given
  // back (at SHARD_END nobody takes it), and its children may be taken.
  void Finished(const std::string& shard_id, Generation generation);
  bool Holds(const std::string& shard_id, Generation generation);
  // The shard has a parent with a lease: it starts at its beginning, not
  // where start_at says.
  bool AfterParents(const std::string& shard_id);

  LeaseTelemetry telemetry();

 private:
  class FencedStore;
  struct Holding {
    Generation generation = 0;
    LeaseHold hold;
    Clock::TimePoint renewed;               // the last renewal or save that got through
    std::optional<std::string> handoff_to;  // asked for by another worker
    // A renewal failed without an answer: it may have moved the counter, so
    // the next save renews first (which finds out).
    bool unsure = false;
    std::shared_ptr<std::mutex> write;  // held across each renewal and save
  };
  struct Ask {
    Clock::TimePoint when;
    std::string of;  // the owner asked
  };

  void RenewLoop(std::stop_token stop);
  void BalanceLoop(std::stop_token stop);
  void RenewAll(std::stop_token stop);
  // Renews a held lease unless a save is under way (a save moves the
  // counter itself).
  void Renew(const std::string& shard_id);
  // Renews holding `h` of `shard_id`. REQUIRES: its write mutex held.
  // Returns whether it still holds the lease (false: lost, and notified).
  Result<bool> RenewHeld(const std::string& shard_id, Generation generation);
  void Balance();
  // The holding `generation` of `shard_id`; null when that holding ended.
  // REQUIRES: mu_ held.
  Holding* HeldLocked(const std::string& shard_id, Generation generation);
  // Forgets a held lease as lost. REQUIRES: mu_ held.
  void LoseLocked(const std::string& shard_id, const std::string& why);
  // Gives back (or passes on) a holding and forgets it.
  void Release(const std::string& shard_id, Generation generation,
               const std::optional<std::string>& to);
  void Notify();
  // True when a warning kept in `last` is due again (at most every
  // kWarnEvery: the rounds come several times a second). REQUIRES: for
  // renew_warned_, mu_ held.
  bool WarnNow(Clock::TimePoint* last);
  static constexpr std::chrono::seconds kWarnEvery{30};

  const std::string me_;
  const LeaseOptions options_;
  const std::string pipeline_;
  const std::string stream_;
  const std::string initial_checkpoint_;
  std::shared_ptr<LeaseTable> table_;
  Clock* clock_;
  Clock::TimePoint started_;

  std::mutex mu_;
  std::map<std::string, Holding> held_;     // guarded by mu_
  std::map<std::string, Generation> lost_;  // guarded by mu_; not yet told
  Generation next_generation_ = 1;          // guarded by mu_
  std::map<std::string, Ask> asked_;        // guarded by mu_
  std::set<std::string> listed_;            // guarded by mu_
  bool have_listing_ = false;               // guarded by mu_
  std::map<std::string, Lease> leases_;     // guarded by mu_: the last listing of the table
  std::function<void()> changed_;           // guarded by mu_
  LeaseTelemetry counts_;                   // guarded by mu_
  std::atomic<bool> taking_{true};
  LeaseWatch watch_;               // the balancing thread only
  Clock::TimePoint list_warned_;   // the balancing thread only
  Clock::TimePoint renew_warned_;  // guarded by mu_
  std::jthread balance_thread_;
  std::jthread renew_thread_;
};

}  // namespace kc::core
