// JSON records → DynamoDB typed items: inferred and declared types, keys,
// DynamoDB's limits, and the canonical keys that find duplicates.
#include "clients/dynamodb/item.h"

#include <gtest/gtest.h>

#include <string>

namespace kc::dynamodb {
namespace {

ItemSchema Schema() {
  ItemSchema s;
  s.hash_key = "id";
  s.hash_type = AttributeType::kS;
  return s;
}

std::string Json(std::string_view record, const ItemSchema& schema = Schema()) {
  auto item = ConvertRecord(record, schema);
  EXPECT_TRUE(item) << record << ": " << item.error().ToString();
  return item ? item->json : "";
}

std::string Problem(std::string_view record, const ItemSchema& schema = Schema()) {
  auto item = ConvertRecord(record, schema);
  EXPECT_FALSE(item) << record;
  if (item) return "";
  EXPECT_EQ(item.error().code(), ErrorCode::kInvalidArgument);
  return item.error().message();
}

TEST(DynamoDbItemTest, TypesAreInferredFromJson) {
  EXPECT_EQ(Json(R"({"id":"a1","n":12.50,"big":123456789012345678901234567890,"ok":true,)"
                 R"("none":null,"tags":["x",1,[false]],"m":{"k":{"z":"\u00e9\"q"}},"e":""})"),
            R"({"id":{"S":"a1"},"n":{"N":"12.50"},"big":{"N":"123456789012345678901234567890"},)"
            R"("ok":{"BOOL":true},"none":{"NULL":true},)"
            R"("tags":{"L":[{"S":"x"},{"N":"1"},{"L":[{"BOOL":false}]}]},)"
            "\"m\":{\"M\":{\"k\":{\"M\":{\"z\":{\"S\":\"\xC3\xA9\\\"q\"}}}}},\"e\":{\"S\":\"\"}}");
}

TEST(DynamoDbItemTest, DeclaredTypesConvertOrExplain) {
  ItemSchema s = Schema();
  s.declared = {{"price", AttributeType::kN},
                {"code", AttributeType::kS},
                {"blob", AttributeType::kB},
                {"flag", AttributeType::kBool}};
  EXPECT_EQ(Json(R"({"id":"a","price":"19.90","code":42,"blob":"AAEC","flag":false})", s),
            R"({"id":{"S":"a"},"price":{"N":"19.90"},"code":{"S":"42"},"blob":{"B":"AAEC"},)"
            R"("flag":{"BOOL":false}})");
  EXPECT_EQ(Problem(R"({"id":"a","price":"cheap"})", s),
            "attribute 'price' is declared N but holds a string; it needs a number, or a string "
            "holding one");
  EXPECT_EQ(Problem(R"({"id":"a","blob":"%%%"})", s),
            "attribute 'blob' is declared B but holds a string; it needs a string of base64");
  EXPECT_EQ(Problem(R"({"id":"a","flag":"yes"})", s),
            "attribute 'flag' is declared BOOL but holds a string; it needs true or false");
  EXPECT_EQ(Problem(R"({"id":"a","code":[1]})", s),
            "attribute 'code' is declared S but holds an array; it needs a string, number or "
            "boolean");
}

TEST(DynamoDbItemTest, KeysTakeTheTablesTypesAndMustBePresentAndNonEmpty) {
  ItemSchema s = Schema();
  s.range_key = "ts";
  s.range_type = AttributeType::kN;
  auto item = ConvertRecord(R"({"ts":"1700000000","id":"u1","v":1})", s);
  ASSERT_TRUE(item) << item.error().ToString();
  EXPECT_EQ(item->json, R"({"ts":{"N":"1700000000"},"id":{"S":"u1"},"v":{"N":"1"}})");
  EXPECT_EQ(Problem(R"({"id":"u1"})", s), "key attribute 'ts' is missing");
  EXPECT_EQ(Problem(R"({"ts":1})", s), "key attribute 'id' is missing");
  EXPECT_EQ(Problem(R"({"id":"","ts":1})", s),
            "key attribute 'id' is empty, which DynamoDB refuses");
  EXPECT_EQ(Problem(R"({"id":{"a":1},"ts":1})", s),
            "attribute 'id' is declared S but holds an object; it needs a string, number or "
            "boolean");
  // 1.0, 1 and 10e-1 are one number, so one key.
  auto a = ConvertRecord(R"({"id":"u","ts":1.0})", s);
  auto b = ConvertRecord(R"({"id":"u","ts":10e-1})", s);
  auto c = ConvertRecord(R"({"id":"u","ts":2})", s);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->key, b->key);
  EXPECT_NE(a->key, c->key);
  EXPECT_EQ(KeyOfTypedItem(a->json, s), a->key);
  EXPECT_EQ(KeyOfTypedItem(R"({"id":{"S":"u"},"ts":{"N":"1"}})", s), a->key);
  EXPECT_EQ(KeyOfTypedItem(R"({"id":{"S":"u"}})", s), std::nullopt);
}

