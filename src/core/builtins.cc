#include "kc/builtins.h"

#include "checkpoint/file/file_checkpoint_store.h"
#include "emitter/file/file_emitter.h"
#include "emitter/stdout/stdout_emitter.h"

namespace kc {

std::shared_ptr<Emitter> MakeFileEmitter(const std::string& directory, FileFormat format,
                                         Compression compression) {
  return std::make_shared<emitter::FileEmitter>(directory, format, compression);
}

std::shared_ptr<Emitter> MakeStdoutEmitter(FileFormat format) {
  return std::make_shared<emitter::StdoutEmitter>(format);
}

std::shared_ptr<CheckpointStore> MakeFileCheckpointStore(const std::string& directory,
                                                         const std::string& app) {
  return std::make_shared<checkpoint::FileCheckpointStore>(directory, app);
}

}  // namespace kc
