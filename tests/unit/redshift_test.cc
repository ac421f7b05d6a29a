// What the redshift emitter sends, as text: COPY statements checked against
// Redshift's documented syntax (COPY table [(columns)] FROM 's3://...'
// authorization [FORMAT AS ...] [GZIP|ZSTD] [REGION '...'] [MANIFEST]), the
// PostgreSQL COPY FROM STDIN of load_target = "postgres", the manifest
// JSON, and which records name which objects.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sinks/redshift/redshift_emitter.h"
#include "sinks/redshift/redshift_sql.h"

namespace kc::emitter {
namespace {

RedshiftSettings Config() {
  RedshiftSettings c;
  c.url = "postgresql://loader@db:5439/dev";
  c.table = "events";
  c.bucket = "bkt";
  c.delimiter = '|';
  c.iam_role = "arn:aws:iam::123456789012:role/copy";
  return c;
}

const aws::Credentials kKeys{"AKIDEXAMPLE", "se/cr+et'key\\x", ""};
const aws::Credentials kTemporary{"ASIAEXAMPLE", "tmp-secret", "tok'en"};

TEST(RedshiftCopySql, JsonAutoWithRoleAndManifest) {
  const SqlText sql = RedshiftCopySql(Config(), "s3://bkt/manifests/m.manifest", true, nullptr);
  EXPECT_EQ(sql.text,
            "COPY \"events\" FROM 's3://bkt/manifests/m.manifest' IAM_ROLE "
            "'arn:aws:iam::123456789012:role/copy' FORMAT AS JSON 'auto' MANIFEST");
  // Nothing secret in a role ARN: the redacted text is the same.
  EXPECT_EQ(sql.redacted, sql.text);
}

TEST(RedshiftCopySql, EveryFormat) {
  RedshiftSettings c = Config();
  c.copy_format = CopyFormat::kJsonPaths;
  c.jsonpaths = "s3://bkt/paths/it's.json";
  EXPECT_EQ(RedshiftCopySql(c, "s3://bkt/k", false, nullptr).text,
            "COPY \"events\" FROM 's3://bkt/k' IAM_ROLE 'arn:aws:iam::123456789012:role/copy' "
            "FORMAT AS JSON 's3://bkt/paths/it''s.json'");
  c.copy_format = CopyFormat::kCsv;
  EXPECT_EQ(RedshiftCopySql(c, "s3://bkt/k", false, nullptr).text,
            "COPY \"events\" FROM 's3://bkt/k' IAM_ROLE 'arn:aws:iam::123456789012:role/copy' "
            "FORMAT AS CSV");
  c.copy_format = CopyFormat::kDelimited;
  EXPECT_EQ(RedshiftCopySql(c, "s3://bkt/k", false, nullptr).text,
            "COPY \"events\" FROM 's3://bkt/k' IAM_ROLE 'arn:aws:iam::123456789012:role/copy' "
            "DELIMITER '|'");
  c.delimiter = '\t';
  EXPECT_TRUE(RedshiftCopySql(c, "s3://bkt/k", false, nullptr).text.ends_with(" DELIMITER '\\t'"));
  c.delimiter = '\'';
  EXPECT_TRUE(RedshiftCopySql(c, "s3://bkt/k", false, nullptr).text.ends_with(" DELIMITER ''''"));
}

TEST(RedshiftCopySql, CompressionRegionAndColumnsInTheirPlaces) {
  RedshiftSettings c = Config();
  c.table = "analytics.events";
  c.columns = {"id", "user_name"};
  c.copy_format = CopyFormat::kCsv;
  c.compression = Compression::kGzip;
  c.copy_region = "eu-west-1";
  EXPECT_EQ(RedshiftCopySql(c, "s3://bkt/m", true, nullptr).text,
            "COPY \"analytics\".\"events\" (\"id\", \"user_name\") FROM 's3://bkt/m' IAM_ROLE "
            "'arn:aws:iam::123456789012:role/copy' FORMAT AS CSV GZIP REGION 'eu-west-1' "
            "MANIFEST");
  c.compression = Compression::kZstd;
  c.copy_region.clear();
  EXPECT_EQ(RedshiftCopySql(c, "s3://bkt/m", false, nullptr).text,
            "COPY \"analytics\".\"events\" (\"id\", \"user_name\") FROM 's3://bkt/m' IAM_ROLE "
            "'arn:aws:iam::123456789012:role/copy' FORMAT AS CSV ZSTD");
}

TEST(RedshiftCopySql, KeysFromTheChainAreQuotedAndHiddenInTheRedactedText) {
  RedshiftSettings c = Config();
  c.iam_role.clear();
  const SqlText sql = RedshiftCopySql(c, "s3://bkt/m", true, &kKeys);
  EXPECT_EQ(sql.text,
            "COPY \"events\" FROM 's3://bkt/m' ACCESS_KEY_ID 'AKIDEXAMPLE' SECRET_ACCESS_KEY "
            "'se/cr+et''key\\\\x' FORMAT AS JSON 'auto' MANIFEST");
  EXPECT_EQ(sql.redacted,
            "COPY \"events\" FROM 's3://bkt/m' ACCESS_KEY_ID '***' SECRET_ACCESS_KEY '***' "
            "FORMAT AS JSON 'auto' MANIFEST");
  EXPECT_EQ(sql.text.find("SESSION_TOKEN"), std::string::npos);

  const SqlText temporary = RedshiftCopySql(c, "s3://bkt/m", true, &kTemporary);
  EXPECT_EQ(temporary.text,
            "COPY \"events\" FROM 's3://bkt/m' ACCESS_KEY_ID 'ASIAEXAMPLE' SECRET_ACCESS_KEY "
            "'tmp-secret' SESSION_TOKEN 'tok''en' FORMAT AS JSON 'auto' MANIFEST");
  EXPECT_EQ(temporary.redacted,
            "COPY \"events\" FROM 's3://bkt/m' ACCESS_KEY_ID '***' SECRET_ACCESS_KEY '***' "
            "SESSION_TOKEN '***' FORMAT AS JSON 'auto' MANIFEST");
  for (const char* secret : {"ASIAEXAMPLE", "tmp-secret", "tok"}) {
    EXPECT_EQ(temporary.redacted.find(secret), std::string::npos) << secret;
  }
}

TEST(RedshiftCopySql, LiteralsDoubleQuotesAndBackslashes) {
  EXPECT_EQ(RedshiftLiteral("s3://b/it's\\x"), "'s3://b/it''s\\\\x'");
  EXPECT_EQ(PostgresLiteral("it's\\x"), "'it''s\\x'");
  RedshiftSettings c = Config();
  EXPECT_TRUE(RedshiftCopySql(c, "s3://bkt/o'k", false, nullptr)
                  .text.starts_with("COPY \"events\" FROM 's3://bkt/o''k' "));
}

TEST(PostgresCopySql, CsvAndDelimitedFromStdin) {
  RedshiftSettings c = Config();
  c.columns = {"id", "name"};
  c.copy_format = CopyFormat::kCsv;
  EXPECT_EQ(PostgresCopySql(c), "COPY \"events\" (\"id\", \"name\") FROM STDIN WITH (FORMAT csv)");
  c.copy_format = CopyFormat::kDelimited;
  c.columns.clear();
  EXPECT_EQ(PostgresCopySql(c), "COPY \"events\" FROM STDIN WITH (FORMAT text, DELIMITER '|')");
  c.delimiter = '\'';
  EXPECT_EQ(PostgresCopySql(c), "COPY \"events\" FROM STDIN WITH (FORMAT text, DELIMITER '''')");
}

TEST(Manifest, EntriesAreMandatoryAndEscapedAndReadBack) {
  const std::vector<std::string> urls = {"s3://bkt/a/1.csv", "s3://bkt/quote\"and\\slash",
                                         "s3://bkt/ключ 🙂.csv"};
  const std::string json = ManifestJson(urls);
  EXPECT_EQ(json,
            "{\"entries\":[{\"url\":\"s3://bkt/a/1.csv\",\"mandatory\":true},"
            "{\"url\":\"s3://bkt/quote\\\"and\\\\slash\",\"mandatory\":true},"
            "{\"url\":\"s3://bkt/ключ 🙂.csv\",\"mandatory\":true}]}");
  auto back = ManifestUrls(json);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, urls);
  EXPECT_EQ(ManifestJson({}), "{\"entries\":[]}");
  for (const char* bad : {"not json", "{\"files\":[]}", "{\"entries\":[{\"uri\":\"x\"}]}"}) {
    auto parsed = ManifestUrls(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kParse);
  }
}

Batch BatchOf(std::vector<std::string> data) {
  Batch b;
  b.stream = "events-manifest";
  b.shard_id = "shardId-000000000000";
  int seq = 10;
  for (auto& d : data) {
    Record r;
    r.data = std::move(d);
    r.sequence_number =
        "4959033827149025660855969253836157109592157598913600" + std::to_string(seq++);
    b.records.push_back(std::move(r));
  }
  b.first = b.records.front().position();
  b.last = b.records.back().position();
  return b;
}

RedshiftEmitter::ObjectScope Bkt() {
  return {.bucket = "bkt", .allowed_buckets = {}, .key_prefix = ""};
}

TEST(RedshiftEmitterUrls, KeysBecomeUrlsInOrderWithoutRepeats) {
  auto urls = RedshiftEmitter::ObjectUrls(
      BatchOf({"a/1.csv", "s3://other/b.csv", "a/1.csv", "a/2.csv", "s3://bkt/a/2.csv"}),
      {.bucket = "bkt", .allowed_buckets = {"other"}, .key_prefix = ""});
  ASSERT_TRUE(urls) << urls.error().ToString();
  EXPECT_EQ(*urls,
            (std::vector<std::string>{"s3://bkt/a/1.csv", "s3://other/b.csv", "s3://bkt/a/2.csv"}));
}

TEST(RedshiftEmitterUrls, AnObjectOutsideTheAllowedBucketsIsABadRecord) {
  auto urls = RedshiftEmitter::ObjectUrls(BatchOf({"a/1.csv", "s3://secrets/keys.csv"}), Bkt());
  ASSERT_FALSE(urls);
  EXPECT_EQ(urls.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(urls.error().message(),
            "bad record in stream events-manifest shard shardId-000000000000 at sequence number "
            "495903382714902566085596925383615710959215759891360011: it names an object in "
            "bucket \"secrets\", and this loader reads only bucket bkt; add the bucket to "
            "allowed_buckets to load from it");
  auto other = RedshiftEmitter::ObjectUrls(
      BatchOf({"s3://secrets/keys.csv"}),
      {.bucket = "bkt", .allowed_buckets = {"archive"}, .key_prefix = ""});
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message().find("only bucket bkt and those of allowed_buckets"),
            std::string::npos);
}

TEST(RedshiftEmitterUrls, WithAKeyPrefixOnlyKeysUnderItAreLoaded) {
  const RedshiftEmitter::ObjectScope scope{
      .bucket = "bkt", .allowed_buckets = {"archive"}, .key_prefix = "events/"};
  auto urls = RedshiftEmitter::ObjectUrls(
      BatchOf({"events/1.csv", "s3://bkt/events/2.csv", "s3://archive/any/3.csv"}), scope);
  ASSERT_TRUE(urls) << urls.error().ToString();
  EXPECT_EQ(urls->size(), 3u);
  for (std::string outside : {"secrets/keys.csv", "s3://bkt/secrets/keys.csv", "event/1.csv"}) {
    auto refused = RedshiftEmitter::ObjectUrls(BatchOf({"events/1.csv", outside}), scope);
    ASSERT_FALSE(refused) << outside;
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.error().message().find(
                  "and this loader reads only keys of bucket bkt that begin with key_prefix "
                  "\"events/\""),
              std::string::npos)
        << refused.error().message();
  }
}

