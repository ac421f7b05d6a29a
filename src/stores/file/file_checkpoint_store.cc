#include "stores/file/file_checkpoint_store.h"

#include "base/files.h"
#include "base/names.h"
#include "stores/codec/checkpoint_codec.h"

namespace kc::checkpoint {

FileCheckpointStore::FileCheckpointStore(std::string directory, std::string app,
                                         util::FileModes modes)
    : directory_(std::move(directory)), app_(std::move(app)), modes_(modes) {
  while (directory_.size() > 1 && directory_.ends_with('/')) directory_.pop_back();
}

Result<std::string> FileCheckpointStore::PathFor(const ShardKey& key) const {
  // Names become path components: nothing that could leave the directory.
  for (const std::string* s : {&app_, &key.pipeline, &key.stream, &key.shard}) {
    if (auto problem = util::NameProblem(*s)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "'" + *s + "' cannot name a checkpoint file: a name " + *problem);
    }
  }
  return directory_ + "/" + app_ + "/" + key.pipeline + "/" + key.stream + "/" + key.shard +
         ".json";
}

Result<ShardCheckpoint> FileCheckpointStore::Load(const ShardKey& key) {
  auto path = PathFor(key);
  if (!path) return Fail(path.error());
  auto text = util::ReadFile(*path);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) return ShardCheckpoint{};
    return Fail(text.error());
  }
  auto state = DecodeShardCheckpoint(*text);
  if (!state) {
    return Fail(ErrorCode::kParse,
                "checkpoint file " + *path + " is damaged (" + state.error().message() +
                    "); restore it from a backup, or delete it to start the shard again from "
                    "start_at");
  }
  return state;
}

Status FileCheckpointStore::Save(const ShardKey& key, const ShardCheckpoint& state) {
  auto path = PathFor(key);
  if (!path) return Fail(path.error());
  return util::WriteFileAtomically(*path, EncodeShardCheckpoint(state), modes_);
}

std::string FileCheckpointStore::Describe() const {
  return "file store under " + directory_ + "/" + app_;
}

}  // namespace kc::checkpoint
