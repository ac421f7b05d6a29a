// Readers of the settings several sinks share: how a batch is laid out in a
// file or object (format, CSV columns, compression) and S3 bucket names.
// Each reports its problems to the table it reads, with line and key.
#pragma once

#include <string>

#include "config/reader.h"
#include "kc/record_format.h"
#include "sinks/util/format.h"

namespace kc::emitter {

// format = "lines" | "raw" | "envelope" | "csv".
void ReadFormat(config::TableReader& reader, FileFormat* format);
// fields and delimiter, which belong to format = "csv" (and are refused
// with any other): the columns, parsed. Call after ReadFormat.
void ReadCsv(config::TableReader& reader, FileFormat format, CsvColumns* csv);
// compression = "none" | "gzip" | "zstd".
void ReadCompression(config::TableReader& reader, Compression* compression);
// region and endpoint of a sink's service (kinesis, dynamodb), when it is
// elsewhere than [aws] says; both optional.
void ReadServiceLocation(config::TableReader& reader, std::string* region, std::string* endpoint);
// bucket, required: an S3 bucket name.
void ReadBucket(config::TableReader& reader, std::string* bucket);
bool IsBucketName(std::string_view name);
// `key` (optional): the start of object keys, which must not start with '/';
// `why` ends the problem reported ("it is the start of a key ..."). Sets
// `out` when the value is good.
void ReadKeyPrefix(config::TableReader& reader, std::string_view key, std::string_view why,
                   std::string* out);
inline constexpr char kBucketRule[] =
    "must be an S3 bucket name: 3 to 63 lowercase letters, digits, '.' and '-'";

}  // namespace kc::emitter
