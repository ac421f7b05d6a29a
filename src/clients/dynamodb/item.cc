#include "clients/dynamodb/item.h"

#include <simdjson.h>

#include <set>
#include <utility>

#include "base/base64.h"
#include "base/json_fields.h"
#include "base/json_on_demand.h"
#include "base/json_writer.h"

namespace kc::dynamodb {
namespace {

namespace od = simdjson::ondemand;

// DynamoDB nests lists and maps 32 deep.
constexpr int kMaxDepth = 32;

const char* TypeName(AttributeType t) {
  switch (t) {
    case AttributeType::kS:
      return "S";
    case AttributeType::kN:
      return "N";
    case AttributeType::kB:
      return "B";
    case AttributeType::kBool:
      return "BOOL";
    case AttributeType::kInfer:
      break;
  }
  return "inferred";
}

// DynamoDB's size of a number: about one byte per two significant digits, plus one.
uint64_t NumberSize(std::string_view canonical) {
  size_t digits = 0;
  for (char c : canonical) {
    if (c == 'e') break;
    if (c >= '0' && c <= '9') ++digits;
  }
  return (digits + 1) / 2 + 1;
}

// Writes one value as typed JSON and counts its size.
class Converter {
 public:
  explicit Converter(util::JsonWriter& w) : w_(w) {}

  // A value whose type is inferred.
  Status Value(od::value value, int depth, uint64_t* size) {
    if (depth > kMaxDepth) return Problem("lists and maps nest deeper than 32 levels");
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return Invalid();
    switch (type) {
      case od::json_type::string: {
        std::string_view s;
        if (value.get_string().get(s) != simdjson::SUCCESS) return Invalid();
        w_.BeginObject().Field("S", s).EndObject();
        *size += s.size();
        return Ok();
      }
      case od::json_type::number: {
        const std::string_view token = util::TrimJsonSpace(value.raw_json_token());
        auto canonical = Number(token);
        if (!canonical) return Fail(canonical.error());
        w_.BeginObject().Field("N", token).EndObject();
        *size += NumberSize(*canonical);
        return Ok();
      }
      case od::json_type::boolean: {
        bool b = false;
        if (value.get_bool().get(b) != simdjson::SUCCESS) return Invalid();
        w_.BeginObject().Field("BOOL", b).EndObject();
        *size += 1;
        return Ok();
      }
      case od::json_type::null: {
        bool is_null = false;
        if (value.is_null().get(is_null) != simdjson::SUCCESS || !is_null) return Invalid();
        w_.BeginObject().Field("NULL", true).EndObject();
        *size += 1;
        return Ok();
      }
      case od::json_type::array: {
        od::array array;
        if (value.get_array().get(array) != simdjson::SUCCESS) return Invalid();
        w_.BeginObject().Key("L").BeginArray();
        *size += 3;
        for (auto element : array) {
          od::value v;
          if (std::move(element).get(v) != simdjson::SUCCESS) return Invalid();
          if (auto s = Value(v, depth + 1, size); !s) return s;
          *size += 1;
        }
        w_.EndArray().EndObject();
        return Ok();
      }
      case od::json_type::object: {
        od::object object;
        if (value.get_object().get(object) != simdjson::SUCCESS) return Invalid();
        w_.BeginObject().Key("M").BeginObject();
        *size += 3;
        std::set<std::string, std::less<>> names;
        for (auto member : object) {
          od::field field;
          std::string_view key;
          if (std::move(member).get(field) != simdjson::SUCCESS ||
              field.unescaped_key().get(key) != simdjson::SUCCESS) {
            return Invalid();
          }
          if (!names.emplace(key).second) {
            return Problem("the name '" + std::string(key.substr(0, 64)) +
                           "' occurs twice in one object");
          }
          w_.Key(key);
          *size += key.size() + 1;
          if (auto s = Value(field.value(), depth + 1, size); !s) return s;
        }
        w_.EndObject().EndObject();
        return Ok();
      }
    }
    return Invalid();
  }

