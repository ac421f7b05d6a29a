// The checkpoint conformance suite for the embedded file store, and for the
// in-memory store that the pipeline's tests use in place of a real one.
#include <unistd.h>

#include <filesystem>

#include "stores/file/file_checkpoint_store.h"
#include "support/checkpoint_conformance.h"
#include "support/memory_store.h"

namespace kc::testing {
namespace {

const std::string& Directory() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kc-conformance-XXXXXX").string();
    return std::string(::mkdtemp(tmpl.data()));
  }();
  return dir;
}

class RemoveDirectory : public ::testing::Environment {
 public:
  void TearDown() override { std::filesystem::remove_all(Directory()); }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new RemoveDirectory);

INSTANTIATE_TEST_SUITE_P(Stores, CheckpointConformance,
                         ::testing::Values(StoreFactory{
                             .name = "file",
                             .open =
                                 [] {
                                   return std::unique_ptr<CheckpointStore>(
                                       std::make_unique<checkpoint::FileCheckpointStore>(
                                           Directory(), "app"));
                                 },
                             .stop_server = {},
                             .start_server = {},
                             .server_name = {}}),
                         PrintStoreName);

// Every memory store opened here shares one shelf, as the file stores share
// a directory: a new store sees what an earlier one saved.
std::unique_ptr<CheckpointStore> OpenMemoryStore() {
  static const auto shelf = std::make_shared<MemoryStore::Shelf>();
  return std::make_unique<MemoryStore>(shelf);
}

INSTANTIATE_TEST_SUITE_P(Memory, CheckpointConformance,
                         ::testing::Values(StoreFactory{.name = "memory",
                                                        .open = OpenMemoryStore,
                                                        .stop_server = {},
                                                        .start_server = {},
                                                        .server_name = {}}),
                         PrintStoreName);

}  // namespace
}  // namespace kc::testing
