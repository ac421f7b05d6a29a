// `kinesis-connect status`: each shard of each pipeline's stream, whether it is
// open or closed, its parents, its checkpoint and how far behind it is.
#pragma once

#include <ostream>

#include "daemon/config.h"
#include "kc/status.h"

namespace kc::cli {

Status PrintStatus(const Config& config, std::ostream& out);

}  // namespace kc::cli