  // A value of a declared (or key) type. `text` gets its canonical text.
  Status Typed(od::value value, AttributeType type, std::string_view name, uint64_t* size,
               std::string* text) {
    od::json_type json_type;
    if (value.type().get(json_type) != simdjson::SUCCESS) return Invalid();
    std::string_view token;
    if (json_type == od::json_type::string) {
      if (value.get_string().get(token) != simdjson::SUCCESS) return Invalid();
    } else if (json_type == od::json_type::number) {
      token = util::TrimJsonSpace(value.raw_json_token());
    } else if (json_type == od::json_type::boolean) {
      bool b = false;
      if (value.get_bool().get(b) != simdjson::SUCCESS) return Invalid();
      token = b ? "true" : "false";
    }
    auto mismatch = [&](const char* wants) {
      return Problem("attribute '" + std::string(name) + "' is declared " + TypeName(type) +
                     " but holds " + util::JsonTypeName(json_type) + "; it needs " + wants);
    };
    switch (type) {
      case AttributeType::kS:
        if (json_type == od::json_type::number) {
          // Written as text: only JSON's grammar applies, not DynamoDB's number limits.
          if (!util::IsJsonNumber(token)) return Invalid();
        } else if (json_type != od::json_type::string && json_type != od::json_type::boolean) {
          return mismatch("a string, number or boolean");
        }
        w_.BeginObject().Field("S", token).EndObject();
        *size += token.size();
        *text = "S" + std::string(token);
        return Ok();
      case AttributeType::kN: {
        if (json_type != od::json_type::number && json_type != od::json_type::string) {
          return mismatch("a number, or a string holding one");
        }
        auto canonical = Number(token);
        if (!canonical) {
          return json_type == od::json_type::string ? mismatch("a number, or a string holding one")
                                                    : Fail(canonical.error());
        }
        w_.BeginObject().Field("N", token).EndObject();
        *size += NumberSize(*canonical);
        *text = "N" + *canonical;
        return Ok();
      }
      case AttributeType::kB: {
        if (json_type != od::json_type::string) return mismatch("a string of base64");
        auto bytes = util::Base64Decode(token);
        if (!bytes) return mismatch("a string of base64");
        w_.BeginObject().Field("B", token).EndObject();
        *size += bytes->size();
        *text = "B" + *bytes;  // "QQ==" and "QR==" are the same bytes
        return Ok();
      }
      case AttributeType::kBool:
        if (json_type != od::json_type::boolean) return mismatch("true or false");
        w_.BeginObject().Field("BOOL", token == "true").EndObject();
        *size += 1;
        *text = std::string(token);
        return Ok();
      case AttributeType::kInfer:
        break;
    }
    return Value(value, 1, size);
  }

  static Status Problem(std::string message) {
    return Fail(ErrorCode::kInvalidArgument, std::move(message));
  }
  static Status Invalid() { return Problem("the record is not valid JSON"); }

 private:
  static Result<std::string> Number(std::string_view token) {
    if (!util::IsJsonNumber(token)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "'" + std::string(token.substr(0, 64)) + "' is not a number");
    }
    auto canonical = CanonicalNumber(token);
    if (!canonical) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the number " + std::string(token.substr(0, 64)) +
                      " is beyond DynamoDB's 38 significant digits or its range (1e-130 to "
                      "1e126)");
    }
    return std::move(*canonical);
  }

  util::JsonWriter& w_;
};

// The key's parts, each prefixed by its length: values may hold any byte,
// so no separator could keep two different keys apart.
std::string KeyOf(const std::string& hash, const std::string& range) {
  return std::to_string(hash.size()) + ":" + hash + range;
}

}  // namespace

std::optional<AttributeType> ParseAttributeType(std::string_view name) {
  if (name == "S") return AttributeType::kS;
  if (name == "N") return AttributeType::kN;
  if (name == "B") return AttributeType::kB;
  if (name == "BOOL") return AttributeType::kBool;
  return std::nullopt;
}

std::optional<std::string> CanonicalNumber(std::string_view text) {
  if (!util::IsJsonNumber(text)) return std::nullopt;
  size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative) ++i;
  std::string digits;
  int64_t exponent = 0;  // value = digits × 10^exponent
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) digits.push_back(text[i]);
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      digits.push_back(text[i]);
      --exponent;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool minus = false;
    if (text[i] == '+' || text[i] == '-') minus = text[i++] == '-';
    int64_t e = 0;
    for (; i < text.size(); ++i) {
      if (e < 1'000'000'000) e = e * 10 + (text[i] - '0');
    }
    exponent += minus ? -e : e;
  }
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return std::string("0");
  digits.erase(0, first);
  while (digits.back() == '0') {
    digits.pop_back();
    ++exponent;
  }
  if (digits.size() > 38) return std::nullopt;
  const int64_t magnitude = exponent + static_cast<int64_t>(digits.size()) - 1;
  if (magnitude < -130 || magnitude > 125) return std::nullopt;
  return (negative ? "-" : "") + digits + "e" + std::to_string(exponent);
}

