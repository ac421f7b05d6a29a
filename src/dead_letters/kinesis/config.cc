#include "dead_letters/kinesis/config.h"

#include "clients/aws/aws_context.h"
#include "clients/kinesis/kinesis_factory.h"
#include "component/probes.h"
#include "config/reader.h"
#include "dead_letters/kinesis/kinesis_dead_letters.h"

namespace kc::dead_letter {

std::unique_ptr<component::DeadLetterConfig> ReadKinesisDeadLetters(
    config::TableReader& reader, const component::DeadLetterReadContext& context) {
  auto letters = std::make_unique<KinesisDeadLetterConfig>();
  if (auto stream = reader.NonEmptyString("stream", config::Need::kRequired)) {
    if (!config::IsStreamName(*stream)) {
      reader.Report("stream", config::kStreamNameRule);
    } else if (*stream == context.stream) {
      reader.Report("stream",
                    "must differ from the pipeline's own stream: dead letters would be read "
                    "back as records");
    } else {
      letters->stream = *stream;
    }
  }
  return letters;
}

Result<std::shared_ptr<DeadLetterSink>> KinesisDeadLetterConfig::Build(const AwsConfig& aws) const {
  auto context = aws::MakeAwsContext(aws);
  if (!context) return Fail(context.error());
  // One attempt per call: the dead-letter writer retries what was refused.
  return std::make_shared<KinesisDeadLetters>(
      std::make_shared<kinesis::KinesisClient>(
          kinesis::MakeKinesisClient(*context, RetryPolicy(RetryOptions{.max_attempts = 1}))),
      stream);
}

component::Checks KinesisDeadLetterConfig::Check(const component::CheckContext& context) const {
  auto aws = aws::MakeAwsContext(context.aws);
  if (!aws) return {{"stream " + stream, Fail(aws.error())}};
  return {component::ProbeStream(*aws, context.retry, stream, component::Use::kWrite)};
}

}  // namespace kc::dead_letter
