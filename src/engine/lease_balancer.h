// Which leases a worker takes in a round, and which it asks for.
//
// - A lease may be read when its shard is listed and not at SHARD_END, and
//   each of its parents is (or has no lease, or is no longer listed: it
//   expired from the stream). Only those count.
// - Expired: its counter and owner have not changed for `failover_time`, as
//   this worker watched them (LeaseWatch); clocks of other machines play no
//   part.
// - The target of each worker is ceil(leases / workers), the workers being
//   this one and the owners of leases that have not expired (at most
//   `max_leases_per_worker`, when set).
// - A worker under its target takes free leases (in an order of its own,
//   so that workers taking at once take different ones), then expired ones,
//   the longest unrenewed first. A lease naming this worker that it does
//   not hold (an earlier run under the same worker id) is one like the
//   others: taken once expired, so that two processes given the same id by
//   mistake do not take each other's leases back and forth. In its first
//   `failover_time` a worker takes at most half of what it lacks per
//   round, so that workers started together share the shards instead of
//   the first taking them all.
// - With nothing to take it asks the most loaded worker for leases (at most
//   `max_leases_to_steal` a round), only when that worker holds at least two
//   more than this one: so the spread ends within one lease of even, and
//   never swings back and forth.
// - A handoff made (the lease names this worker) is taken up; one asked for
//   and not made within twice `failover_time` (its owner does not know of
//   handoffs: a KCL worker) is taken as the KCL takes it. Twice: a busy
//   owner sees the request at its next renewal and first finishes its
//   batch.
//
// Bookkeeping only: no I/O. Thread-safety: none.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kc/clock.h"
#include "kc/lease.h"
#include "kc/pipeline.h"

namespace kc::core {

// When each lease last changed (its counter or its owner), as seen here.
class LeaseWatch {
 public:
  // `max_gap`: when listings were missed for longer (the table out of
  // reach), nothing was watched meanwhile: every lease counts as seen
  // afresh, rather than all of them as expired at once.
  explicit LeaseWatch(Clock::Duration max_gap = Clock::Duration::max()) : max_gap_(max_gap) {}
  // Notes the leases of a listing made at `now`; forgets leases not in it.
  void Saw(const std::vector<Lease>& leases, Clock::TimePoint now);
  // Since when the lease has been as it is now; `now` of its first sighting.
  Clock::TimePoint Since(const std::string& shard_id) const;

 private:
  struct Seen {
    int64_t counter = 0;
    std::optional<std::string> owner;
    Clock::TimePoint since;
  };
  Clock::Duration max_gap_;
  std::optional<Clock::TimePoint> last_;
  std::map<std::string, Seen> seen_;
};

struct LeaseRound {
  std::vector<Lease> take;  // as listed: take them now
  std::vector<Lease> ask;   // as listed: ask their owners for a handoff
  size_t eligible = 0;      // leases that may be read now
  size_t workers = 1;       // this one and the live owners
  size_t target = 0;        // this worker's share
};

struct LeaseView {
  const std::string& me;
  const LeaseOptions& options;
  const std::set<std::string>& held;  // what this worker holds and renews
  // Handoffs this worker asked for and has not got yet, and when it asked.
  const std::map<std::string, Clock::TimePoint>& asked;
  Clock::TimePoint now;
  bool starting = false;  // in this worker's first failover_time
  // The shards of the stream's last listing; null: not known. A lease of a
  // shard that is not listed (it expired from the stream) is not read, and
  // does not hold its children back.
  const std::set<std::string>* listed = nullptr;
};

// True when `lease` may be read: not at its end, listed, its listed
// parents at their ends.
bool Readable(const Lease& lease, const std::map<std::string, const Lease*>& by_shard,
              const std::set<std::string>* listed);

LeaseRound PlanLeaseRound(const std::vector<Lease>& leases, const LeaseWatch& watch,
                          const LeaseView& view);

}  // namespace kc::core
