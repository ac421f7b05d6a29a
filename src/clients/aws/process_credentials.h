// credential_process: a profile's program that prints credentials, as the
// AWS CLI and SDKs run it (a vault, a password manager, an SSO helper).
//
// - The command line is split as a POSIX shell would split words (quotes
//   and backslashes), but no shell runs: no variables, globs, pipes or
//   redirections.
// - Its standard output must be the JSON object of version 1:
//   {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...,
//    "SessionToken": ..., "Expiration": "<RFC 3339>"}; SessionToken and
//   Expiration are optional, and without an Expiration the credentials
//   are long-term.
// - Its standard error is read and dropped: helpers print prompts and
//   diagnostics there that may hold secrets, so none of it reaches a log.
//   An error says to run the command by hand to see it.
// - It gets `timeout` to finish; after that it is killed, with the process
//   group it started.
// - Output past kMaxProcessOutputBytes is an error, not memory.
//
// Errors name the profile and the program (its first word: arguments may
// hold secrets) and never quote the output.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "clients/aws/credentials.h"

namespace kc::aws {

inline constexpr size_t kMaxProcessOutputBytes = 1 << 20;
inline constexpr std::chrono::seconds kDefaultProcessTimeout{60};

class ProcessCredentialsProvider final : public CredentialsProvider {
 public:
  // `origin` names the setting, e.g. "credential_process of profile 'x'".
  ProcessCredentialsProvider(std::string command_line, std::string origin,
                             std::chrono::milliseconds timeout = kDefaultProcessTimeout);
  Result<Credentials> Get() override;
  std::string Describe() const override;

 private:
  const std::string command_line_;
  const std::string origin_;
  const std::chrono::milliseconds timeout_;
};

// Exposed for tests: the words of a command line, split as a POSIX shell
// splits them (' and " quotes, backslash escapes), without expansions.
// kConfig for an unterminated quote or an empty line.
Result<std::vector<std::string>> SplitCommandLine(std::string_view line);

// Exposed for tests and the fuzz target: the credentials in a version 1
// answer; kParse naming the field (never its value) otherwise.
Result<Credentials> ParseProcessCredentials(std::string_view json);

}  // namespace kc::aws
