#include "sinks/util/csv.h"

#include <vector>

namespace kc::emitter {
namespace {

void AppendValue(std::string& out, std::string_view text, char delimiter, bool always_quote) {
  const char special[] = {delimiter, '"', '\r', '\n'};
  // A lone "\." is PostgreSQL's end-of-data marker: quoted, it is data.
  const bool quote = always_quote || text == "\\." ||
                     text.find_first_of(std::string_view(special, 4)) != std::string_view::npos;
  if (!quote) {
    out += text;
    return;
  }
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

Status AppendCsvRow(std::string& out, std::string_view json,
                    std::span<const util::JsonPath> columns, char delimiter) {
  thread_local std::vector<util::JsonField> fields;
  if (auto s = util::ReadJsonFields(json, columns, fields); !s) return s;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(delimiter);
    const util::JsonField& field = fields[i];
    switch (field.kind) {
      case util::JsonField::Kind::kMissing:
      case util::JsonField::Kind::kNull:
        break;
      case util::JsonField::Kind::kString:
        // An empty string is quoted: unquoted, it would read as NULL.
        AppendValue(out, field.text, delimiter, field.text.empty());
        break;
      case util::JsonField::Kind::kNumber:
      case util::JsonField::Kind::kBool:
      case util::JsonField::Kind::kObject:
      case util::JsonField::Kind::kArray:
        AppendValue(out, field.text, delimiter, false);
        break;
    }
  }
  out.push_back('\n');
  return Ok();
}

}  // namespace kc::emitter