TEST(RedshiftEmitterUrls, RecordsThatCannotNameAnObjectAreBadRecords) {
  for (std::string bad : {std::string(""), std::string("two\nlines"), std::string("\xff\xfe"),
                          std::string("s3://bucket-only"), std::string("s3:///key")}) {
    auto urls = RedshiftEmitter::ObjectUrls(BatchOf({"fine", bad}), Bkt());
    ASSERT_FALSE(urls) << bad;
    EXPECT_EQ(urls.error().code(), ErrorCode::kInvalidArgument);
    const std::string& m = urls.error().message();
    EXPECT_NE(m.find("shardId-000000000000"), std::string::npos) << m;
    EXPECT_NE(m.find("495903382714902566085596925383615710959215759891360011"), std::string::npos)
        << m;
  }
}

TEST(ManifestKey, NamesTheBatchSoAReplayRewritesTheSameObject) {
  const Batch b = BatchOf({"a", "b", "c"});
  EXPECT_EQ(ManifestKey("manifests/", b),
            "manifests/events-manifest/shardId-000000000000/"
            "495903382714902566085596925383615710959215759891360010-"
            "495903382714902566085596925383615710959215759891360012.manifest");
  EXPECT_EQ(ManifestKey("", b), ManifestKey("", BatchOf({"x", "y", "z"})));
}

TEST(S3Url, SplitsBucketAndKey) {
  auto where = ParseS3Url("s3://bkt/a/b c.csv");
  ASSERT_TRUE(where);
  EXPECT_EQ(where->bucket, "bkt");
  EXPECT_EQ(where->key, "a/b c.csv");
  EXPECT_FALSE(ParseS3Url("https://bkt/a"));
  EXPECT_FALSE(ParseS3Url("s3://bkt/"));
  EXPECT_EQ(ObjectUrl("bkt", "k/1"), "s3://bkt/k/1");
  EXPECT_EQ(ObjectUrl("bkt", "s3://x/y"), "s3://x/y");
}

}  // namespace
}  // namespace kc::emitter
