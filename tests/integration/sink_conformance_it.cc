// The sink conformance suite (support/sink_conformance.h) for the sinks
// whose service has a stand-in that scripts/test starts: PostgreSQL
// (KC_POSTGRES_URL), Redshift loading into PostgreSQL from s3rver
// (KC_S3_ENDPOINT) and DynamoDB on dynalite (KC_DYNAMODB_ENDPOINT).
//
// A service that cannot be reached is a closed port (PostgreSQL) or a
// transport that fails to connect (the HTTP services); one that refuses is
// a table that does not exist. Without the services the cases are skipped,
// unless KC_REQUIRE_SERVICES=1 (as scripts/test sets), when they fail.
#include <unistd.h>

#include <simdjson.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <set>

#include "clients/pg/connection.h"
#include "clients/s3/s3_client.h"
#include "sinks/dynamodb/dynamodb_emitter.h"
#include "sinks/postgres/postgres_emitter.h"
#include "sinks/redshift/redshift_emitter.h"
#include "stores/postgres/postgres_checkpoint_store.h"
#include "support/breakable_transport.h"
#include "support/dynalite.h"
#include "support/sink_conformance.h"

namespace kc::testing {
namespace {

std::string Env(const char* name, const std::string& fallback = {}) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// Fails (with KC_REQUIRE_SERVICES=1) or skips the test when a variable is
// not set; returns whether they all are.
bool Services(std::initializer_list<const char*> names) {
  std::string missing;
  for (const char* name : names) {
    if (Env(name).empty()) missing += std::string(missing.empty() ? "" : ", ") + name;
  }
  if (missing.empty()) return true;
  if (Env("KC_REQUIRE_SERVICES") == "1") {
    ADD_FAILURE() << missing << " not set but KC_REQUIRE_SERVICES=1 (scripts/test starts them)";
  }
  return false;
}

// Unique per harness, so cases and parallel runs never share a table.
std::string UniqueName(const std::string& prefix) {
  return prefix + std::to_string(::getpid()) + "_" +
         std::to_string(std::random_device{}() % 1'000'000'000);
}

std::string JsonRecord(int i) {
  return R"({"n":)" + std::to_string(i) + R"(,"name":"r)" + std::to_string(i) + R"("})";
}

// A libpq URL whose port nothing listens on: connections are refused.
constexpr char kUnreachable[] = "postgresql://kc@127.0.0.1:1/kc?connect_timeout=2";

// The numbers in column `n` of `table`, in the order the rows went in (a
// serial column of the test's own).
std::vector<int> NumbersOf(const std::string& url, const std::string& table) {
  auto rows = pg::Connection(url).Exec("SELECT n FROM " + table + " ORDER BY inserted");
  EXPECT_TRUE(rows) << rows.error().ToString();
  std::vector<int> out;
  for (int i = 0; rows && i < rows->size(); ++i)
    out.push_back(std::stoi(std::string(rows->Get(i, 0))));
  return out;
}

// --- PostgreSQL: rows of a table, at least once through Emit, exactly once
// when the checkpoints commit with the rows.
class PostgresHarness final : public SinkHarness {
 public:
  explicit PostgresHarness(bool transactional) : transactional_(transactional) {
    url_ = Env("KC_POSTGRES_URL");
    table_ = UniqueName("kc_conf_pg_");
    auto created = pg::Connection(url_).Exec("CREATE TABLE " + table_ +
                                             " (inserted bigserial, n int, name text)");
    EXPECT_TRUE(created) << created.error().ToString();
  }
  ~PostgresHarness() override {
    pg::Connection conn(url_);
    (void)conn.Exec("DROP TABLE IF EXISTS " + table_);
    (void)conn.Exec("DROP TABLE IF EXISTS " + table_ + "_checkpoints");
  }
  std::unique_ptr<Emitter> Open(RetryPolicy retry, Clock*) override {
    emitter::PostgresSettings settings;
    settings.url = outage_ == Outage::kTransient && broken_ ? kUnreachable : url_;
    settings.table = broken_ && outage_ == Outage::kFinal ? table_ + "_missing" : table_;
    settings.columns = {{"n", *util::JsonPath::Parse("n")},
                        {"name", *util::JsonPath::Parse("name")}};
    std::shared_ptr<checkpoint::PostgresCheckpointStore> store;
    if (transactional_) {
      store = std::make_shared<checkpoint::PostgresCheckpointStore>(settings.url,
                                                                    table_ + "_checkpoints", "app");
    }
    auto e = emitter::PostgresEmitter::Create(settings, store, retry);
    EXPECT_TRUE(e) << e.error().ToString();
    return e ? std::move(*e) : nullptr;
  }
  std::string DataFor(int i) override { return JsonRecord(i); }
  std::vector<int> Delivered() override { return NumbersOf(url_, table_); }
  std::optional<std::string> BadData() override { return "not json"; }
  bool Break(Outage outage) override {
    broken_ = true;
    outage_ = outage;
    return true;
  }
  void Heal() override { broken_ = false; }

 private:
  bool transactional_;
  std::string url_;
  std::string table_;
  bool broken_ = false;
  Outage outage_ = Outage::kTransient;
};

// The outages of a sink over HTTP whose final refusal is a missing table:
// the wire fails to connect, or the emitter is opened on a table that does
// not exist.
struct HttpOutage {
  std::shared_ptr<BreakableTransport> wire =
      std::make_shared<BreakableTransport>(SharedCurlTransport());
  bool missing_table = false;

  bool Break(Outage outage) {
    if (outage == Outage::kTransient) {
      wire->Unreachable();
    } else {
      missing_table = true;
    }
    return true;
  }
  void Heal() {
    wire->Heal();
    missing_table = false;
  }
};

// --- Redshift, loading into PostgreSQL: each record is the key of an S3
// object holding one row; a file table keeps objects from loading twice.
class RedshiftHarness final : public SinkHarness {
 public:
  RedshiftHarness() {
    url_ = Env("KC_POSTGRES_URL");
    table_ = UniqueName("kc_conf_rs_");
    prefix_ = "conformance/" + table_ + "/";
    auto created = pg::Connection(url_).Exec("CREATE TABLE " + table_ +
                                             " (inserted bigserial, n int, name text)");
    EXPECT_TRUE(created) << created.error().ToString();
    aws::S3Options options;
    options.endpoint = Env("KC_S3_ENDPOINT");
    options.region = "us-east-1";
    options.path_style = true;
    credentials_ = std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{
        Env("KC_S3_ACCESS_KEY_ID", "S3RVER"), Env("KC_STANDIN_SECRET", "kc-test-secret"), ""});
    options_ = options;
  }
  ~RedshiftHarness() override {
    pg::Connection conn(url_);
    (void)conn.Exec("DROP TABLE IF EXISTS " + table_);
    (void)conn.Exec("DROP TABLE IF EXISTS " + table_ + "_files");
  }
  std::unique_ptr<Emitter> Open(RetryPolicy retry, Clock*) override {
    emitter::RedshiftSettings settings;
    settings.url = url_;
    settings.table = outage_.missing_table ? table_ + "_missing" : table_;
    settings.columns = {"n", "name"};
    settings.file_table = table_ + "_files";
    settings.bucket = bucket_;
    settings.manifest_prefix = prefix_ + "manifests/";
    settings.copy_format = emitter::CopyFormat::kCsv;
    settings.load_target = emitter::LoadTarget::kPostgres;
    // Requests are signed at the real time (s3rver refuses a skewed one);
    // the retries wait on the suite's clock.
    auto s3 = std::make_shared<aws::S3Client>(options_, outage_.wire, credentials_, retry,
                                              &Clock::Real());
    return std::make_unique<emitter::RedshiftEmitter>(settings, s3, credentials_, retry);
  }
  std::string DataFor(int i) override {
    const std::string key = prefix_ + "data/" + std::to_string(i) + ".csv";
    if (!put_.contains(i)) {
      aws::S3Client s3(options_, aws::MakeCurlTransport(aws::HttpOptions{}), credentials_,
                       RetryPolicy(RetryOptions{.max_attempts = 3}));
      auto put =
          s3.PutObject(bucket_, key, std::to_string(i) + ",r" + std::to_string(i) + "\n", {});
      EXPECT_TRUE(put) << put.error().ToString();
      put_.insert(i);
    }
    return key;
  }
  std::vector<int> Delivered() override { return NumbersOf(url_, table_); }
  std::optional<std::string> BadData() override { return ""; }  // no key at all
  bool Break(Outage outage) override { return outage_.Break(outage); }
  void Heal() override { outage_.Heal(); }

 private:
  std::string url_;
  std::string table_;
  std::string prefix_;
  std::string bucket_ = Env("KC_S3_BUCKET", "kc-test-bucket");
  aws::S3Options options_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  std::set<int> put_;
  HttpOutage outage_;
};

// --- DynamoDB: an item per record, keyed by the record's number; a replay
// puts the same items again, which leaves the table as once.
class DynamoDbHarness final : public SinkHarness {
 public:
  DynamoDbHarness() {
    endpoint_ = Env("KC_DYNAMODB_ENDPOINT");
    table_ = UniqueName("kc-conf-");
    const std::string create =
        R"({"TableName":")" + table_ +
        R"(","AttributeDefinitions":[{"AttributeName":"n","AttributeType":"N"}],)"
        R"("KeySchema":[{"AttributeName":"n","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"})";
    auto created = DynaliteClient(endpoint_).Call("CreateTable", create);
    EXPECT_TRUE(created) << created.error().ToString();
    // A new table refuses reads until it is ACTIVE (dynalite takes a moment,
    // as DynamoDB does): a scan of the empty batch's result would race it.
    auto active = DynaliteClient(endpoint_).DescribeActive(table_);
    EXPECT_TRUE(active) << active.error().ToString();
  }
  ~DynamoDbHarness() override { (void)DynaliteClient(endpoint_).DeleteTable(table_); }
  std::unique_ptr<Emitter> Open(RetryPolicy retry, Clock* clock) override {
    emitter::DynamoDbEmitterOptions options{
        .table = outage_.missing_table ? table_ + "-missing" : table_,
        .hash_key = "n",
        .range_key = "",
        .declared = {}};
    return std::make_unique<emitter::DynamoDbEmitter>(DynaliteClient(endpoint_, outage_.wire),
                                                      std::move(options), retry, clock);
  }
  std::string DataFor(int i) override { return JsonRecord(i); }
  // Every item's number; a table has no order, so in the order of the numbers.
  std::vector<int> Delivered() override {
    auto answer = DynaliteClient(endpoint_).Call(
        "Scan", R"({"TableName":")" + table_ + R"(","ConsistentRead":true})");
    EXPECT_TRUE(answer) << answer.error().ToString();
    std::vector<int> out;
    if (!answer) return out;
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(*answer);
    for (simdjson::dom::element item : doc["Items"].get_array()) {
      const std::string name(item["name"]["S"].get_string().value());
      const int n = std::stoi(std::string(item["n"]["N"].get_string().value()));
      EXPECT_EQ(name, "r" + std::to_string(n));
      out.push_back(n);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::optional<std::string> BadData() override { return "not json"; }
  bool Break(Outage outage) override { return outage_.Break(outage); }
  void Heal() override { outage_.Heal(); }

 private:
  std::string endpoint_;
  std::string table_;
  HttpOutage outage_;
};

// A harness whose services are there; otherwise a harness-less factory
// result that the fixture turns into a skip (or a failure, when required).
template <typename Make>
SinkFactory Sink(std::string name, bool exactly_once, std::initializer_list<const char*> services,
                 Make make) {
  std::vector<const char*> needed(services);
  return SinkFactory{.name = std::move(name),
                     .exactly_once = exactly_once,
                     .make = [needed, make]() -> std::unique_ptr<SinkHarness> {
                       for (const char* v : needed) {
                         if (!Services({v})) return nullptr;
                       }
                       return make();
                     }};
}

INSTANTIATE_TEST_SUITE_P(
    Sinks, SinkConformance,
    ::testing::Values(Sink("postgres", false, {"KC_POSTGRES_URL"},
                           [] { return std::make_unique<PostgresHarness>(false); }),
                      Sink("postgres_with_checkpoints", true, {"KC_POSTGRES_URL"},
                           [] { return std::make_unique<PostgresHarness>(true); }),
                      Sink("redshift", true, {"KC_POSTGRES_URL", "KC_S3_ENDPOINT"},
                           [] { return std::make_unique<RedshiftHarness>(); }),
                      Sink("dynamodb", true, {"KC_DYNAMODB_ENDPOINT"},
                           [] { return std::make_unique<DynamoDbHarness>(); })),
    PrintSinkName);

}  // namespace
}  // namespace kc::testing
