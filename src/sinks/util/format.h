// How a batch becomes bytes, shared by every sink that stores bytes (files,
// standard output, and later S3).
//
// - lines:    each record's data followed by "\n";
// - raw:      the records' data concatenated, as the original library wrote;
// - envelope: one JSON object per line with exactly the keys shard_id,
//             sequence_number, sub_sequence_number, partition_key,
//             approximate_arrival_timestamp (ms since the epoch) and data
//             (base64), so binary records survive and nothing is lost;
// - csv:      one RFC 4180 row per record, which must be a JSON object (see
//             emitter/csv.h); a record that is not is a bad record.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json_fields.h"
#include "kc/record.h"
#include "kc/record_format.h"
#include "kc/status.h"

namespace kc::emitter {

// The csv format's columns, parsed once from the emitter's configuration.
struct CsvColumns {
  std::vector<util::JsonPath> paths;
  char delimiter = ',';
  // kConfig naming the path that does not parse.
  static Result<CsvColumns> Parse(const std::vector<std::string>& fields, char delimiter);
};

// Where formatted bytes go, record by record: a string, a file being written.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void Append(std::string_view data) = 0;
};

// Formats `batch` into `out`. Fails only for csv, with kParse naming the
// record that is not a JSON object; `out` then holds the rows of the records
// before it.
Status WriteFormatted(ByteSink& out, const Batch& batch, FileFormat format,
                      const CsvColumns& csv = {});
// WriteFormatted, appending to a string.
Status AppendFormatted(std::string& out, const Batch& batch, FileFormat format,
                       const CsvColumns& csv = {});
// The batch as a sink stores it: formatted, then compressed whole.
Result<std::string> EncodeBatch(const Batch& batch, FileFormat format, Compression compression,
                                const CsvColumns& csv = {});
// The extension of an encoded batch, without the dot: "txt", "jsonl.gz", "bin.zst".
std::string EncodedExtension(FileFormat format, Compression compression);
// For logs: "envelope", "lines, gzip".
std::string EncodingName(FileFormat format, Compression compression);
// The file name extension for `format`, without the dot: "txt", "bin", "jsonl".
const char* FormatExtension(FileFormat format);
const char* FormatName(FileFormat format);

// A position in a name: the sequence number, with ".<sub>" appended when the
// sub-sequence is set.
std::string PositionName(const ShardPosition& position);
// A deterministic name for a batch: "<first>-<last>".
std::string BatchRangeName(const Batch& batch);

}  // namespace kc::emitter
