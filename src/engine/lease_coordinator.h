// LeaseCoordinator: one pipeline's leases in this process (kc/lease.h).
//
// A thread of its own renews the leases held every third of the failover
// time, and every tenth (at least every second) lists the table, watches
// the other workers' counters and takes or asks for leases
// (engine/lease_balancer.h). The
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

  // The readers' checkpoint store: the lease table, fenced by the leases held.
  std::shared_ptr<CheckpointStore> checkpoints() const { return checkpoints_; }

  // Gives every shard of the listing a lease, parents first, unless it has
  // one; remembers the listing (a lease of a shard not listed is not read).
  Status Sync(const std::vector<kinesis::Shard>& listing);

  // Starts renewing and balancing; `changed` is called (on the
  // coordinator's thread) when a lease is got or lost or asked for.
  void Start(std::function<void()> changed);
  // No lease is taken or asked for from now on (the pipeline is stopping);
  // the ones held are still renewed.
  void StopTaking();
  // Gives back every lease held, free for others to take at once.
  void ReleaseAll();
  // Ends the thread; leases are no longer renewed.
  void Stop();

  // What the pipeline should read: the shards of the leases held.
  std::set<std::string> Held();
  // Leases lost since the last call: stop reading them at once.
  std::set<std::string> TakeLost();
  // Held leases another worker asked for: stop reading them gracefully.
  std::set<std::string> Asked();
  // The reader of a held shard ended after its handoff was asked for:
  // passes the lease to the worker that asked.
  void HandOver(const std::string& shard_id);
  // The reader of a held shard read it to its end: the lease is given back
  // (at SHARD_END nobody takes it), and its children may be taken.
  void Finished(const std::string& shard_id);
  bool Holds(const std::string& shard_id);
  // The shard has a parent with a lease: it starts at its beginning, not
  // where start_at says.
  bool AfterParents(const std::string& shard_id);

  LeaseTelemetry telemetry();

 private:
  class FencedStore;
  struct Holding {
    LeaseHold hold;
    Clock::TimePoint renewed;               // the last renewal or save that got through
    std::optional<std::string> handoff_to;  // asked for by this worker
    std::shared_ptr<std::mutex> write;      // held across each renewal and save
  };
  struct Ask {
    Clock::TimePoint when;
    std::string of;  // the owner asked
  };

  void Loop(std::stop_token stop);
  void RenewAll(std::stop_token stop);
  void Renew(const std::string& shard_id);
  void Balance();
  // Forgets a held lease as lost. REQUIRES: mu_ held.
  void LoseLocked(const std::string& shard_id, const std::string& why);
  // Gives back (or passes on) a held lease and forgets it.
  void Release(const std::string& shard_id, const std::optional<std::string>& to);
  void Notify();

  const std::string me_;
  const LeaseOptions options_;
  const std::string pipeline_;
  const std::string initial_checkpoint_;
  std::shared_ptr<LeaseTable> table_;
  Clock* clock_;
  std::shared_ptr<CheckpointStore> checkpoints_;
  Clock::TimePoint started_;

  std::mutex mu_;
  std::map<std::string, Holding> held_;  // guarded by mu_
  std::set<std::string> lost_;           // guarded by mu_; not yet told
  std::map<std::string, Ask> asked_;     // guarded by mu_
  std::set<std::string> listed_;         // guarded by mu_
  bool have_listing_ = false;            // guarded by mu_
  std::map<std::string, Lease> leases_;  // guarded by mu_: the last listing of the table
  std::function<void()> changed_;        // guarded by mu_
  LeaseTelemetry counts_;                // guarded by mu_
  std::atomic<bool> taking_{true};
  LeaseWatch watch_;  // the coordinator's thread only
  std::jthread thread_;
};

}  // namespace kc::core
