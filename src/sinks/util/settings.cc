#include "sinks/util/settings.h"

#include <array>
#include <string_view>
#include <utility>

namespace kc::emitter {
namespace {

using config::Need;
using config::TableReader;

constexpr std::array<std::string_view, 4> kFileFormats = {"lines", "raw", "envelope", "csv"};
constexpr std::array<std::string_view, 3> kCompressions = {"none", "gzip", "zstd"};

}  // namespace

void ReadFormat(TableReader& reader, FileFormat* format) {
  std::optional<std::string> value =
      reader.Choice("format", Need::kOptional, "format", kFileFormats);
  if (!value) return;
  if (*value == "lines") *format = FileFormat::kLines;
  if (*value == "raw") *format = FileFormat::kRaw;
  if (*value == "envelope") *format = FileFormat::kEnvelope;
  if (*value == "csv") *format = FileFormat::kCsv;
}

void ReadCsv(TableReader& reader, FileFormat format, CsvColumns* columns) {
  const bool csv = format == FileFormat::kCsv;
  if (!csv) {
    for (std::string_view key : {"fields", "delimiter"}) {
      if (reader.Get(key, Need::kOptional) != nullptr) {
        reader.Report(key, "'" + std::string(key) + "' is only used with format = \"csv\"");
      }
    }
    return;
  }
  if (const toml::node* node = reader.Get("fields", Need::kOptional)) {
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      reader.ReportWrongType("fields", *node,
                             "an array of field paths, e.g. [\"id\", \"user.name\"]");
    } else if (array->empty()) {
      reader.Report("fields", "must name at least one field, e.g. [\"id\", \"user.name\"]");
    } else {
      for (const toml::node& element : *array) {
        const toml::value<std::string>* text = element.as_string();
        if (text == nullptr) {
          reader.Report("fields", "expected field paths as strings, got " +
                                      std::string(config::TypeName(element.type())));
          columns->paths.clear();
          break;
        }
        Result<util::JsonPath> path = util::JsonPath::Parse(text->get());
        if (!path) {
          reader.Report("fields", path.error().message());
          columns->paths.clear();
          break;
        }
        columns->paths.push_back(std::move(*path));
      }
    }
  } else {
    reader.Report("fields",
                  "format = \"csv\" needs the columns to write: add fields = [\"id\", "
                  "\"user.name\"] (dotted paths into each JSON record)");
  }
  if (std::optional<std::string> delimiter = reader.String("delimiter", Need::kOptional)) {
    if (delimiter->size() != 1 || *delimiter == "\"" || *delimiter == "\r" || *delimiter == "\n" ||
        static_cast<unsigned char>(delimiter->front()) >= 0x80) {
      reader.Report("delimiter",
                    "must be one ASCII character other than a double quote, CR or LF, e.g. "
                    "\",\", \";\", \"|\" or \"\\t\"");
    } else {
      columns->delimiter = delimiter->front();
    }
  }
}

void ReadCompression(TableReader& reader, Compression* compression) {
  std::optional<std::string> value =
      reader.Choice("compression", Need::kOptional, "compression", kCompressions);
  if (!value) return;
  if (*value == "none") *compression = Compression::kNone;
  if (*value == "gzip") *compression = Compression::kGzip;
  if (*value == "zstd") *compression = Compression::kZstd;
}

bool IsBucketName(std::string_view name) {
  // 3 to 63 of lowercase letters, digits, '.' and '-'.
  bool ok = name.size() >= 3 && name.size() <= 63;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-');
  }
  return ok;
}

void ReadBucket(TableReader& reader, std::string* out) {
  if (std::optional<std::string> bucket = reader.NonEmptyString("bucket", Need::kRequired)) {
    if (IsBucketName(*bucket)) {
      *out = *bucket;
    } else {
      reader.Report("bucket", kBucketRule);
    }
  }
}

void ReadKeyPrefix(TableReader& reader, std::string_view key, std::string_view why,
                   std::string* out) {
  std::optional<std::string> prefix = reader.String(key, Need::kOptional);
  if (!prefix) return;
  if (prefix->starts_with('/')) {
    reader.Report(key, "must not start with '/': " + std::string(why));
  } else {
    *out = *prefix;
  }
}

void ReadServiceLocation(TableReader& reader, std::string* region, std::string* endpoint) {
  if (std::optional<std::string> name = config::ReadRegion(reader)) *region = *name;
  config::ReadUrl(reader, "endpoint", endpoint);
}

}  // namespace kc::emitter
