#include <gtest/gtest.h>

#include "clients/aws/aws_json_client.h"
#include "clients/kinesis/wire.h"

namespace kc::kinesis {
namespace {

TEST(GetRecordsResponse, ParsesRecordsWithBinaryData) {
  // "AP8K" is the bytes 00 ff 0a.
  auto r = ParseGetRecordsResponse(R"({
    "Records": [
      {"SequenceNumber": "49590338271490256608559692538361571095921575989136588898",
       "ApproximateArrivalTimestamp": 1732563456.789, "Data": "AP8K", "PartitionKey": "kéy"},
      {"SequenceNumber": "49590338271490256608559692538361571095921575989136588899",
       "ApproximateArrivalTimestamp": 1732563457, "Data": "", "PartitionKey": "k"}
    ],
    "NextShardIterator": "AAAA", "MillisBehindLatest": 1234})");
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[0].data, std::string("\x00\xff\n", 3));
  EXPECT_EQ(r->records[0].partition_key, "kéy");
  EXPECT_EQ(r->records[0].approximate_arrival_ms, 1732563456789);
  EXPECT_EQ(r->records[1].approximate_arrival_ms, 1732563457000);
  EXPECT_EQ(r->records[1].data, "");
  EXPECT_EQ(r->next_shard_iterator, "AAAA");
  EXPECT_EQ(r->millis_behind_latest, 1234);
  EXPECT_EQ(r->bytes, 3u);
}

TEST(GetRecordsResponse, FieldsInAnyOrderUnknownOnesSkippedEscapesDecoded) {
  // Data with an escaped '/' ("\/" is legal JSON for "/"), fields in
  // another order than Kinesis sends them, and fields this client does not
  // know, with nested values.
  auto r = ParseGetRecordsResponse(R"({"MillisBehindLatest": 0, "ChildShards": [{"ShardId": "s"}],
    "Records": [{"Data": "A\u0050\/+"  , "EncryptionType": "NONE", "Extra": {"a": [1, {"b": null}]},
                 "PartitionKey": "p\u00e9", "ApproximateArrivalTimestamp": null,
                 "SequenceNumber": "7"},
                {"SequenceNumber" : "\u00389"  , "PartitionKey":"q\"\\" ,"Data":"AA=="}],
    "NextShardIterator": "it"})");
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[0].data, std::string("\x00\xff\xfe", 3));
  EXPECT_EQ(r->records[0].partition_key, "pé");
  EXPECT_EQ(r->records[0].sequence_number, "7");
  EXPECT_EQ(r->records[0].approximate_arrival_ms, 0);
  // Escapes in the sequence number and partition key are undone too, and
  // spaces after a value are not part of it.
  EXPECT_EQ(r->records[1].sequence_number, "89");
  EXPECT_EQ(r->records[1].partition_key, "q\"\\");
  EXPECT_EQ(r->records[1].data, std::string(1, '\0'));
  EXPECT_EQ(r->next_shard_iterator, "it");
  EXPECT_EQ(r->bytes, 4u);
}

TEST(GetRecordsResponse, RecycledRecordsAreFilledAfreshWithTheirMemoryReused) {
  const std::string body = R"({"Records": [
      {"SequenceNumber": "100", "Data": "Zm9v", "PartitionKey": "a"},
      {"SequenceNumber": "101", "Data": "YmFy", "PartitionKey": "b",
       "ApproximateArrivalTimestamp": 2.5}],
    "NextShardIterator": "it", "MillisBehindLatest": 0})";
  std::vector<Record> recycled(3);
  for (auto& r : recycled) {
    r.data.assign(3000, 'd');  // within what is reused for any record
    r.partition_key.assign(300, 'p');
    r.sequence_number.assign(56, '9');
    r.sub_sequence_number = 7;
    r.approximate_arrival_ms = 123;
  }
  const char* last_data = recycled.back().data.data();
  auto r = ParseGetRecordsResponse(body, &recycled);
  ASSERT_TRUE(r) << r.error().ToString();
  // Taken from the back, one a record; the rest left for the next page.
  EXPECT_EQ(recycled.size(), 1u);
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[0].data.data(), last_data);
  auto fresh = ParseGetRecordsResponse(body);
  ASSERT_TRUE(fresh);
  for (size_t i = 0; i < 2; ++i) {
    const Record& got = r->records[i];
    const Record& want = fresh->records[i];
    EXPECT_EQ(got.data, want.data);
    EXPECT_EQ(got.partition_key, want.partition_key);
    EXPECT_EQ(got.sequence_number, want.sequence_number);
    EXPECT_EQ(got.sub_sequence_number, 0u);
    EXPECT_EQ(got.approximate_arrival_ms, want.approximate_arrival_ms);
  }
  EXPECT_EQ(r->records[0].approximate_arrival_ms, 0);
  EXPECT_EQ(r->records[1].approximate_arrival_ms, 2500);
  EXPECT_EQ(r->bytes, 6u);
  // A recycled string far larger than its new record is let go, so one large
  // record does not make its memory travel on from batch to batch.
  std::vector<Record> large(1);
  large[0].data.reserve(1 << 20);
  auto small = ParseGetRecordsResponse(body, &large);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->records[0].data, "foo");
  EXPECT_LT(small->records[0].data.capacity(), 4096u);
  // More records than recycled ones: the rest are new.
  std::vector<Record> one(1);
  auto more = ParseGetRecordsResponse(body, &one);
  ASSERT_TRUE(more);
  EXPECT_TRUE(one.empty());
  EXPECT_EQ(more->records[1].data, "bar");
}

