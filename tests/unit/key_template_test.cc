#include <gtest/gtest.h>

#include "sinks/util/key_template.h"

namespace kc::emitter {
namespace {

Batch SampleBatch() {
  Batch b;
  b.stream = "events";
  b.shard_id = "shardId-000000000003";
  b.first = {"49590338271490256608559692538361571095921575989136588898", 0};
  b.last = {"49590338271490256608559692538361571095921575989136589000", 2};
  b.first_arrival_ms = 1795642616123;  // 2026-11-25T21:36:56.123Z
  return b;
}

TEST(KeyTemplate, RendersEveryPlaceholderFromTheBatch) {
  auto t = KeyTemplate::Parse("raw/{stream}/{shard}/{yyyy}/{MM}/{dd}/{HH}/{first}-{last}.{ext}");
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_TRUE(t->NamesTheRange());
  EXPECT_EQ(t->Render(SampleBatch(), "jsonl.gz"),
            "raw/events/shardId-000000000003/2026/11/25/21/"
            "49590338271490256608559692538361571095921575989136588898-"
            "49590338271490256608559692538361571095921575989136589000.2.jsonl.gz");
}

TEST(KeyTemplate, LiteralBracesAndPlainText) {
  auto t = KeyTemplate::Parse("a{{b}}c/{first}");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->NamesTheRange());
  EXPECT_EQ(t->Render(SampleBatch(), ""),
            "a{b}c/49590338271490256608559692538361571095921575989136588898");
}

TEST(KeyTemplate, KnowsWhetherItNamesTheExtension) {
  EXPECT_TRUE(KeyTemplate::Parse("{first}-{last}.{ext}")->HasExt());
  EXPECT_FALSE(KeyTemplate::Parse("{{ext}}/{first}-{last}")->HasExt());
}

TEST(KeyTemplate, RejectsUnknownAndUnclosedPlaceholders) {
  auto unknown = KeyTemplate::Parse("{year}/{first}");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kConfig);
  EXPECT_NE(unknown.error().message().find("unknown placeholder {year}"), std::string::npos);
  EXPECT_FALSE(KeyTemplate::Parse("{first"));
  EXPECT_FALSE(KeyTemplate::Parse("first}"));
}

TEST(KeyTemplate, SameBatchSameKey) {
  auto t = KeyTemplate::Parse("{yyyy}/{MM}/{dd}/{first}-{last}");
  ASSERT_TRUE(t);
  Batch b = SampleBatch();
  std::string key = t->Render(b, "");
  b.records.push_back(Record{});  // contents do not name the batch; its range does
  EXPECT_EQ(t->Render(b, ""), key);
}

}  // namespace
}  // namespace kc::emitter