Result<Item> ConvertRecord(std::string_view json, const ItemSchema& schema) {
  od::document doc;
  od::json_type type;
  od::object object;
  auto error = util::ThisThreadJsonParser().Iterate(json).get(doc);
  if (!error) error = doc.type().get(type);
  if (!error && type != od::json_type::object) {
    // ValidateJson reuses this thread's parser: `doc` is not touched after it.
    if (auto valid = util::ValidateJson(json); !valid) {
      return Fail(ErrorCode::kInvalidArgument, "the record is " + valid.error().message());
    }
    return Fail(ErrorCode::kInvalidArgument,
                std::string("the record is not a JSON object but ") + util::JsonTypeName(type));
  }
  if (!error) error = doc.get_object().get(object);
  if (error) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string("the record is not valid JSON: ") + simdjson::error_message(error));
  }
  util::JsonWriter w;
  Converter convert(w);
  Item item;
  std::string hash_text;
  std::string range_text;
  bool has_hash = false;
  bool has_range = false;
  std::set<std::string, std::less<>> names;
  w.BeginObject();
  for (auto member : object) {
    od::field field;
    std::string_view name;
    if (std::move(member).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(name) != simdjson::SUCCESS) {
      return Fail(ErrorCode::kInvalidArgument, "the record is not valid JSON");
    }
    if (name.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "a field has an empty name, which DynamoDB refuses");
    }
    if (!names.emplace(name).second) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the field '" + std::string(name.substr(0, 64)) + "' occurs twice");
    }
    w.Key(name);
    item.size += name.size();
    od::value value = field.value();
    Status converted;
    if (name == schema.hash_key || (!schema.range_key.empty() && name == schema.range_key)) {
      const bool is_hash = name == schema.hash_key;
      std::string& text = is_hash ? hash_text : range_text;
      converted = convert.Typed(value, is_hash ? schema.hash_type : schema.range_type, name,
                                &item.size, &text);
      if (converted && text.size() <= 1 && text != "N") {
        // "S" or "B" with nothing after it.
        return Fail(ErrorCode::kInvalidArgument,
                    "key attribute '" + std::string(name) + "' is empty, which DynamoDB refuses");
      }
      // DynamoDB's limits on key values: 2048 bytes for a hash key, 1024 for a range key.
      const size_t limit = is_hash ? 2048 : 1024;
      if (converted && text[0] != 'N' && text.size() - 1 > limit) {
        return Fail(ErrorCode::kInvalidArgument,
                    "key attribute '" + std::string(name) + "' holds " +
                        std::to_string(text.size() - 1) + " bytes; DynamoDB allows " +
                        std::to_string(limit) + " in a " + (is_hash ? "hash" : "range") + " key");
      }
      (is_hash ? has_hash : has_range) = true;
    } else if (auto it = schema.declared.find(name); it != schema.declared.end()) {
      std::string ignored;
      converted = convert.Typed(value, it->second, name, &item.size, &ignored);
    } else {
      converted = convert.Value(value, 1, &item.size);
    }
    if (!converted) return Fail(converted.error());
  }
  // Read to its end, the document has no current location.
  if (doc.current_location().error() == simdjson::SUCCESS) {
    return Fail(ErrorCode::kInvalidArgument,
                "the record is not valid JSON: content after the object");
  }
  w.EndObject();
  if (!has_hash) {
    return Fail(ErrorCode::kInvalidArgument, "key attribute '" + schema.hash_key + "' is missing");
  }
  if (!schema.range_key.empty() && !has_range) {
    return Fail(ErrorCode::kInvalidArgument, "key attribute '" + schema.range_key + "' is missing");
  }
  item.json = w.Take();
  item.key = KeyOf(hash_text, range_text);
  return item;
}

std::optional<std::string> KeyOfTypedItem(std::string_view typed_item_json,
                                          const ItemSchema& schema) {
  simdjson::dom::parser parser;
  simdjson::dom::object item;
  if (parser.parse(typed_item_json.data(), typed_item_json.size()).get(item) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  auto part = [&](const std::string& name, AttributeType type) -> std::optional<std::string> {
    std::string_view text;
    const char* tag = TypeName(type);
    if (item[name][tag].get(text) != simdjson::SUCCESS) return std::nullopt;
    if (type == AttributeType::kN) {
      auto canonical = CanonicalNumber(text);
      if (!canonical) return std::nullopt;
      return "N" + *canonical;
    }
    if (type == AttributeType::kB) {
      auto bytes = util::Base64Decode(text);
      if (!bytes) return std::nullopt;
      return "B" + *bytes;
    }
    return std::string(tag) + std::string(text);
  };
  auto hash = part(schema.hash_key, schema.hash_type);
  if (!hash) return std::nullopt;
  if (schema.range_key.empty()) return KeyOf(*hash, "");
  auto range = part(schema.range_key, schema.range_type);
  if (!range) return std::nullopt;
  return KeyOf(*hash, *range);
}

}  // namespace kc::dynamodb
