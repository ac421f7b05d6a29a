#include "engine/discovery.h"

#include <spdlog/spdlog.h>

namespace kc::core {

Result<std::vector<kinesis::Shard>> ShardDiscovery::List(std::stop_token stop) {
  auto shards = client_.ListShards(config_.stream, stop);
  if (shards) {
    if (!listed_) {
      spdlog::info("[{}] stream {}: {} shards", config_.name, config_.stream, shards->size());
      listed_ = true;
    }
    last_ = *shards;
    return shards;
  }
  if (shards.error().code() == ErrorCode::kCancelled) return shards;
  if (listed_) {
    spdlog::warn("[{}] listing the shards of {} failed ({}); trying again in {} ms", config_.name,
                 config_.stream, shards.error().message(),
                 config_.shard_discovery_interval.count());
    return last_;
  }
  if (shards.error().code() == ErrorCode::kNotFound) {
    return Fail(StreamMissing(config_, client_, shards.error()));
  }
  return shards;
}

Error StreamMissing(const PipelineOptions& config, const kinesis::KinesisClient& client,
                    const Error& answer) {
  const auto& options = client.raw().options();
  return Error(ErrorCode::kNotFound, "stream '" + config.stream + "' does not exist at " +
                                         options.endpoint + " in " + options.region + " (" +
                                         answer.message() +
                                         "); create it or fix `stream` in "
                                         "pipeline '" +
                                         config.name + "'");
}

}  // namespace kc::core
