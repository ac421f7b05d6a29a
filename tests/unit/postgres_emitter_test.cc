// What the postgres emitter sends to COPY: one escaped text row per record,
// and a clear error, never a crash, for a record that cannot be text.
#include "emitter/postgres/postgres_emitter.h"

#include <gtest/gtest.h>

namespace kc::emitter {
namespace {

Batch BatchOf(std::vector<std::string> data) {
  Batch b;
  b.stream = "events";
  b.shard_id = "shardId-000000000003";
  int seq = 100;
  for (auto& d : data) {
    Record r;
    r.data = std::move(d);
    r.sequence_number =
        "49590338271490256608559692538361571095921575989136" + std::to_string(seq++);
    b.bytes += r.data.size();
    b.records.push_back(std::move(r));
  }
  return b;
}

TEST(PostgresEmitterCopy, OneEscapedRowPerRecord) {
  auto text = PostgresEmitter::CopyText(
      BatchOf({"plain", "tab\there", "two\nlines\r\n", "back\\slash \\N", "", "ünï ✓ 🙂"}));
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_EQ(*text,
            "plain\n"
            "tab\\there\n"
            "two\\nlines\\r\\n\n"
            "back\\\\slash \\\\N\n"
            "\n"
            "ünï ✓ 🙂\n");
}

TEST(PostgresEmitterCopy, RecordsThatCannotBeTextAreBadRecordsNamingThemselves) {
  for (std::string bad :
       {std::string("nul\0byte", 8), std::string("\xff\xfe latin"), std::string("cut \xe2\x9c")}) {
    auto text = PostgresEmitter::CopyText(BatchOf({"fine", bad}));
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().code(), ErrorCode::kParse);
    EXPECT_FALSE(text.error().retriable());
    const std::string& m = text.error().message();
    EXPECT_NE(m.find("shardId-000000000003"), std::string::npos) << m;
    EXPECT_NE(m.find("49590338271490256608559692538361571095921575989136101"), std::string::npos)
        << m;
    EXPECT_NE(m.find("envelope"), std::string::npos) << "names a way out: " << m;
  }
}

}  // namespace
}  // namespace kc::emitter
