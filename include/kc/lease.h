// Leases: several processes (workers) share the shards of one pipeline's
// stream, each shard read by one worker at a time.
//
// A lease table holds one lease per shard: who owns it, a counter that its
// owner moves at every renewal, take and checkpoint, the shard's parents, and
// the shard's checkpoint (the state a CheckpointStore keeps). Every write that
// matters is conditional on what the writer last saw:
//
// - a worker renews the leases it holds by moving their counters, each
//   renewal conditional on the counter it last saw and on being the owner;
// - other workers watch the counters: a lease whose counter has not moved
//   for the failover time, as seen by the watcher, belongs to a worker that
//   is gone, and may be taken (conditional on the counter seen);
// - a checkpoint is conditional on the owner and the counter, so a worker
//   that lost a lease (paused, cut off) cannot move the shard's checkpoint;
// - a worker under its share asks the owner of a lease to hand it over
//   (RequestHandoff) rather than taking it under the owner's feet: the owner
//   sees the request at its next renewal, finishes its batch, checkpoints,
//   and passes the lease on (Release with `to`).
//
// The layout of the DynamoDB implementation is the Kinesis Client Library's
// (2.x, one stream per table), so a KCL application's table can be adopted
// and ours read by a KCL worker.
//
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kc/checkpoint.h"
#include "kc/status.h"

namespace kc {

// One shard's lease as the table holds it.
struct Lease {
  std::string shard_id;              // the lease key
  std::optional<std::string> owner;  // the worker holding it; none: free
  int64_t counter = 0;
  std::vector<std::string> parents;  // shard ids, as recorded at creation
  bool shard_end = false;            // the shard was read and checkpointed to its end
  // A worker asked the owner to hand the lease over to it.
  std::optional<std::string> handoff_to;
  // The checkpoint as stored ("TRIM_HORIZON", a sequence number,
  // "SHARD_END"; empty: none), for `status`.
  std::string checkpoint;
  // The stream the lease was made for; empty when not recorded (a KCL
  // application's lease).
  std::string stream;
  friend bool operator==(const Lease&, const Lease&) = default;
};

// A lease for a shard found in the stream's listing.
struct NewLease {
  std::string shard_id;
  std::string stream;  // recorded, so that a table is not used for another stream
  std::vector<std::string> parents;
  std::string starting_hash_key;
  std::string ending_hash_key;
  // Where a shard without a checkpoint starts, as the KCL writes it:
  // "TRIM_HORIZON", "LATEST" or "AT_TIMESTAMP".
  std::string initial_checkpoint = "TRIM_HORIZON";
};

// What fences a holder's writes: the owner and the counter it last wrote.
struct LeaseHold {
  std::string owner;
  int64_t counter = 0;
};

class LeaseTable {
 public:
  virtual ~LeaseTable() = default;
  LeaseTable() = default;
  LeaseTable(const LeaseTable&) = delete;
  LeaseTable& operator=(const LeaseTable&) = delete;

  // Every lease of the table, read consistently.
  virtual Result<std::vector<Lease>> List() = 0;
  // Adds a free lease for a new shard; true when it was added, false when the
  // shard already had one (which is left as it is).
  virtual Result<bool> Create(const NewLease& lease) = 0;

  // The conditional writes. Each fails with ErrorCode::kConflict when the
  // lease is no longer as the caller saw it (another worker wrote it); a
  // write whose answer was lost and is sent again is recognised and succeeds.
  //
  // Makes `owner` the owner of the lease seen as `seen`: conditional on its
  // counter (and owner) being still as seen. Returns the lease as taken.
  virtual Result<Lease> Take(const Lease& seen, const std::string& owner) = 0;
  // Moves the counter of a held lease. Returns the lease as renewed (its
  // handoff_to tells the owner of a request).
  virtual Result<Lease> Renew(const std::string& shard_id, const LeaseHold& hold) = 0;
  // Asks the owner of the lease seen as `seen` to hand it to `to`; leaves
  // the counter alone, so the owner's renewals go on. Conditional on the
  // owner and counter seen and on no other request being there.
  virtual Status RequestHandoff(const Lease& seen, const std::string& to) = 0;
  // Gives up a held lease: free (`to` empty) or passed to the worker `to`.
  virtual Status Release(const std::string& shard_id, const LeaseHold& hold,
                         const std::optional<std::string>& to) = 0;

  // The shard's checkpoint (an empty state when there is none yet).
  virtual Result<ShardCheckpoint> Load(const std::string& shard_id) = 0;
  // Stores the shard's checkpoint, conditional on `hold`; returns the new
  // counter.
  virtual Result<int64_t> Save(const std::string& shard_id, const LeaseHold& hold,
                               const ShardCheckpoint& state) = 0;

  // For logs and `status`, e.g. "DynamoDB table app-orders (…)".
  virtual std::string Describe() const = 0;
};

}  // namespace kc
