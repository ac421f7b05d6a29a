// ${NAME} in the config file's strings: the value of an environment variable.
//
//   ${NAME}           NAME's value; a problem when NAME is not set
//   ${NAME:-default}  NAME's value, or `default` when NAME is unset or empty;
//                     a default is plain text ($$ for $), without braces
//   $$                a literal $
//
// Any other $ is kept as it is. NAME is letters, digits and '_', not
// starting with a digit. The whole file is interpolated after it is parsed
// as TOML and before any table is read, so every string value of every table
// (arrays included) may use it, and a substituted value is never read as
// TOML.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "config/problem.h"

namespace kc::config {

// One environment variable: nullopt when unset. Must be safe to call
// concurrently.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment.
std::optional<std::string> ProcessEnv(const std::string& name);

struct Interpolated {
  std::string value;
  // The environment's values that went into it (not defaults), for
  // redaction.
  std::vector<std::string> from_env;
};

// `text` interpolated; on a problem, the message (naming the variable, never
// a value).
Interpolated Interpolate(std::string_view text, const EnvLookup& env, std::string* problem);

// Interpolates every string in `root` in place. Problems are added with the
// line and the key ("pipeline[0].emitter.bucket"). Returns what a log or an
// error must never show: the values the environment gave a key whose name
// says it is secret (password, secret, token, credential), and the password
// of a URL that came from the environment, whole or in part.
std::vector<std::string> InterpolateTree(toml::table& root, const EnvLookup& env,
                                         std::vector<ConfigProblem>* problems);

}  // namespace kc::config
