#include "sinks/s3/config.h"

#include <array>
#include <string_view>

#include "clients/aws/aws_context.h"
#include "clients/aws/endpoint.h"
#include "clients/s3/s3_client.h"
#include "component/probes.h"
#include "config/reader.h"
#include "sinks/s3/s3_emitter.h"
#include "sinks/util/settings.h"

namespace kc::emitter {
namespace {

using config::Need;
using config::TableReader;

constexpr std::array<std::string_view, 2> kServerSideEncryptions = {"AES256", "aws:kms"};
// S3's limits: parts of at least 5 MiB (but the last), objects of at most 5 TiB
// in at most 10,000 parts; a part is held in memory, so at most 5 GiB.
constexpr uint64_t kMinPartSize = 5ull << 20;
constexpr uint64_t kMaxPartSize = 5ull << 30;

}  // namespace

const KeyTemplate& DefaultObjectKey() {
  static const KeyTemplate key = *KeyTemplate::Parse("{yyyy}/{MM}/{dd}/{first}-{last}");
  return key;
}

void ReadS3Settings(TableReader& reader, S3Settings* settings) {
  ReadBucket(reader, &settings->bucket);
  if (std::optional<std::string> prefix = reader.String("prefix", Need::kOptional)) {
    settings->prefix = *prefix;
  }
  if (std::optional<std::string> key = reader.NonEmptyString("key", Need::kOptional)) {
    Result<KeyTemplate> parsed = KeyTemplate::Parse(*key);
    if (!parsed) {
      reader.Report("key", parsed.error().message());
    } else if (!parsed->NamesTheRange()) {
      reader.Report("key",
                    "must contain {first} and {last}, so that every batch gets its own "
                    "name and a replay rewrites the same object");
    } else {
      settings->key = std::move(*parsed);
    }
  }
  ReadFormat(reader, &settings->format);
  ReadCsv(reader, settings->format, &settings->csv);
  ReadCompression(reader, &settings->compression);
  if (std::optional<uint64_t> part = config::ReadByteSize(
          reader, "part_size", kMaxPartSize, "must be at most 5GiB (S3's part limit)")) {
    if (*part < kMinPartSize) {
      reader.Report("part_size", "must be at least 5MiB (S3's smallest part)");
    } else {
      settings->part_size = *part;
    }
  }
  if (std::optional<std::string> sse =
          reader.Choice("server_side_encryption", Need::kOptional, "server-side encryption",
                        kServerSideEncryptions)) {
    settings->server_side_encryption = *sse;
  }
  if (std::optional<std::string> kms = reader.NonEmptyString("kms_key_id", Need::kOptional)) {
    if (settings->server_side_encryption != "aws:kms") {
      reader.Report("kms_key_id", "needs server_side_encryption = \"aws:kms\"");
    } else {
      settings->kms_key_id = *kms;
    }
  }
}

std::unique_ptr<component::SinkConfig> ReadS3Sink(TableReader& reader,
                                                  const component::SinkReadContext&) {
  auto sink = std::make_unique<S3SinkConfig>();
  config::ReadRole(reader, &sink->role);
  ReadS3Settings(reader, &sink->objects);
  return sink;
}

Result<std::shared_ptr<Emitter>> S3SinkConfig::Build(const component::SinkContext& context) const {
  auto aws = aws::MakeAwsContext(aws::WithRole(context.aws, role));
  if (!aws) return Fail(aws.error());
  return std::make_shared<S3Emitter>(std::make_shared<aws::S3Client>(aws::MakeS3Client(*aws)),
                                     objects);
}

component::Checks S3SinkConfig::Check(const component::CheckContext& context) const {
  auto aws = aws::MakeAwsContext(aws::WithRole(context.aws, role));
  if (!aws) return {{"bucket " + objects.bucket, Fail(aws.error())}};
  return {component::ProbeBucket(*aws, context.retry, objects.bucket)};
}

}  // namespace kc::emitter
