// JSON records → DynamoDB items, in DynamoDB's typed JSON:
//   {"id": "a1", "n": 12.50, "tags": ["x"], "ok": true}
//   → {"id": {"S": "a1"}, "n": {"N": "12.50"}, "tags": {"L": [{"S": "x"}]}, "ok": {"BOOL": true}}
//
// Each top-level field of a record (a JSON object) becomes an attribute.
// Types are inferred (string S, number N, boolean BOOL, null NULL, array L,
// object M) unless declared for the attribute: S (a number or boolean is
// written as its text), N (a string holding a number is accepted), B (a
// string of base64), BOOL. Key attributes take the type of the table's
// key. Numbers keep their text; DynamoDB's limits (38 significant digits,
// magnitudes 1e-130 to 1e126) are checked here, so one bad number is a bad
// record rather than a refused request of 25 items.
//
// Thread-safety: ItemSchema is a plain value; Convert may run concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "kc/status.h"

namespace kc::dynamodb {

enum class AttributeType { kInfer, kS, kN, kB, kBool };

// "S", "N", "B", "BOOL" (as in config and in DescribeTable); nullopt otherwise.
std::optional<AttributeType> ParseAttributeType(std::string_view name);

struct ItemSchema {
  std::string hash_key;
  AttributeType hash_type = AttributeType::kS;
  std::string range_key;  // empty: none
  AttributeType range_type = AttributeType::kS;
  std::map<std::string, AttributeType, std::less<>> declared;  // attribute → type
};

struct Item {
  std::string json;  // the typed JSON object
  // The key's values in a canonical form (numbers normalised: 1.0 and 1
  // are one key to DynamoDB), for finding duplicates within a batch.
  std::string key;
  uint64_t size = 0;  // as DynamoDB counts an item's size (names and values)
};

// DynamoDB's largest item.
inline constexpr uint64_t kMaxItemBytes = 400 * 1024;

// Converts one record. Errors (kInvalidArgument) say what is wrong with the
// record, e.g. "key attribute 'id' is missing"; the caller adds which record.
Result<Item> ConvertRecord(std::string_view json, const ItemSchema& schema);

// The canonical key of an item in typed JSON (as BatchWriteItem's
// UnprocessedItems hands items back); nullopt when a key is missing.
std::optional<std::string> KeyOfTypedItem(std::string_view typed_item_json,
                                          const ItemSchema& schema);

// A JSON number's canonical form ("-1.50e2" → "-15e1"), or nullopt when
// `text` is not a number or is outside DynamoDB's range and precision.
std::optional<std::string> CanonicalNumber(std::string_view text);

}  // namespace kc::dynamodb