TEST(DynamoDbItemTest, NumbersBeyondDynamoDbsLimitsAreBadRecords) {
  EXPECT_EQ(CanonicalNumber("-1.50e2"), "-15e1");
  EXPECT_EQ(CanonicalNumber("0.000"), "0");
  EXPECT_EQ(CanonicalNumber("100"), "1e2");
  EXPECT_EQ(CanonicalNumber("1e125"), "1e125");
  EXPECT_EQ(CanonicalNumber("1e126"), std::nullopt);
  EXPECT_EQ(CanonicalNumber("1e-130"), "1e-130");
  EXPECT_EQ(CanonicalNumber("1e-131"), std::nullopt);
  EXPECT_EQ(CanonicalNumber(std::string(38, '9')), std::string(38, '9') + "e0");
  EXPECT_EQ(CanonicalNumber(std::string(39, '9')), std::nullopt);
  EXPECT_EQ(CanonicalNumber("1e99999999999999999999"), std::nullopt);
  EXPECT_EQ(CanonicalNumber("01"), std::nullopt);
  EXPECT_NE(Problem(R"({"id":"a","n":1e400})").find("beyond DynamoDB's 38 significant digits"),
            std::string::npos);
}

TEST(DynamoDbItemTest, WhatIsNotAnItemIsExplained) {
  EXPECT_EQ(Problem("[1,2]"), "the record is not a JSON object but an array");
  EXPECT_EQ(Problem("not json").substr(0, 29), "the record is not valid JSON:");
  EXPECT_EQ(Problem(R"({"id":"a","x":tru})"), "the record is not valid JSON");
  EXPECT_EQ(Problem(R"({"id":"a"} trailing)").substr(0, 30), "the record is not valid JSON: ");
  EXPECT_EQ(Problem(R"({"id":"a","":1})"), "a field has an empty name, which DynamoDB refuses");
  EXPECT_EQ(Problem(R"({"id":"a","id":"b"})"), "the field 'id' occurs twice");
  EXPECT_EQ(Problem(R"({"id":"a","v":1,"v":2})"), "the field 'v' occurs twice");
  EXPECT_EQ(Problem(R"({"id":"a","m":{"k":1,"k":2}})"), "the name 'k' occurs twice in one object");
  std::string deep = R"({"id":"a","d":)" + std::string(40, '[') + std::string(40, ']') + "}";
  EXPECT_EQ(Problem(deep), "lists and maps nest deeper than 32 levels");
}

TEST(DynamoDbItemTest, KeyValuesStayWithinDynamoDbsLimitsAndNeverMerge) {
  ItemSchema s = Schema();
  s.range_key = "r";
  s.range_type = AttributeType::kS;
  EXPECT_TRUE(ConvertRecord(R"({"id":")" + std::string(2048, 'x') + R"(","r":"a"})", s));
  EXPECT_EQ(Problem(R"({"id":")" + std::string(2049, 'x') + R"(","r":"a"})", s),
            "key attribute 'id' holds 2049 bytes; DynamoDB allows 2048 in a hash key");
  EXPECT_EQ(Problem(R"({"id":"a","r":")" + std::string(1025, 'x') + R"("})", s),
            "key attribute 'r' holds 1025 bytes; DynamoDB allows 1024 in a range key");
  // Values may hold any character: two different keys never read as one.
  auto a = ConvertRecord(R"({"id":"a\u0000Sb","r":"c"})", s);
  auto b = ConvertRecord(R"({"id":"a","r":"b\u0000Sc"})", s);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->key, b->key);
  // Binary keys are the bytes, however the base64 was written.
  ItemSchema binary = Schema();
  binary.hash_type = AttributeType::kB;
  auto q1 = ConvertRecord(R"({"id":"QQ=="})", binary);
  auto q2 = ConvertRecord(R"({"id":"QR=="})", binary);
  ASSERT_TRUE(q1 && q2);
  EXPECT_EQ(q1->key, q2->key);
  EXPECT_EQ(KeyOfTypedItem(R"({"id":{"B":"QR=="}})", binary), q1->key);
}

TEST(DynamoDbItemTest, ANumberDeclaredAStringNeedOnlyBeJson) {
  ItemSchema s = Schema();
  s.declared = {{"order", AttributeType::kS}};
  const std::string forty(40, '7');
  EXPECT_EQ(Json(R"({"id":"a","order":)" + forty + "}", s),
            R"({"id":{"S":"a"},"order":{"S":")" + forty + R"("}})");
}

TEST(DynamoDbItemTest, SizeCountsNamesAndValuesAsDynamoDbDoes) {
  auto item = ConvertRecord(R"({"id":"abc","n":12345,"l":["xy",true],"m":{"k":"v"}})", Schema());
  ASSERT_TRUE(item);
  // id: 2+3; n: 1+(5+1)/2+1=4 → 5; l: 1 + 3 + (2+1) + (1+1) = 9; m: 1 + 3 + (1+1) + 1 = 7.
  EXPECT_EQ(item->size, 5u + 5u + 9u + 7u);
}

}  // namespace
}  // namespace kc::dynamodb
