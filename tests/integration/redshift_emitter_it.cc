// The redshift emitter with load_target = "postgres" against the s3rver and
// the PostgreSQL server that scripts/test starts (KC_S3_ENDPOINT,
// KC_POSTGRES_URL): objects put in S3, batches of their keys emitted, and
// the table checked row by row. A batch emitted again, or one overlapping
// an earlier one, adds no rows; the manifest lists what was loaded.
//
// Without either service the tests are skipped, unless KC_REQUIRE_SERVICES=1
// (as scripts/test sets), when they fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/compression.h"
#include "clients/aws/http.h"
#include "clients/pg/connection.h"
#include "clients/s3/s3_client.h"
#include "sinks/redshift/redshift_emitter.h"
#include "sinks/redshift/redshift_sql.h"

namespace kc::emitter {
namespace {

// No object a test reads comes near this.
constexpr uint64_t kAnySize = 1ull << 30;

using namespace std::chrono_literals;

std::string Env(const char* name, const std::string& fallback = {}) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

class RedshiftEmitterIT : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_endpoint_ = Env("KC_S3_ENDPOINT");
    pg_url_ = Env("KC_POSTGRES_URL");
    if (s3_endpoint_.empty() || pg_url_.empty()) {
      if (Env("KC_REQUIRE_SERVICES") == "1") {
        FAIL() << "KC_S3_ENDPOINT and KC_POSTGRES_URL must be set when KC_REQUIRE_SERVICES=1; "
                  "start them with kc_start_s3rver and kc_start_postgres (scripts/test does)";
      }
      GTEST_SKIP() << "KC_S3_ENDPOINT or KC_POSTGRES_URL is not set (start s3rver and "
                      "PostgreSQL with kc_start_s3rver and kc_start_postgres)";
    }
    const std::string run = std::to_string(std::random_device{}() % 1'000'000'000);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = "it/redshift-" + std::string(info->name()) + "-" + run + "/";
    table_ = "kc_it_rs_" + run;
    file_table_ = "kc_it_rs_files_" + run;
    aws::Credentials credentials{Env("KC_S3_ACCESS_KEY_ID", "S3RVER"),
                                 Env("KC_STANDIN_SECRET", "kc-test-secret"), ""};
    credentials_ = std::make_shared<aws::StaticCredentialsProvider>(credentials);
    aws::S3Options options;
    options.endpoint = s3_endpoint_;
    options.region = "us-east-1";
    options.path_style = true;
    s3_ = std::make_shared<aws::S3Client>(
        options, aws::MakeCurlTransport(aws::HttpOptions{}), credentials_,
        RetryPolicy(RetryOptions{.max_attempts = 3, .base = 50ms, .cap = 500ms}));
    conn_ = std::make_unique<pg::Connection>(pg_url_);
    auto created = conn_->Exec("CREATE TABLE " + table_ + " (id int, name text, note text)");
    ASSERT_TRUE(created) << created.error().ToString();
  }

  void TearDown() override {
    if (conn_) {
      (void)conn_->Exec("DROP TABLE IF EXISTS " + table_);
      (void)conn_->Exec("DROP TABLE IF EXISTS " + file_table_);
    }
  }

  RedshiftSettings Config() const {
    RedshiftSettings c;
    c.url = pg_url_;
    c.table = table_;
    c.columns = {"id", "name", "note"};
    c.file_table = file_table_;
    c.bucket = bucket_;
    c.manifest_prefix = prefix_ + "manifests/";
    c.copy_format = CopyFormat::kCsv;
    c.load_target = LoadTarget::kPostgres;
    c.delimiter = '|';
    return c;
  }

  RedshiftEmitter Emitter(const RedshiftSettings& config) const {
    return RedshiftEmitter(config, s3_, credentials_,
                           RetryPolicy(RetryOptions{.max_attempts = 3, .base = 10ms, .cap = 50ms}));
  }

  void Put(const std::string& key, std::string body) {
    auto put = s3_->PutObject(bucket_, key, std::move(body), {});
    ASSERT_TRUE(put) << put.error().ToString();
  }

  // A batch of `keys` as the manifest stream would deliver them; `first`
  // names its range.
  Batch BatchOf(const std::vector<std::string>& keys, int first) const {
    Batch b;
    b.stream = "it-manifest";
    b.shard_id = "shardId-000000000000";
    int seq = first;
    for (const std::string& key : keys) {
      Record r;
      r.data = key;
      r.sequence_number =
          "4959033827149025660855969253836157109592157598913600" + std::to_string(1000 + seq++);
      b.bytes += r.data.size();
      b.records.push_back(std::move(r));
    }
    b.first = b.records.front().position();
    b.last = b.records.back().position();
    return b;
  }

