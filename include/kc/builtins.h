// Factories for the built-in components, for programs that assemble their own
// pipelines (the daemon builds the same ones from its configuration).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "kc/aws.h"
#include "kc/checkpoint.h"
#include "kc/emitter.h"
#include "kc/record_format.h"

namespace kc {

// One file per batch under `directory`; see the file emitter's contract.
std::shared_ptr<Emitter> MakeFileEmitter(const std::string& directory, FileFormat format,
                                         Compression compression = Compression::kNone);
// Each batch to standard output, never interleaved.
std::shared_ptr<Emitter> MakeStdoutEmitter(FileFormat format);
// One JSON file per shard under <directory>/<app>/<pipeline>/<stream>/, replaced atomically.
std::shared_ptr<CheckpointStore> MakeFileCheckpointStore(const std::string& directory,
                                                         const std::string& app);
// Checkpoints in Redis at `url`, "redis://[user:password@]host[:port][/db]", under the keys
// the original Go library uses, "{app}:checkpoint:{stream}:{shard}". `pipeline_apps` gives
// pipelines (by name) their own app; the others use `app`. Without a password in the URL,
// REDIS_PASSWORD is used when set. Connects on first use; a bad URL is a kConfig error.
Result<std::shared_ptr<CheckpointStore>> MakeRedisCheckpointStore(
    const std::string& url, const std::string& app,
    const std::map<std::string, std::string>& pipeline_apps = {});
// Checkpoints in the DynamoDB table `table` (created if missing), one item per shard with the
// Kinesis Client Library's lease attribute names, saved with conditional writes. The endpoint,
// region and credentials come from `aws`. Connects on first use.
Result<std::shared_ptr<CheckpointStore>> MakeDynamoDbCheckpointStore(const AwsConfig& aws,
                                                                     const std::string& table);

}  // namespace kc
