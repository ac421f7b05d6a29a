// What a component's online check is given and gives back, for
// `kinesis-connect check` and for `run` before it starts: each thing the
// component reaches (a bucket, a table, a stream, a directory), tried with
// one cheap read-only call.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/retry.h"
#include "kc/aws.h"
#include "kc/status.h"

namespace kc::component {

struct CheckContext {
  // The pipeline's settings for a sink or dead-letter destination, the
  // process's for the checkpoint store; a component's own role or region
  // applies on top, as in its Build.
  const AwsConfig& aws;
  std::string_view app;  // [checkpoint] app: a store's default table
  // A check is a question, not a wait: a few tries within about a second.
  RetryPolicy retry;
};

// One thing checked: what it is ("bucket orders-archive") and what was seen
// ("reachable"), or why it cannot be used. Never holds a secret.
struct Checked {
  std::string subject;
  Result<std::string> found;
};

using Checks = std::vector<Checked>;

}  // namespace kc::component
