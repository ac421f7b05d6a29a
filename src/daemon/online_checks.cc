#include "daemon/online_checks.h"

#include "clients/aws/aws_context.h"
#include "clients/kinesis/kinesis_factory.h"
#include "engine/discovery.h"

namespace kc::daemon {
namespace {

// A check is a question, not a wait: three tries within about a second,
// so that `run` fails within seconds rather than after its outage retries.
constexpr RetryOptions kCheckRetry{.max_attempts = 3,
                                   .base = std::chrono::milliseconds(200),
                                   .cap = std::chrono::milliseconds(1'000)};

}  // namespace

bool RunOnlineChecks(const Config& config, const std::function<void(const CheckLine&)>& report) {
  bool all_ok = true;
  auto fail = [&](std::string text, ErrorCode code) {
    all_ok = false;
    report({false, std::move(text), code});
  };
  auto context = aws::MakeAwsContext(config.aws);
  if (!context) {
    fail("aws: " + context.error().message(), context.error().code());
    return false;
  }
  if (auto credentials = context->credentials->Get(); credentials) {
    report({true, "credentials: " + context->credentials->Describe()});
  } else {
    fail("credentials: " + credentials.error().message(), credentials.error().code());
    return false;  // every call below would fail the same way
  }
  const kinesis::KinesisClient client =
      kinesis::MakeKinesisClient(*context, RetryPolicy(kCheckRetry));
  for (const PipelineConfig& p : config.pipelines) {
    const std::string what = "pipeline " + p.name + ": stream " + p.stream;
    auto summary = client.DescribeStreamSummary(p.stream);
    if (!summary) {
      fail("pipeline " + p.name + ": " +
               (summary.error().code() == ErrorCode::kNotFound
                    ? core::StreamMissing(p, client, summary.error()).message()
                    : "stream " + p.stream + ": " + summary.error().message()),
           summary.error().code());
      continue;
    }
    if (summary->status != "ACTIVE" && summary->status != "UPDATING") {
      fail(what + " is " + summary->status + ", not ACTIVE: it cannot be read now",
           ErrorCode::kUnavailable);
      continue;
    }
    report({true, what + " is " + summary->status + ", " +
                      std::to_string(summary->open_shard_count) + " open shard" +
                      (summary->open_shard_count == 1 ? "" : "s") + ", " +
                      std::to_string(summary->retention_hours) + " h retention"});
  }
  return all_ok;
}

}  // namespace kc::daemon
