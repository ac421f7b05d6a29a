// `kinesis-connect check` (or `validate --online`), and what `run` checks
// before it starts reading: that the configuration works against the
// services, not only that it reads well.
//
// Each check is one cheap call, read-only, tried a few times at most:
//   - the credentials resolve (and which provider gave them);
//   - each pipeline's stream exists and is ACTIVE (or UPDATING).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "daemon/config.h"

namespace kc::daemon {

struct CheckLine {
  bool ok = false;
  std::string text;  // "credentials: ...", "pipeline orders: stream ...": never a secret
  std::optional<ErrorCode> code = std::nullopt;  // why it failed
};

// Runs every check, calling `report` for each as it ends; false when any
// failed.
bool RunOnlineChecks(const Config& config, const std::function<void(const CheckLine&)>& report);

}  // namespace kc::daemon
