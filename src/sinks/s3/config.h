// [pipeline.emitter] type = "s3": one object per batch, under a key that
// names the batch's range.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "component/sink.h"
#include "kc/record_format.h"
#include "sinks/util/format.h"
#include "sinks/util/key_template.h"

namespace kc::emitter {

// "{yyyy}/{MM}/{dd}/{first}-{last}", the original library's object names.
const KeyTemplate& DefaultObjectKey();

// How batches become objects; the s3_manifest sink writes them the same way.
struct S3Settings {
  std::string bucket;
  std::string prefix;                    // keys start with it (and a '/')
  KeyTemplate key = DefaultObjectKey();  // names the batch's range
  FileFormat format = FileFormat::kLines;
  CsvColumns csv;  // with format kCsv
  Compression compression = Compression::kNone;
  uint64_t part_size = 8ull << 20;     // multipart upload above this size
  std::string server_side_encryption;  // "" | "AES256" | "aws:kms"
  std::string kms_key_id;              // with "aws:kms"
};

// bucket, prefix, key, format, fields, delimiter, compression, part_size,
// server_side_encryption and kms_key_id.
void ReadS3Settings(config::TableReader& reader, S3Settings* settings);

struct S3SinkConfig final : component::SinkConfig {
  S3Settings objects;
  // role_arn (external_id, role_session_name): the sink writes as this
  // role, e.g. into another account. Empty: as the pipeline reads.
  AwsRole role;

  Result<std::shared_ptr<Emitter>> Build(const component::SinkContext& context) const override;
  component::Checks Check(const component::CheckContext& context) const override;
};

std::unique_ptr<component::SinkConfig> ReadS3Sink(config::TableReader& table,
                                                  const component::SinkReadContext& context);

}  // namespace kc::emitter