  // Every row as "id|name|note" (NULL as "<null>"), sorted.
  std::vector<std::string> Rows() {
    auto rows = pg::Connection(pg_url_).Exec(
        "SELECT id::text, coalesce(name, '<null>'), coalesce(note, '<null>') FROM " + table_);
    EXPECT_TRUE(rows) << rows.error().ToString();
    std::vector<std::string> out;
    for (int i = 0; rows && i < rows->size(); ++i) {
      out.push_back(std::string(rows->Get(i, 0)) + "|" + std::string(rows->Get(i, 1)) + "|" +
                    std::string(rows->Get(i, 2)));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::string> LoadedFiles() {
    auto rows = pg::Connection(pg_url_).Exec("SELECT file FROM " + file_table_ + " ORDER BY file");
    EXPECT_TRUE(rows) << rows.error().ToString();
    std::vector<std::string> out;
    for (int i = 0; rows && i < rows->size(); ++i) out.emplace_back(rows->Get(i, 0));
    return out;
  }

  std::string Url(const std::string& key) const { return "s3://" + bucket_ + "/" + key; }

  std::string s3_endpoint_;
  std::string pg_url_;
  std::string bucket_ = Env("KC_S3_BUCKET", "kc-test-bucket");
  std::string prefix_;
  std::string table_;
  std::string file_table_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  std::shared_ptr<aws::S3Client> s3_;
  std::unique_ptr<pg::Connection> conn_;
};

TEST_F(RedshiftEmitterIT, ManifestModeLoadsEachObjectOnceWhateverIsReplayed) {
  const std::string a = prefix_ + "data/a.csv";
  const std::string b = prefix_ + "data/b \"quoted\" ключ.csv";
  const std::string c = prefix_ + "data/c.csv";
  Put(a, "1,alpha,plain\n2,\"comma, inside\",\"two\nlines\"\n");
  Put(b, "3,ünï ✓ 🙂,\"\"\"quoted\"\"\"\n4,,\n5,back\\slash,\"\"\n");
  Put(c, "6,gamma,last\n");
  const RedshiftSettings config = Config();
  RedshiftEmitter emitter = Emitter(config);

  // The key twice in one batch: loaded once.
  const Batch first = BatchOf({a, b, a}, 0);
  auto s = emitter.Emit(first, {});
  ASSERT_TRUE(s) << s.error().ToString();
  const std::vector<std::string> after_first = {"1|alpha|plain", "2|comma, inside|two\nlines",
                                                "3|ünï ✓ 🙂|\"quoted\"", "4|<null>|<null>",
                                                "5|back\\slash|"};
  EXPECT_EQ(Rows(), after_first);
  EXPECT_EQ(LoadedFiles(), (std::vector<std::string>{Url(a), Url(b)}));

  // The manifest of the batch, at its deterministic key, lists what was loaded.
  const std::string manifest_key = ManifestKey(config.manifest_prefix, first);
  auto manifest = s3_->GetObject(bucket_, manifest_key, kAnySize);
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  auto entries = ManifestUrls(*manifest);
  ASSERT_TRUE(entries) << entries.error().ToString();
  EXPECT_EQ(*entries, (std::vector<std::string>{Url(a), Url(b)}));
  EXPECT_NE(manifest->find("\"mandatory\":true"), std::string::npos) << *manifest;

  // The same batch again (a replay after a crash), from a new emitter: nothing.
  RedshiftEmitter restarted = Emitter(config);
  s = restarted.Emit(first, {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(Rows(), after_first);

  // An overlapping batch loads only the new object, and its manifest says so.
  const Batch overlapping = BatchOf({b, c}, 10);
  s = restarted.Emit(overlapping, {});
  ASSERT_TRUE(s) << s.error().ToString();
  std::vector<std::string> all = after_first;
  all.push_back("6|gamma|last");
  std::sort(all.begin(), all.end());
  EXPECT_EQ(Rows(), all);
  auto second = s3_->GetObject(bucket_, ManifestKey(config.manifest_prefix, overlapping), kAnySize);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(ManifestUrls(*second).value_or(std::vector<std::string>{}),
            (std::vector<std::string>{Url(c)}));
  EXPECT_EQ(LoadedFiles(), (std::vector<std::string>{Url(a), Url(b), Url(c)}));
}

TEST_F(RedshiftEmitterIT, BasicModeLoadsCompressedDelimitedObjectsWithoutAManifest) {
  RedshiftSettings config = Config();
  config.load_mode = LoadMode::kBasic;
  config.copy_format = CopyFormat::kDelimited;
  config.compression = Compression::kGzip;
  const std::string a = prefix_ + "data/a.txt.gz";
  const std::string b = prefix_ + "data/b.txt.gz";
  Put(a, *util::Compress("1|alpha|tab\\there\n2|beta|\\N\n", Compression::kGzip));
  Put(b, *util::Compress("3|gamma|x\n", Compression::kGzip));
  RedshiftEmitter emitter = Emitter(config);
  // Full URLs work as well as keys.
  for (int round = 0; round < 2; ++round) {
    auto s = emitter.Emit(BatchOf({a, Url(b)}, round * 10), {});
    ASSERT_TRUE(s) << s.error().ToString();
    EXPECT_EQ(Rows(), (std::vector<std::string>{"1|alpha|tab\there", "2|beta|<null>", "3|gamma|x"}))
        << "round " << round;
  }
  auto manifests = s3_->ListAllObjects(bucket_, config.manifest_prefix);
  ASSERT_TRUE(manifests) << manifests.error().ToString();
  EXPECT_TRUE(manifests->empty());
}

TEST_F(RedshiftEmitterIT, AMissingObjectFailsTheBatchAndRecordsNothing) {
  const std::string here = prefix_ + "data/here.csv";
  const std::string later = prefix_ + "data/later.csv";
  Put(here, "1,here,x\n");
  RedshiftEmitter emitter = Emitter(Config());
  const Batch batch = BatchOf({here, later}, 0);
  auto s = emitter.Emit(batch, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound) << s.error().ToString();
  EXPECT_NE(s.error().message().find(Url(later)), std::string::npos) << s.error().message();
  // Rolled back: neither rows nor files, so the batch loads once the object is there.
  EXPECT_EQ(Rows(), std::vector<std::string>{});
  EXPECT_EQ(LoadedFiles(), std::vector<std::string>{});
  Put(later, "2,later,y\n");
  s = emitter.Emit(batch, {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(Rows(), (std::vector<std::string>{"1|here|x", "2|later|y"}));
}

TEST_F(RedshiftEmitterIT, BombsOversizedObjectsAndOtherBucketsLoadNothing) {
  RedshiftSettings config = Config();
  config.load_mode = LoadMode::kBasic;
  config.copy_format = CopyFormat::kDelimited;
  config.compression = Compression::kGzip;
  config.max_object_size = 64 << 10;
  config.max_loaded_size = 1 << 20;
  const std::string fine = prefix_ + "data/fine.txt.gz";
  const std::string bomb = prefix_ + "data/bomb.txt.gz";
  const std::string big = prefix_ + "data/big.txt.gz";
  Put(fine, *util::Compress("1|fine|x\n", Compression::kGzip));
  std::string rows;
  while (rows.size() < (16u << 20)) rows += "2|again|y\n";
  const std::string packed_bomb = *util::Compress(rows, Compression::kGzip);
  ASSERT_LT(packed_bomb.size(), 64u << 10) << "the bomb is small as stored";
  Put(bomb, packed_bomb);
  std::string noise;
  std::mt19937 rng(3);
  while (noise.size() < 200'000)
    noise += std::to_string(rng()) + "|n|" + std::to_string(rng()) + "\n";
  Put(big, *util::Compress(noise, Compression::kGzip));
  RedshiftEmitter emitter = Emitter(config);

  auto s = emitter.Emit(BatchOf({fine, bomb}, 0), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kParse) << s.error().ToString();
  EXPECT_NE(s.error().message().find(Url(bomb)), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("decompresses to more than 1048576 bytes"), std::string::npos)
      << s.error().message();

  s = emitter.Emit(BatchOf({fine, big}, 10), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kParse) << s.error().ToString();
  EXPECT_NE(s.error().message().find(Url(big)), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("longer than 65536 bytes"), std::string::npos)
      << s.error().message();

  s = emitter.Emit(BatchOf({fine, "s3://elsewhere/secrets.txt.gz"}, 20), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument) << s.error().ToString();
  EXPECT_NE(s.error().message().find("bucket \"elsewhere\""), std::string::npos)
      << s.error().message();

  // Rolled back each time: no rows, no object recorded as loaded.
  EXPECT_EQ(Rows(), std::vector<std::string>{});
  EXPECT_EQ(LoadedFiles(), std::vector<std::string>{});
}

TEST_F(RedshiftEmitterIT, ConcurrentLoadersNeverLoadAnObjectTwice) {
  std::vector<std::string> keys;
  std::vector<std::string> want;
  for (int i = 0; i < 12; ++i) {
    keys.push_back(prefix_ + "data/" + std::to_string(i) + ".csv");
    Put(keys.back(), std::to_string(i) + ",n" + std::to_string(i) + ",x\n");
    want.push_back(std::to_string(i) + "|n" + std::to_string(i) + "|x");
  }
  std::sort(want.begin(), want.end());
  const RedshiftSettings config = Config();
  // Two processes' worth of loaders, each with its own connections, given
  // overlapping batches at the same time.
  RedshiftEmitter one = Emitter(config);
  RedshiftEmitter two = Emitter(config);
  std::vector<std::thread> threads;
  std::vector<Status> results(6);
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> batch(keys.begin() + 2 * t, keys.begin() + std::min(12, 2 * t + 5));
      results[t] = (t % 2 == 0 ? one : two).Emit(BatchOf(batch, 100 * t), {});
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Status& r : results) ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(Rows(), want);
  EXPECT_EQ(LoadedFiles().size(), 12u);
}

}  // namespace
}  // namespace kc::emitter
