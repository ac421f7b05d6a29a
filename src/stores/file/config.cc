#include "stores/file/config.h"

#include <filesystem>
#include <system_error>

#include "component/probes.h"
#include "config/reader.h"
#include "stores/file/file_checkpoint_store.h"

namespace kc::checkpoint {

std::unique_ptr<component::StoreConfig> ReadFileStore(config::TableReader& reader,
                                                      const component::StoreReadContext&) {
  auto store = std::make_unique<FileStoreConfig>();
  if (auto path = reader.NonEmptyString("path", config::Need::kOptional)) store->path = *path;
  config::ReadFileModes(reader, &store->modes);
  if (reader.Has("url")) {
    reader.Get("url", config::Need::kOptional);
    reader.Report("url", "'url' is used by checkpoint stores 'redis' and 'postgres' only");
  }
  return store;
}

std::vector<std::string> FileStoreConfig::Notes() const {
  if (path.starts_with('/')) return {};
  std::error_code ec;
  const std::filesystem::path here = std::filesystem::current_path(ec);
  return {"checkpoint.path is relative: checkpoints go under the working directory of `run`, " +
          (ec ? std::string("(unknown here)") : "here " + (here / path).string()) +
          "; a systemd service's is its WorkingDirectory (the packaged unit's state "
          "directory), else /"};
}

Result<std::shared_ptr<CheckpointStore>> FileStoreConfig::Build(
    const component::StoreContext& context) const {
  return std::make_shared<FileCheckpointStore>(path, context.app, modes);
}

component::Checks FileStoreConfig::Check(const component::CheckContext&) const {
  return {component::ProbeDirectory(path)};
}

}  // namespace kc::checkpoint