TEST(GetRecordsResponse, ManyPagesInARowOfDifferentSizes) {
  // The parser's buffers are reused from page to page: a small page after a
  // large one must not see the large one's leftovers.
  for (int n : {500, 3, 0, 200, 1}) {
    std::string body = R"({"Records": [)";
    for (int i = 0; i < n; ++i) {
      if (i > 0) body += ",";
      body += R"({"SequenceNumber": ")" + std::to_string(1000 + i) +
              R"(", "PartitionKey": "k", "Data": "QUJD"})";
    }
    body += R"(], "NextShardIterator": "n)" + std::to_string(n) + R"("})";
    auto r = ParseGetRecordsResponse(body);
    ASSERT_TRUE(r) << r.error().ToString();
    ASSERT_EQ(r->records.size(), static_cast<size_t>(n));
    EXPECT_EQ(r->next_shard_iterator, "n" + std::to_string(n));
    EXPECT_EQ(r->bytes, 3u * n);
    if (n > 0) {
      EXPECT_EQ(r->records.back().data, "ABC");
    }
  }
}

TEST(GetRecordsResponse, ClosedShardHasNoNextIterator) {
  auto r = ParseGetRecordsResponse(R"({"Records": [], "MillisBehindLatest": 0})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->next_shard_iterator.empty());
  auto n = ParseGetRecordsResponse(R"({"Records": [], "NextShardIterator": null})");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->next_shard_iterator.empty());
}

TEST(GetRecordsResponse, MalformedInputIsAnErrorNotACrash) {
  const char* bad[] = {
      "",
      "{",
      "[]",
      "null",
      R"({"NextShardIterator": "x"})",
      R"({"Records": {}})",
      R"({"Records": [1]})",
      R"({"Records": [{"SequenceNumber": "12", "PartitionKey": "k"}]})",
      R"({"Records": [{"SequenceNumber": "12", "PartitionKey": "k", "Data": "@@@@"}]})",
      R"({"Records": [{"SequenceNumber": "1x", "PartitionKey": "k", "Data": ""}]})",
      R"({"Records": [{"SequenceNumber": 12, "PartitionKey": "k", "Data": ""}]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": "", "ApproximateArrivalTimestamp": "x"}]})",
      R"({"Records": [], "MillisBehindLatest": "soon"})",
      R"({"Records": [], "NextShardIterator": 5})",
      R"({"Records": []} {"Records": []})",
      R"({"Records": []}])",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": "AA=="} 2]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": "AA==", }]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": 7, "Data": ""}]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": 0}]})",
      R"({"Records": [{"PartitionKey": "k", "Data": ""}]})",
      R"({"Records": [{"SequenceNumber": "1", "Data": ""}]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": "AA\u00e9="}]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": "AA\u00"}]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": "AA\x=="}]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": "AA\n=="}]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": null}]})",
      R"({"Records": [{"SequenceNumber": "1", "PartitionKey": "k", "Data": ["AA=="]}]})",
  };
  for (const char* body : bad) {
    auto r = ParseGetRecordsResponse(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code(), ErrorCode::kParse) << body;
    EXPECT_NE(r.error().message().find("GetRecords response"), std::string::npos);
  }
}

