// Fuzz entry point for CSV rows from JSON records: any byte string is either
// a bad record (and nothing is written) or one row that an RFC 4180 reader
// splits back into one value per column. simdjson's own validating parser
// is the referee for what is JSON: an object it accepts must give a row, and
// a record that gives a row must be JSON to it too (but for numbers too big
// for it to convert, which JSON allows).
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_fields.h"
#include "sinks/util/csv.h"

namespace {

const std::vector<kc::util::JsonPath>& Columns() {
  static const std::vector<kc::util::JsonPath> columns = [] {
    std::vector<kc::util::JsonPath> paths;
    for (const char* text : {"a", "b.c", "d", "a\\.b"})
      paths.push_back(*kc::util::JsonPath::Parse(text));
    return paths;
  }();
  return columns;
}

// Splits one RFC 4180 row (ending in "\n") into its values; nullopt when malformed.
std::optional<std::vector<std::string>> SplitRow(std::string_view row) {
  std::vector<std::string> values(1);
  size_t i = 0;
  bool quoted_value = false;
  while (i < row.size()) {
    const char c = row[i];
    if (c == '"' && values.back().empty() && !quoted_value) {
      quoted_value = true;
      ++i;
      for (;;) {
        if (i >= row.size()) return std::nullopt;
        if (row[i] == '"') {
          if (i + 1 < row.size() && row[i + 1] == '"') {
            values.back().push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        values.back().push_back(row[i++]);
      }
      if (i >= row.size() || (row[i] != ',' && row[i] != '\n')) return std::nullopt;
    } else if (c == ',') {
      values.emplace_back();
      quoted_value = false;
      ++i;
    } else if (c == '\n') {
      return i + 1 == row.size() ? std::optional(values) : std::nullopt;
    } else if (c == '"' || c == '\r') {
      return std::nullopt;  // must have been quoted
    } else {
      values.back().push_back(c);
      ++i;
    }
  }
  return std::nullopt;  // no final newline
}

// True when `json` holds a number simdjson's DOM cannot convert although it is
// valid JSON: an integer of 20 digits or more, or an exponent of 3 digits.
bool HasHugeNumber(std::string_view json) {
  size_t digits = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    digits = (c >= '0' && c <= '9') ? digits + 1 : 0;
    if (digits >= 20) return true;
    if ((c == 'e' || c == 'E') && i + 1 < json.size()) {
      size_t j = i + 1;
      if (json[j] == '+' || json[j] == '-') ++j;
      size_t exponent = 0;
      while (j < json.size() && json[j] >= '0' && json[j] <= '9') ++j, ++exponent;
      if (exponent >= 3) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  std::string out = "x";
  auto row = kc::emitter::AppendCsvRow(out, json, Columns(), ',');

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const simdjson::error_code dom_error = parser.parse(json.data(), json.size()).get(root);
  const bool dom_object = !dom_error && root.is_object();

  if (!row) {
    if (out != "x") __builtin_trap();
    if (row.error().message().empty()) __builtin_trap();
    if (dom_object) __builtin_trap();
    return 0;
  }
  if (dom_error && !(dom_error == simdjson::NUMBER_ERROR && HasHugeNumber(json))) __builtin_trap();
  if (!dom_error && !dom_object) __builtin_trap();
  if (!kc::util::ValidateJson(json)) __builtin_trap();
  auto values = SplitRow(std::string_view(out).substr(1));
  if (!values || values->size() != Columns().size()) __builtin_trap();
  if (dom_object) {
    std::string_view a;
    if (root["a"].get(a) == simdjson::SUCCESS && (*values)[0] != a) __builtin_trap();
  }
  return 0;
}
