#include "engine/lease_balancer.h"

#include <algorithm>
#include <functional>

namespace kc::core {

void LeaseWatch::Saw(const std::vector<Lease>& leases, Clock::TimePoint now) {
  if (last_ && now - *last_ > max_gap_) seen_.clear();
  last_ = now;
  std::map<std::string, Seen> next;
  for (const Lease& l : leases) {
    auto it = seen_.find(l.shard_id);
    if (it != seen_.end() && it->second.counter == l.counter && it->second.owner == l.owner) {
      next.emplace(l.shard_id, it->second);
    } else {
      next.emplace(l.shard_id, Seen{l.counter, l.owner, now});
    }
  }
  seen_ = std::move(next);
}

Clock::TimePoint LeaseWatch::Since(const std::string& shard_id) const {
  auto it = seen_.find(shard_id);
  return it == seen_.end() ? Clock::TimePoint::max() : it->second.since;
}

bool Readable(const Lease& lease, const std::map<std::string, const Lease*>& by_shard,
              const std::set<std::string>* listed) {
  if (lease.shard_end) return false;
  if (listed != nullptr && !listed->contains(lease.shard_id)) return false;
  for (const std::string& parent : lease.parents) {
    if (listed != nullptr && !listed->contains(parent)) continue;
    auto it = by_shard.find(parent);
    if (it != by_shard.end() && !it->second->shard_end) return false;
  }
  return true;
}

LeaseRound PlanLeaseRound(const std::vector<Lease>& leases, const LeaseWatch& watch,
                          const LeaseView& view) {
  std::map<std::string, const Lease*> by_shard;
  for (const Lease& l : leases) by_shard.emplace(l.shard_id, &l);
  auto expired = [&](const Lease& l) {
    return l.owner && (*l.owner != view.me || !view.held.contains(l.shard_id)) &&
           view.now - watch.Since(l.shard_id) >= view.options.failover_time;
  };

  LeaseRound round;
  std::vector<const Lease*> readable;
  std::set<std::string> live;
  std::map<std::string, std::vector<const Lease*>> by_owner;  // live owners but this one
  for (const Lease& l : leases) {
    if (l.shard_end) continue;
    if (l.owner && !expired(l)) live.insert(*l.owner);
    if (!Readable(l, by_shard, view.listed)) continue;
    readable.push_back(&l);
    if (l.owner && *l.owner != view.me && !expired(l)) by_owner[*l.owner].push_back(&l);
  }
  live.insert(view.me);
  round.eligible = readable.size();
  round.workers = live.size();
  round.target = (round.eligible + round.workers - 1) / round.workers;
  if (view.options.max_leases_per_worker > 0) {
    round.target = std::min<size_t>(round.target, view.options.max_leases_per_worker);
  }

  size_t have = 0;
  for (const Lease* l : readable) {
    if (view.held.contains(l->shard_id)) ++have;
  }
  // Handoffs made (the lease names this worker) and handoffs not made in
  // time are taken; those still awaited count as had.
  for (const auto& [shard, when] : view.asked) {
    auto it = by_shard.find(shard);
    if (it == by_shard.end() || view.held.contains(shard)) continue;
    const Lease& l = *it->second;
    if (l.owner == view.me || view.now - when >= 2 * view.options.failover_time) {
      round.take.push_back(l);
    }
    ++have;
  }
  if (have >= round.target) return round;
  size_t need = round.target - have;

  // Free leases first, in an order of this worker's own, then the expired
  // ones, the longest unrenewed first.
  std::vector<const Lease*> candidates;
  for (const Lease* l : readable) {
    if (view.held.contains(l->shard_id) || view.asked.contains(l->shard_id)) continue;
    if (!l->owner || expired(*l)) candidates.push_back(l);
  }
  std::hash<std::string> hash;
  std::ranges::stable_sort(candidates, [&](const Lease* a, const Lease* b) {
    if (!a->owner != !b->owner) return !a->owner;
    if (!a->owner) return hash(view.me + a->shard_id) < hash(view.me + b->shard_id);
    return watch.Since(a->shard_id) < watch.Since(b->shard_id);
  });
  size_t limit = need;
  if (view.starting) limit = std::max<size_t>(1, (need + 1) / 2);
  for (const Lease* l : candidates) {
    if (limit == 0) break;
    round.take.push_back(*l);
    --limit;
    --need;
  }
  if (!round.take.empty() || need == 0) return round;

  // Nothing to take: ask the most loaded worker, when it holds at least two
  // more than this one.
  const std::vector<const Lease*>* most = nullptr;
  for (const auto& [owner, owned] : by_owner) {
    if (most == nullptr || owned.size() > most->size()) most = &owned;
  }
  if (most == nullptr || most->size() < have + 2) return round;
  size_t n = std::min<size_t>({need, view.options.max_leases_to_steal, (most->size() - have) / 2});
  // Leases nobody asked for yet, in this worker's own order.
  std::vector<const Lease*> pick;
  for (const Lease* l : *most) {
    if (!l->handoff_to) pick.push_back(l);
  }
  std::ranges::sort(pick, [&](const Lease* a, const Lease* b) {
    return hash(view.me + a->shard_id) < hash(view.me + b->shard_id);
  });
  for (size_t i = 0; i < n && i < pick.size(); ++i) round.ask.push_back(*pick[i]);
  return round;
}

}  // namespace kc::core