TEST(ListShardsResponse, IdsThatCouldNotBeAShardsAreRefusedBeforeAnyUse) {
  // Shard ids become checkpoint keys and file and directory names.
  for (const char* id :
       {"../../escape", "..", ".", "a/b", "shard id", "x\\u0000y", "\\u00e9t\\u00e9"}) {
    for (const char* field : {"ShardId", "ParentShardId", "AdjacentParentShardId"}) {
      std::string shard = std::string(field) == "ShardId"
                              ? std::string(R"({"ShardId": ")") + id + R"("})"
                              : std::string(R"({"ShardId": "shardId-000000000002", ")") + field +
                                    R"(": ")" + id + R"("})";
      auto r = ParseListShardsResponse(R"({"Shards": [)" + shard + "]}", nullptr);
      ASSERT_FALSE(r) << field << " " << id << " was taken";
      EXPECT_EQ(r.error().code(), ErrorCode::kParse);
      EXPECT_NE(r.error().message().find(std::string(field) + " \""), std::string::npos)
          << r.error().ToString();
      EXPECT_NE(r.error().message().find("is not a shard id"), std::string::npos)
          << r.error().ToString();
    }
  }
  auto too_long = ParseListShardsResponse(
      R"({"Shards": [{"ShardId": ")" + std::string(129, 'a') + R"("}]})", nullptr);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message().find("at most 128"), std::string::npos);
  // What Kinesis answers, up to the longest id, is taken.
  EXPECT_TRUE(
      ParseListShardsResponse(R"({"Shards": [{"ShardId": "shardId-000000000007"}, {"ShardId": ")" +
                                  std::string(128, 'a') + R"("}]})",
                              nullptr));
}

TEST(ListShardsResponse, ParsesParentsRangesAndToken) {
  std::string token;
  auto r = ParseListShardsResponse(R"({"Shards": [
      {"ShardId": "shardId-000000000000",
       "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "170141183460469231731687303715884105727"},
       "SequenceNumberRange": {"StartingSequenceNumber": "100", "EndingSequenceNumber": "200"}},
      {"ShardId": "shardId-000000000002", "ParentShardId": "shardId-000000000000",
       "AdjacentParentShardId": "shardId-000000000001",
       "SequenceNumberRange": {"StartingSequenceNumber": "300"}}],
      "NextToken": "page2"})",
                                   &token);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_TRUE((*r)[0].closed());
  EXPECT_EQ((*r)[0].ending_hash_key, "170141183460469231731687303715884105727");
  EXPECT_FALSE((*r)[1].closed());
  EXPECT_EQ((*r)[1].parent_shard_id, "shardId-000000000000");
  EXPECT_EQ((*r)[1].adjacent_parent_shard_id, "shardId-000000000001");
  EXPECT_EQ(token, "page2");
  EXPECT_FALSE(ParseListShardsResponse(R"({"Shards": [{"ParentShardId": "x"}]})", nullptr));
  auto empty_id = ParseListShardsResponse(R"({"Shards": [{"ShardId": ""}]})", nullptr);
  ASSERT_FALSE(empty_id);
  EXPECT_EQ(empty_id.error().code(), ErrorCode::kParse);
}

