// DynamoDbCheckpointStore: one item per shard in a DynamoDB table, created
// (billed per request) if missing, for the pipelines of one process. The
// item uses the Kinesis Client Library's lease attribute names where they
// mean the same thing. It is not a KCL application's table: the KCL keys
// leases by shard id alone and renews leaseCounter, so the two must not
// share one. Processes that share a stream keep leases and checkpoints in a
// lease table per pipeline instead (dynamodb_lease_table.h).
//
//   leaseKey (S)                     "{pipeline}:{stream}:{shard}", the hash key
//   leaseCounter (N)                 +1 on every save; each save is conditional
//                                    on the value this store last read or wrote
//   ownerSwitchesSinceCheckpoint (N) 0 after every save, as the KCL sets it
//   checkpoint (S), …                the shard's state, as stores/dynamodb/item.h
//                                    writes it (and reads it when someone else
//                                    moved `checkpoint`)
//
// The conditional write is what keeps a stale writer (a second process on
// the same table and pipeline, or one that was paused) from moving a
// checkpoint backwards: its save fails with ErrorCode::kConflict naming the
// shard, and the pipeline stops instead of losing records. A save whose
// answer was lost and is sent again is recognised (the item already holds
// exactly that state, one counter further) and succeeds.
//
// Each call is one attempt: the pipeline retries checkpoint loads and saves
// with its own policy. Reads are strongly consistent.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "clients/dynamodb/client.h"
#include "kc/checkpoint.h"
#include "stores/dynamodb/item.h"

namespace kc::checkpoint {

class DynamoDbCheckpointStore final : public CheckpointStore {
 public:
  // The table's hash key, as the KCL names it.
  static constexpr char kHashKey[] = "leaseKey";

  // `client` should not retry by itself (see above).
  DynamoDbCheckpointStore(dynamodb::DynamoClient client, std::string table);

  Result<ShardCheckpoint> Load(const ShardKey& key) override;
  Status Save(const ShardKey& key, const ShardCheckpoint& state) override;
  std::string Describe() const override;

  // "{pipeline}:{stream}:{shard}".
  static std::string LeaseKeyFor(const ShardKey& key);
  const std::string& table() const { return table_; }

 private:
  // What a save's condition expects of the item.
  struct Version {
    bool exists = false;       // the item exists
    bool has_counter = false;  // and holds a leaseCounter
    int64_t counter = 0;
    friend bool operator==(const Version&, const Version&) = default;
  };
  struct Item {
    Version version;
    ShardCheckpoint state;
  };
  Status EnsureTable();
  // GetItem, strongly consistent.
  Result<Item> Read(const ShardKey& key, const std::string& lease_key);
  void Remember(const std::string& lease_key, const Version& version);

  dynamodb::DynamoClient client_;
  std::string table_;
  std::mutex mu_;
  dynamo_item::TableOnce table_once_;
  std::map<std::string, Version> versions_;  // by lease key; guarded by mu_
};

}  // namespace kc::checkpoint
