// ShardLineage: which shards of a stream may be read now.
//
// A child shard is read only once every parent still listed was read to its
// end, emitted and checkpointed (parents no longer listed expired long ago:
// nothing to wait for), so the records of a partition key keep their order
// across splits and merges. A closed shard that an earlier run finished is
// known only from its stored checkpoint: such shards are first handed out by
// ToCheck, and their state told back with Checked.
//
// Bookkeeping only: no I/O, no clock. Thread-safety: none; the pipeline's
// discovery loop owns it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "clients/kinesis/client.h"
#include "engine/shard_reader.h"

namespace kc::core {

class ShardLineage {
 public:
  struct Start {
    const kinesis::Shard* shard;
    bool after_parents;  // it has a parent that this lineage saw finish
  };
  struct Plan {
    std::vector<Start> start;  // readers to start now
    // No shard is being read or left to read (in once mode: every open
    // shard caught up, every closed one finished).
    bool all_done = true;
  };

  // The closed shards of `listing` whose stored state is still to be looked
  // at: neither checked nor finished, and without a reader (a reader's own
  // outcome says when its shard is finished).
  std::vector<const kinesis::Shard*> ToCheck(const std::vector<kinesis::Shard>& listing,
                                             const std::set<std::string>& reading) const;
  // The stored state of a closed shard: `shard_end` when an earlier run
  // finished it.
  void Checked(const std::string& shard_id, bool shard_end);

  // What to start, given the shards being read. The Start pointers point
  // into `listing`.
  Plan Next(const std::vector<kinesis::Shard>& listing, const std::set<std::string>& reading);

  // A reader ended with `outcome`: a shard at its end is finished; an open
  // shard caught up (once mode) is not read again unless it closes.
  void Ended(const std::string& shard_id, ShardOutcome outcome);

  bool finished(const std::string& shard_id) const { return finished_.contains(shard_id); }

 private:
  std::set<std::string> finished_;   // read to their end (shard_end)
  std::set<std::string> caught_up_;  // once mode: open shards with nothing left
  std::set<std::string> checked_;    // closed shards whose stored state was looked at
};

}  // namespace kc::core
