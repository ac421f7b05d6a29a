#include "daemon/online_checks.h"

#include <algorithm>

#include "clients/aws/aws_context.h"
#include "clients/kinesis/kinesis_factory.h"
#include "component/probes.h"
#include "engine/discovery.h"

namespace kc::daemon {
namespace {

// A check is a question, not a wait: three tries within about a second,
// so that `run` fails within seconds rather than after its outage retries.
constexpr RetryOptions kCheckRetry{.max_attempts = 3,
                                   .base = std::chrono::milliseconds(200),
                                   .cap = std::chrono::milliseconds(1'000)};
// And each try a short one: a call whose answer does not come (a dropped
// packet, a firewall) fails the check rather than holding it for the
// configured request_timeout.
constexpr std::chrono::milliseconds kCheckCallTimeout{5'000};

}  // namespace

bool RunOnlineChecks(const Config& config, const std::function<void(const CheckLine&)>& report) {
  bool all_ok = true;
  auto fail = [&](std::string text, Error error, bool waited_out = false) {
    all_ok = false;
    report({false, std::move(text), std::move(error), waited_out});
  };
  // "<who>: <subject>: <what was seen, or why it cannot be used>". A
  // component that does not answer for now is waited out once running; a
  // stream that does not is not (the first listing gives up as this does).
  auto tell = [&](const std::string& who, const component::Checks& checks, bool component) {
    for (const component::Checked& c : checks) {
      if (c.found) {
        report({true, who + ": " + c.subject + ": " + *c.found});
      } else {
        const Error& e = c.found.error();
        fail(who + ": " + c.subject + ": " + e.message(), e, component && e.retriable());
      }
    }
  };
  AwsConfig aws = config.aws;
  aws.request_timeout = std::min(aws.request_timeout, kCheckCallTimeout);
  auto context = aws::MakeAwsContext(aws);
  if (!context) {
    fail("aws: " + context.error().message(), context.error());
    return false;
  }
  if (auto credentials = context->credentials->Get(); credentials) {
    report({true, "credentials: " + context->credentials->Describe()});
  } else {
    fail("credentials: " + credentials.error().message(), credentials.error());
    return false;  // every call below would fail the same way
  }
  const RetryPolicy retry(kCheckRetry);
  tell(
      "checkpoint store " + config.checkpoint.store,
      config.checkpoint.settings->Check({.aws = aws, .app = config.checkpoint.app, .retry = retry}),
      true);

  const kinesis::KinesisClient client = kinesis::MakeKinesisClient(*context, retry);
  for (const PipelineConfig& p : config.pipelines) {
    const std::string who = "pipeline " + p.name;
    component::Checked stream =
        component::ProbeStream(*context, retry, p.stream, component::Use::kRead);
    if (!stream.found && stream.found.error().code() == ErrorCode::kNotFound) {
      // The message naming the stream, the endpoint, the region and the fix.
      Error missing = core::StreamMissing(p, client, stream.found.error());
      fail(who + ": " + missing.message(), missing);
    } else {
      tell(who, {stream}, false);
    }
    const component::CheckContext at{.aws = aws, .app = config.checkpoint.app, .retry = retry};
    if (config.leases) {
      tell(who + ": leases", config.checkpoint.settings->CheckLeases(at, LeaseTableOf(config, p)),
           true);
    }
    tell(who + ": emitter " + p.emitter.type, p.emitter.settings->Check(at), true);
    if (p.dead_letter.settings) {
      tell(who + ": dead_letter " + p.dead_letter.type, p.dead_letter.settings->Check(at), true);
    }
  }
  return all_ok;
}

}  // namespace kc::daemon
