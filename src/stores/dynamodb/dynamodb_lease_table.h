// DynamoDbLeaseTable: one pipeline's leases in a DynamoDB table of their own,
// in the Kinesis Client Library's 2.x layout (one stream per table), created
// (billed per request) if missing.
//
//   leaseKey (S)                      the shard id, the hash key
//   leaseOwner (S)                    the worker holding the lease; absent: free
//   leaseCounter (N)                  moved by every renewal, take and checkpoint
//   ownerSwitchesSinceCheckpoint (N)  +1 when the lease changes hands, 0 at a checkpoint
//   checkpoint (S),                   the shard's state (stores/dynamodb/item.h);
//   checkpointSubSequenceNumber (N)   "TRIM_HORIZON", "LATEST" or "AT_TIMESTAMP"
//                                     before anything is emitted
//   parentShardId (SS)                the shard's parents, when it has any
//   startingHashKey (S),              its hash key range
//   endingHashKey (S)
//   kcHandoffTo (S)                   this project's own: a worker asked the
//                                     owner to hand the lease over to it
//   kcStream (S)                      this project's own: the stream the lease
//                                     was made for
//   kcLastSequenceNumber (S), …       this project's own part of the state
//                                     (item.h), which a KCL worker ignores
//
// So the table of a stopped KCL application can be adopted (every shard
// resumes after the KCL's checkpoint, sub-sequence number included), and a
// KCL worker given this table resumes after this project's checkpoints.
//
// Each call is one attempt: the lease coordinator and the pipeline retry
// with their own policies. Reads are strongly consistent.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <string>

#include "clients/dynamodb/client.h"
#include "kc/lease.h"
#include "stores/dynamodb/item.h"

namespace kc::checkpoint {

class DynamoDbLeaseTable final : public LeaseTable {
 public:
  // `client` should not retry by itself (see above).
  DynamoDbLeaseTable(dynamodb::DynamoClient client, std::string table);

  Result<std::vector<Lease>> List() override;
  Result<bool> Create(const NewLease& lease) override;
  Result<Lease> Take(const Lease& seen, const std::string& owner) override;
  Result<Lease> Renew(const std::string& shard_id, const LeaseHold& hold) override;
  Status RequestHandoff(const Lease& seen, const std::string& to) override;
  Status Release(const std::string& shard_id, const LeaseHold& hold,
                 const std::optional<std::string>& to) override;
  Result<ShardCheckpoint> Load(const std::string& shard_id) override;
  Result<int64_t> Save(const std::string& shard_id, const LeaseHold& hold,
                       const ShardCheckpoint& state) override;
  std::string Describe() const override;

  const std::string& table() const { return table_; }

 private:
  Status EnsureTable();
  // GetItem, strongly consistent; nullopt when there is no such lease.
  Result<std::optional<Lease>> Get(const std::string& shard_id, ShardCheckpoint* state = nullptr);
  // An UpdateItem of a lease that asks for the item as written.
  Result<Lease> UpdateReturningLease(const std::string& shard_id, const std::string& request);
  // "lease of shard S in DynamoDB table T".
  std::string What(const std::string& shard_id) const;

  dynamodb::DynamoClient client_;
  std::string table_;
  dynamo_item::TableOnce table_once_;
};

}  // namespace kc::checkpoint
