// A DynamoDB client for the dynalite stand-in (KC_DYNAMODB_ENDPOINT), signed
// with the stand-ins' secret, making one attempt per call.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/json_writer.h"

#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "clients/dynamodb/client.h"

namespace kc::testing {

inline std::shared_ptr<aws::HttpTransport> SharedCurlTransport() {
  static std::shared_ptr<aws::HttpTransport> t = aws::MakeCurlTransport(aws::HttpOptions{});
  return t;
}

inline dynamodb::DynamoClient DynaliteClient(
    const std::string& endpoint,
    std::shared_ptr<aws::HttpTransport> transport = SharedCurlTransport(),
    std::string secret = {}) {
  if (secret.empty()) {
    const char* s = std::getenv("KC_STANDIN_SECRET");
    secret = s != nullptr ? s : "kc-test-secret";
  }
  aws::AwsJsonClientOptions options;
  options.endpoint = endpoint;
  options.region = "us-east-1";
  options.service = "dynamodb";
  options.target_prefix = "DynamoDB_20120810";
  options.content_type = "application/x-amz-json-1.0";
  return dynamodb::DynamoClient(aws::AwsJsonClient(
      std::move(options), std::move(transport),
      std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"kc-test", secret, ""}),
      RetryPolicy(RetryOptions{.max_attempts = 1})));
}

// Tables of a test run on the shared dynalite (KC_DYNAMODB_ENDPOINT), and
// their items read and written as the AWS CLI would.
class DynaliteTables : public ::testing::Environment {
 public:
  // A table name of this run's own: "kc-<what>-<pid>-<random>".
  static std::string RunTable(const std::string& what) {
    static const std::string run =
        std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}() % 1'000'000);
    return "kc-" + what + "-" + run;
  }
  // Deletes `table` from KC_DYNAMODB_ENDPOINT when the tests end.
  static void DropAtExit(const std::string& table) {
    static DynaliteTables* drop = [] {
      auto* d = new DynaliteTables;
      ::testing::AddGlobalTestEnvironment(d);
      return d;
    }();
    drop->tables_.push_back(table);
  }
  // The item as GetItem returns it (typed JSON), or "" when there is none.
  static std::string RawItem(const std::string& endpoint, const std::string& table,
                             const std::string& lease_key) {
    util::JsonWriter w;
    w.BeginObject().Field("TableName", table).Key("Key").BeginObject().Key("leaseKey");
    w.BeginObject().Field("S", lease_key).EndObject().EndObject();
    w.Field("ConsistentRead", true).EndObject();
    auto answer = DynaliteClient(endpoint).Call("GetItem", w.str());
    EXPECT_TRUE(answer) << answer.error().ToString();
    if (!answer) return "";
    simdjson::dom::parser parser;
    simdjson::dom::element item;
    if (parser.parse(*answer)["Item"].get(item) != simdjson::SUCCESS) return "";
    return simdjson::to_string(item);
  }
  // One attribute of the item: its {"S"|"N": value} text, "" when absent.
  static std::string Attr(const std::string& endpoint, const std::string& table,
                          const std::string& lease_key, const std::string& name) {
    const std::string item = RawItem(endpoint, table, lease_key);
    simdjson::dom::parser parser;
    simdjson::dom::object attr;
    if (item.empty() || parser.parse(item)[name].get(attr) != simdjson::SUCCESS) return "";
    for (auto [type, value] : attr) {
      std::string_view text;
      if (value.get(text) == simdjson::SUCCESS) return std::string(text);
    }
    return "";
  }
  static void PutRaw(const std::string& endpoint, const std::string& table,
                     const std::string& item_json) {
    auto answer = DynaliteClient(endpoint).Call(
        "PutItem", "{\"TableName\":\"" + table + "\",\"Item\":" + item_json + "}");
    ASSERT_TRUE(answer) << answer.error().ToString();
  }

  void TearDown() override {
    const char* endpoint = std::getenv("KC_DYNAMODB_ENDPOINT");
    if (endpoint == nullptr) return;
    for (const auto& t : tables_) (void)DynaliteClient(endpoint).DeleteTable(t);
  }

 private:
  std::vector<std::string> tables_;
};

}  // namespace kc::testing