TEST(PutRecordsResponse, PartialFailuresPerRecord) {
  auto r = ParsePutRecordsResponse(R"({"FailedRecordCount": 1, "Records": [
      {"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
      {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow"}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->failed_record_count, 1);
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[0].sequence_number, "1");
  EXPECT_EQ(r->records[1].error_code, "ProvisionedThroughputExceededException");
}

TEST(PutRecordsResponse, RefusedEntriesAreClassifiedForTheRetryPolicy) {
  const auto error = [](const char* code) {
    return PutRecordsEntryError(PutRecordsResultEntry{"", "", code, "details"});
  };
  EXPECT_EQ(error("ProvisionedThroughputExceededException").code(), ErrorCode::kThrottled);
  EXPECT_EQ(error("KMSThrottlingException").code(), ErrorCode::kThrottled);
  EXPECT_EQ(error("InternalFailure").code(), ErrorCode::kUnavailable);
  // Unknown codes may pass when sent again.
  EXPECT_EQ(error("SomethingNew").code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(error("SomethingNew").retriable());
  // Sending again cannot help these.
  EXPECT_EQ(error("KMSAccessDeniedException").code(), ErrorCode::kAuth);
  EXPECT_EQ(error("KMSDisabledException").code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(error("KMSNotFoundException").retriable());
  EXPECT_EQ(error("InternalFailure").message(), "InternalFailure: details");
  EXPECT_EQ(PutRecordsEntryError({}).code(), ErrorCode::kUnavailable);
}

TEST(AwsErrors, ClassifiedForTheRetryPolicy) {
  struct Case {
    long status;
    const char* body;
    ErrorCode code;
  };
  const Case cases[] = {
      {400, R"({"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded"})",
       ErrorCode::kThrottled},
      {400, R"({"__type":"LimitExceededException"})", ErrorCode::kThrottled},
      {400, R"({"__type":"ThrottlingException"})", ErrorCode::kThrottled},
      {400, R"({"__type":"com.amazonaws.kinesis.v20131202#ExpiredIteratorException"})",
       ErrorCode::kExpiredIterator},
      {400, R"({"__type":"ResourceNotFoundException","message":"Stream x not found"})",
       ErrorCode::kNotFound},
      {500, R"({"__type":"InternalFailure"})", ErrorCode::kUnavailable},
      {503, R"({"__type":"ServiceUnavailable"})", ErrorCode::kUnavailable},
      {502, "<html>bad gateway</html>", ErrorCode::kUnavailable},
      {400, R"({"__type":"InvalidSignatureException"})", ErrorCode::kAuth},
      {400, R"({"__type":"UnrecognizedClientException"})", ErrorCode::kAuth},
      {403, "", ErrorCode::kAuth},
      {400, R"({"__type":"InvalidArgumentException","message":"bad"})",
       ErrorCode::kInvalidArgument},
      {400, R"({"__type":"ValidationException"})", ErrorCode::kInvalidArgument},
      {429, "", ErrorCode::kThrottled},
  };
  for (const auto& c : cases) {
    Error e = aws::ClassifyAwsError(c.status, c.body, "GetRecords");
    EXPECT_EQ(e.code(), c.code) << c.body;
    EXPECT_EQ(e.message().rfind("GetRecords: ", 0), 0u) << e.message();
  }
  EXPECT_TRUE(
      aws::ClassifyAwsError(400, R"({"__type":"LimitExceededException"})", "x").retriable());
  EXPECT_FALSE(aws::ClassifyAwsError(400, R"({"__type":"ValidationException"})", "x").retriable());
  EXPECT_NE(
      aws::ClassifyAwsError(400, R"({"__type":"X","message":"why"})", "Op").message().find("why"),
      std::string::npos);
}

TEST(Requests, ListShardsSendsTheStreamOrTheNextTokenNeverBoth) {
  EXPECT_EQ(ListShardsRequest("orders", ""), R"({"StreamName":"orders","MaxResults":1000})");
  EXPECT_EQ(ListShardsRequest("orders", "tok/en"), R"({"NextToken":"tok/en","MaxResults":1000})");
}

TEST(Requests, GetShardIteratorCarriesWhatItsTypeNeeds) {
  EXPECT_EQ(GetShardIteratorRequest("s", "shardId-000000000001", {}),
            R"({"StreamName":"s","ShardId":"shardId-000000000001",)"
            R"("ShardIteratorType":"TRIM_HORIZON"})");
  EXPECT_EQ(GetShardIteratorRequest("s", "shardId-000000000001",
                                    {.type = IteratorType::kAfterSequenceNumber,
                                     .sequence_number = "4959",
                                     .timestamp_ms = 0}),
            R"({"StreamName":"s","ShardId":"shardId-000000000001",)"
            R"("ShardIteratorType":"AFTER_SEQUENCE_NUMBER","StartingSequenceNumber":"4959"})");
  // Timestamps are seconds with a fraction.
  const std::string at = GetShardIteratorRequest(
      "s", "shardId-000000000001",
      {.type = IteratorType::kAtTimestamp, .sequence_number = "", .timestamp_ms = 1795642616123});
  EXPECT_NE(at.find(R"("ShardIteratorType":"AT_TIMESTAMP","Timestamp":1795642616.123)"),
            std::string::npos)
      << at;
}

TEST(Requests, PutRecordsEncodesDataAndKeepsOptionalHashKeysOut) {
  const std::string body = PutRecordsRequest(
      "copy", {{std::string("\x00\xff\n", 3), "k\"1", ""}, {"abc", "k2", "170141183460469"}});
  EXPECT_EQ(body, R"({"StreamName":"copy","Records":[{"Data":"AP8K","PartitionKey":"k\"1"},)"
                  R"({"Data":"YWJj","PartitionKey":"k2","ExplicitHashKey":"170141183460469"}]})");
}

TEST(Responses, AClosedShardPastItsEndHasNoIterator) {
  EXPECT_EQ(ParseGetShardIteratorResponse(R"({"ShardIterator":"AAAA"})").value_or("?"), "AAAA");
  EXPECT_EQ(ParseGetShardIteratorResponse(R"({"ShardIterator":null})").value_or("?"), "");
  auto bad = ParseGetShardIteratorResponse("[]");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kParse);
}

}  // namespace
}  // namespace kc::kinesis
