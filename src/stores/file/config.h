// [checkpoint] store = "file" (the default): one JSON file per shard under
// `path`.
#pragma once

#include <memory>
#include <string>

#include "base/files.h"
#include "component/store.h"

namespace kc::checkpoint {

struct FileStoreConfig final : component::StoreConfig {
  std::string path = "state/checkpoints";
  util::FileModes modes;  // file_mode, dir_mode

  Result<std::shared_ptr<CheckpointStore>> Build(
      const component::StoreContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;
  std::vector<std::string> Notes() const override;
};

std::unique_ptr<component::StoreConfig> ReadFileStore(config::TableReader& table,
                                                      const component::StoreReadContext& context);

}  // namespace kc::checkpoint
