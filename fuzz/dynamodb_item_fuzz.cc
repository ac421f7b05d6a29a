// Fuzz entry point for JSON records → DynamoDB items: any byte string is
// either a bad record with a message, or an item that is itself valid JSON,
// a typed value per attribute, whose key reads back from the item as
// UnprocessedItems would hand it back, and whose record was valid JSON.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/json_fields.h"
#include "clients/dynamodb/item.h"

namespace {

const kc::dynamodb::ItemSchema& Schema() {
  static const kc::dynamodb::ItemSchema schema = [] {
    kc::dynamodb::ItemSchema s;
    s.hash_key = "id";
    s.hash_type = kc::dynamodb::AttributeType::kS;
    s.range_key = "n";
    s.range_type = kc::dynamodb::AttributeType::kN;
    s.declared = {{"b", kc::dynamodb::AttributeType::kB},
                  {"t", kc::dynamodb::AttributeType::kBool},
                  {"s", kc::dynamodb::AttributeType::kS}};
    return s;
  }();
  return schema;
}

bool IsTypedValue(simdjson::dom::element v) {
  simdjson::dom::object o;
  if (v.get(o) != simdjson::SUCCESS || o.size() != 1) return false;
  for (auto [type, inner] : o) {
    if (type == "L") {
      simdjson::dom::array a;
      if (inner.get(a) != simdjson::SUCCESS) return false;
      for (simdjson::dom::element e : a) {
        if (!IsTypedValue(e)) return false;
      }
    } else if (type == "M") {
      simdjson::dom::object m;
      if (inner.get(m) != simdjson::SUCCESS) return false;
      for (auto [key, e] : m) {
        if (!IsTypedValue(e)) return false;
      }
    } else if (type == "S" || type == "N" || type == "B") {
      if (!inner.is_string()) return false;
    } else if (type == "BOOL" || type == "NULL") {
      if (!inner.is_bool()) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto item = kc::dynamodb::ConvertRecord(json, Schema());
  if (!item) {
    if (item.error().message().empty()) __builtin_trap();
    return 0;
  }
  if (!kc::util::ValidateJson(json)) __builtin_trap();
  simdjson::dom::parser parser;
  simdjson::dom::object typed;
  if (parser.parse(item->json).get(typed) != simdjson::SUCCESS) __builtin_trap();
  for (auto [name, value] : typed) {
    if (name.empty() || !IsTypedValue(value)) __builtin_trap();
  }
  if (kc::dynamodb::KeyOfTypedItem(item->json, Schema()) != item->key) __builtin_trap();
  return 0;
}
