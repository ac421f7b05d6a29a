// ShardDiscovery: the shards of a pipeline's stream, listed again every
// discovery round.
//
// The first listing must succeed: a stream that does not exist is an error
// naming the stream, the endpoint and the region, and how to fix it. Later
// listings that fail (other than by a stop) are logged and answered with
// the last good listing: readers ride out an outage on their own, and a
// failed round only delays finding new shards until the next one.
//
// Thread-safety: none; the pipeline's discovery loop owns it.
#pragma once

#include <stop_token>
#include <vector>

#include "clients/kinesis/client.h"
#include "kc/pipeline.h"

namespace kc::core {

// The error for a stream Kinesis says does not exist (`answer`), naming the
// stream, the endpoint, the region and the fix.
Error StreamMissing(const PipelineOptions& config, const kinesis::KinesisClient& client,
                    const Error& answer);

class ShardDiscovery {
 public:
  // `config` and `client` must outlive this.
  ShardDiscovery(const PipelineOptions& config, kinesis::KinesisClient& client)
      : config_(config), client_(client) {}

  // kCancelled when `stop` ended the call.
  Result<std::vector<kinesis::Shard>> List(std::stop_token stop);

 private:
  const PipelineOptions& config_;
  kinesis::KinesisClient& client_;
  bool listed_ = false;
  std::vector<kinesis::Shard> last_;
};

}  // namespace kc::core
