#include "dead_letters/s3/config.h"

#include "clients/aws/aws_context.h"
#include "component/probes.h"
#include "config/reader.h"
#include "dead_letters/s3/s3_dead_letters.h"
#include "sinks/util/settings.h"

namespace kc::dead_letter {

std::unique_ptr<component::DeadLetterConfig> ReadS3DeadLetters(
    config::TableReader& reader, const component::DeadLetterReadContext&) {
  auto letters = std::make_unique<S3DeadLetterConfig>();
  emitter::ReadBucket(reader, &letters->bucket);  // the one rule for bucket names
  emitter::ReadKeyPrefix(reader, "prefix",
                         "keys are <prefix><pipeline>/<stream>/<shard>/..., and the prefix is "
                         "used as written (end it with '/' for a folder)",
                         &letters->prefix);
  return letters;
}

Result<std::shared_ptr<DeadLetterSink>> S3DeadLetterConfig::Build(const AwsConfig& aws) const {
  auto context = aws::MakeAwsContext(aws);
  if (!context) return Fail(context.error());
  return std::make_shared<S3DeadLetters>(
      std::make_shared<aws::S3Client>(aws::MakeS3Client(*context)), bucket, prefix);
}

component::Checks S3DeadLetterConfig::Check(const component::CheckContext& context) const {
  auto aws = aws::MakeAwsContext(context.aws);
  if (!aws) return {{"bucket " + bucket, Fail(aws.error())}};
  return {component::ProbeBucket(*aws, context.retry, bucket)};
}

}  // namespace kc::dead_letter
