// Fields of JSON records, named by dotted paths: the one way the CSV format,
// the JSON transformer and the JSON field filter read records.
//
// A path is a field name, or names separated by dots: "user.id" is the field
// "id" of the object in the field "user". A dot or backslash that is part of
// a name is escaped with a backslash: "a\.b" is the field "a.b", "a\\b" the
// field "a\b". Paths are parsed once, when the configuration is read.
//
// Records are parsed with simdjson and validated completely (any JSON, with
// integers of any size). When a name occurs twice in one object, the first
// occurrence counts.
//
// Thread-safety: the functions keep one parser per thread; JsonPath is a
// plain value.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kc/status.h"

namespace kc::util {

class JsonPath {
 public:
  // Errors (kInvalidArgument) quote `text` and say how to write it.
  static Result<JsonPath> Parse(std::string_view text);

  const std::string& text() const { return text_; }
  // The unescaped names, outermost first; never empty, no name is empty.
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::string text_;
  std::vector<std::string> names_;
};

// What a path leads to in one record.
struct JsonField {
  enum class Kind { kMissing, kNull, kString, kNumber, kBool, kObject, kArray };
  Kind kind = Kind::kMissing;
  // kString: the unescaped string; kNumber: the number as written;
  // kBool: "true" or "false"; kObject, kArray: compact JSON text; else empty.
  std::string text;
};

// RFC 8259's number grammar: true when `text` is exactly one JSON number,
// of any size.
bool IsJsonNumber(std::string_view text);

// OK when `json` is one complete JSON document (of any type); otherwise
// kParse with the reason, e.g. "not valid JSON: ...".
Status ValidateJson(std::string_view json);

// Validates `json`, which must be a JSON object, and looks up every path:
// `out` gets one JsonField per path, in order. kParse with the reason when
// `json` is not valid JSON or not an object; `out` is then unspecified.
Status ReadJsonFields(std::string_view json, std::span<const JsonPath> paths,
                      std::vector<JsonField>& out);

}  // namespace kc::util
