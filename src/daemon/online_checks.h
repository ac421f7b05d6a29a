// `kinesis-connect check` (or `validate --online`), and what `run` checks
// before it starts reading: that the configuration works against the
// services, not only that it reads well.
//
// Each check is one cheap call, read-only, tried a few times at most:
//   - the credentials resolve (and which provider gave them);
//   - each pipeline's stream exists and is ACTIVE (or UPDATING);
//   - the checkpoint store, each pipeline's sink and dead-letter
//     destination reach what they write to (component/check.h): a bucket, a
//     table and its columns, a stream, a server, a directory.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "daemon/config.h"

namespace kc::daemon {

struct CheckLine {
  bool ok = false;
  // "credentials: ...", "pipeline orders: emitter s3: bucket b: reachable":
  // never a secret.
  std::string text;
  std::optional<Error> error = std::nullopt;  // why it failed
  // A failure a running pipeline waits out (a sink, store or dead-letter
  // destination that does not answer for now: a retriable error), which
  // `run` only warns of at its start. Every other failure stops it.
  bool waited_out = false;
};

// Runs every check, calling `report` for each as it ends; false when any
// failed.
bool RunOnlineChecks(const Config& config, const std::function<void(const CheckLine&)>& report);

}  // namespace kc::daemon
