#include "sinks/s3_manifest/config.h"

#include "clients/aws/aws_context.h"
#include "clients/aws/endpoint.h"
#include "clients/kinesis/kinesis_factory.h"
#include "clients/s3/s3_client.h"
#include "component/probes.h"
#include "config/reader.h"
#include "sinks/s3_manifest/s3_manifest_emitter.h"

namespace kc::emitter {

std::unique_ptr<component::SinkConfig> ReadS3ManifestSink(
    config::TableReader& reader, const component::SinkReadContext& context) {
  using config::Need;
  auto sink = std::make_unique<S3ManifestSinkConfig>();
  config::ReadRole(reader, &sink->role);
  ReadS3Settings(reader, &sink->objects);
  if (auto stream = reader.NonEmptyString("manifest_stream", Need::kRequired)) {
    if (!config::IsStreamName(*stream)) {
      reader.Report("manifest_stream", config::kStreamNameRule);
    } else if (*stream == context.stream) {
      // Each manifest record would be read back and written again, forever.
      reader.Report("manifest_stream",
                    "must differ from the pipeline's own stream: the pipeline would "
                    "read its own manifest records back");
    } else {
      sink->manifest_stream = *stream;
    }
  }
  if (auto key = reader.NonEmptyString("manifest_partition_key", Need::kOptional)) {
    // Kinesis: 1 to 256 Unicode characters.
    if (key->size() > 256) {
      reader.Report("manifest_partition_key", "must be at most 256 characters");
    } else {
      sink->manifest_partition_key = *key;
    }
  }
  return sink;
}

Result<std::shared_ptr<Emitter>> S3ManifestSinkConfig::Build(
    const component::SinkContext& context) const {
  auto aws = aws::MakeAwsContext(aws::WithRole(context.aws, role));
  if (!aws) return Fail(aws.error());
  return std::make_shared<S3ManifestEmitter>(
      std::make_unique<S3Emitter>(std::make_shared<aws::S3Client>(aws::MakeS3Client(*aws)),
                                  objects),
      std::make_shared<kinesis::KinesisClient>(kinesis::MakeKinesisClient(*aws)), manifest_stream,
      manifest_partition_key);
}

component::Checks S3ManifestSinkConfig::Check(const component::CheckContext& context) const {
  auto aws = aws::MakeAwsContext(aws::WithRole(context.aws, role));
  if (!aws) return {{"bucket " + objects.bucket, Fail(aws.error())}};
  return {component::ProbeBucket(*aws, context.retry, objects.bucket),
          component::ProbeStream(*aws, context.retry, manifest_stream, component::Use::kWrite)};
}

}  // namespace kc::emitter
