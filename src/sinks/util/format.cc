#include "sinks/util/format.h"

#include "base/base64.h"
#include "base/compression.h"
#include "base/json_writer.h"
#include "sinks/util/csv.h"

namespace kc::emitter {
std::string PositionName(const ShardPosition& p) {
  if (p.sub_sequence_number == 0) return p.sequence_number;
  return p.sequence_number + "." + std::to_string(p.sub_sequence_number);
}

Result<CsvColumns> CsvColumns::Parse(const std::vector<std::string>& fields, char delimiter) {
  CsvColumns columns;
  columns.delimiter = delimiter;
  for (const std::string& field : fields) {
    auto path = util::JsonPath::Parse(field);
    if (!path) return Fail(ErrorCode::kConfig, "csv fields: " + path.error().message());
    columns.paths.push_back(std::move(*path));
  }
  return columns;
}

Status WriteFormatted(ByteSink& out, const Batch& batch, FileFormat format, const CsvColumns& csv) {
  switch (format) {
    case FileFormat::kLines:
      for (const auto& r : batch.records) {
        out.Append(r.data);
        out.Append("\n");
      }
      return Ok();
    case FileFormat::kRaw:
      for (const auto& r : batch.records) out.Append(r.data);
      return Ok();
    case FileFormat::kCsv: {
      std::string row;
      for (const auto& r : batch.records) {
        row.clear();
        if (auto s = AppendCsvRow(row, r.data, csv.paths, csv.delimiter); !s) {
          return Fail(ErrorCode::kInvalidArgument,
                      "bad record in shard " + batch.shard_id + " at sequence number " +
                          PositionName(r.position()) + ": " + s.error().message() +
                          " (the csv format needs JSON objects)");
        }
        out.Append(row);
      }
      return Ok();
    }
    case FileFormat::kEnvelope: {
      util::JsonWriter w;
      for (const auto& r : batch.records) {
        w.Clear();
        w.BeginObject()
            .Field("shard_id", batch.shard_id)
            .Field("sequence_number", r.sequence_number)
            .Field("sub_sequence_number", r.sub_sequence_number)
            .Field("partition_key", r.partition_key)
            .Field("approximate_arrival_timestamp", r.approximate_arrival_ms)
            .Field("data", util::Base64Encode(r.data))
            .EndObject();
        out.Append(w.str());
        out.Append("\n");
      }
      return Ok();
    }
  }
  return Ok();
}

Status AppendFormatted(std::string& out, const Batch& batch, FileFormat format,
                       const CsvColumns& csv) {
  struct StringSink final : ByteSink {
    explicit StringSink(std::string& target) : out(target) {}
    void Append(std::string_view data) override { out += data; }
    std::string& out;
  } sink(out);
  return WriteFormatted(sink, batch, format, csv);
}

Result<std::string> EncodeBatch(const Batch& batch, FileFormat format, Compression compression,
                                const CsvColumns& csv) {
  std::string body;
  body.reserve(batch.bytes + batch.records.size() * (format == FileFormat::kEnvelope ? 200 : 1));
  if (auto s = AppendFormatted(body, batch, format, csv); !s) return Fail(s.error());
  if (compression == Compression::kNone) return body;
  return util::Compress(body, compression);
}

std::string EncodedExtension(FileFormat format, Compression compression) {
  return std::string(FormatExtension(format)) + util::CompressionExtension(compression);
}

std::string EncodingName(FileFormat format, Compression compression) {
  std::string name = FormatName(format);
  if (compression != Compression::kNone)
    name += std::string(", ") + util::CompressionName(compression);
  return name;
}

const char* FormatExtension(FileFormat format) {
  switch (format) {
    case FileFormat::kLines:
      return "txt";
    case FileFormat::kRaw:
      return "bin";
    case FileFormat::kEnvelope:
      return "jsonl";
    case FileFormat::kCsv:
      return "csv";
  }
  return "txt";
}

const char* FormatName(FileFormat format) {
  switch (format) {
    case FileFormat::kLines:
      return "lines";
    case FileFormat::kRaw:
      return "raw";
    case FileFormat::kEnvelope:
      return "envelope";
    case FileFormat::kCsv:
      return "csv";
  }
  return "lines";
}

std::string BatchRangeName(const Batch& batch) {
  return PositionName(batch.first) + "-" + PositionName(batch.last);
}

}  // namespace kc::emitter
