// Factories for the built-in components, for programs that assemble their own
// pipelines (the daemon builds the same ones from its configuration).
#pragma once

#include <memory>
#include <string>

#include "kc/checkpoint.h"
#include "kc/config.h"
#include "kc/emitter.h"

namespace kc {

// One file per batch under `directory`; see the file emitter's contract.
std::shared_ptr<Emitter> MakeFileEmitter(const std::string& directory, FileFormat format,
                                         Compression compression = Compression::kNone);
// Each batch to standard output, never interleaved.
std::shared_ptr<Emitter> MakeStdoutEmitter(FileFormat format);
// One JSON file per shard under <directory>/<app>/<pipeline>/<stream>/, replaced atomically.
std::shared_ptr<CheckpointStore> MakeFileCheckpointStore(const std::string& directory,
                                                         const std::string& app);

}  // namespace kc
