// FileCheckpointStore: the embedded default. One small JSON file per shard,
//   <directory>/<app>/<pipeline>/<stream>/<shard>.json
// replaced atomically (temporary file, fsync, rename, fsync of the directory),
// so `kill -9` at any instant leaves the old or the new state, never a torn one.
//
// Thread-safety: safe for concurrent use; different shards never share a file.
#pragma once

#include <string>

#include "base/files.h"

#include "kc/checkpoint.h"

namespace kc::checkpoint {

class FileCheckpointStore final : public CheckpointStore {
 public:
  FileCheckpointStore(std::string directory, std::string app, util::FileModes modes = {});

  Result<ShardCheckpoint> Load(const ShardKey& key) override;
  Status Save(const ShardKey& key, const ShardCheckpoint& state) override;
  std::string Describe() const override;

  Result<std::string> PathFor(const ShardKey& key) const;

 private:
  std::string directory_;
  std::string app_;
  util::FileModes modes_;
};

}  // namespace kc::checkpoint
