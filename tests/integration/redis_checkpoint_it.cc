// The Redis checkpoint store against real redis-server instances:
//
// - the conformance suite on the shared server that scripts/test starts
//   (KC_REDIS_URL), and again on a server of this test's own, which the
//   outage case stops and restarts (keeping its data) without disturbing
//   the tests that share the other one;
// - the key layout the original Go library reads and writes, checked by
//   reading and writing the raw keys with hiredis, as redis-cli would.
//
// Without KC_REDIS_URL, or without redis-server on the PATH, those parts are
// skipped, unless KC_REQUIRE_SERVICES=1 (as scripts/test sets), when
// RedisServicesTest fails: a suite that silently tests nothing is worse than
// a red one.
#include <hiredis/hiredis.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kc/builtins.h"
#include "stores/codec/checkpoint_codec.h"
#include "stores/redis/redis_checkpoint_store.h"
#include "support/checkpoint_conformance.h"
#include "support/own_server.h"
#include "support/temp_dir.h"

namespace kc::testing {
namespace {

using checkpoint::RedisCheckpointStore;
using checkpoint::RedisStoreOptions;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

bool OnPath(const std::string& program) {
  std::string path = Env("PATH");
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find(':', start), path.size());
    const std::string dir = path.substr(start, end - start);
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// Unique per run, so that runs against the same server never see each other's keys.
std::string RunId() {
  static const std::string id =
      std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}() % 1'000'000);
  return id;
}

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RawReply = std::unique_ptr<redisReply, ReplyDeleter>;

// A plain client for what redis-cli would show or do.
class Raw {
 public:
  Raw(const std::string& host, int port, int db = 0) : c_(redisConnect(host.c_str(), port)) {
    if (!c_ || c_->err != 0) return;
    if (db != 0) Run({"SELECT", std::to_string(db)});
  }
  bool ok() const { return c_ && c_->err == 0; }
  RawReply Run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    return RawReply(static_cast<redisReply*>(
        redisCommandArgv(c_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
  }
  // GET: the value, or "(nil)".
  std::string Get(const std::string& key) {
    RawReply r = Run({"GET", key});
    if (!r) return "(no reply)";
    if (r->type == REDIS_REPLY_NIL) return "(nil)";
    return std::string(r->str, r->len);
  }

 private:
  std::unique_ptr<redisContext, ContextDeleter> c_;
};

// "redis://127.0.0.1:6379" → host and port (the test servers have no password).
std::pair<std::string, int> HostPort(const std::string& url) {
  auto parsed = checkpoint::ParseRedisUrl(url);
  if (!parsed) return {"", 0};
  return {parsed->host, parsed->port};
}

// A redis-server of this test's own, persisting every write (append-only
// file, fsync always) in its directory, so that a stop and a start on the
// same port keep the data, as a real outage would.
OwnServer& Own() {
  static OwnServer& server = OwnServer::ForAllTests([] {
    OwnServer::Options options;
    options.name = "redis-server";
    options.command = [](int port, const std::string& dir) {
      return std::vector<std::string>{
          "redis-server", "--bind", "127.0.0.1",    "--port", std::to_string(port), "--dir", dir,
          "--save",       "",       "--appendonly", "yes",    "--appendfsync",      "always"};
    };
    // Up once it answers PING, not merely once the port accepts.
    options.answers = [](int port) {
      Raw raw("127.0.0.1", port);
      if (!raw.ok()) return false;
      RawReply pong = raw.Run({"PING"});
      return pong && pong->type == REDIS_REPLY_STATUS;
    };
    return options;
  }());
  return server;
}

std::string OwnUrl() { return "redis://" + Own().host_port(); }

std::unique_ptr<CheckpointStore> OpenStore(const std::string& url,
                                           const std::string& ca_file = "") {
  RedisStoreOptions options;
  options.url = *checkpoint::ParseRedisUrl(url);
  options.ca_file = ca_file;
  options.default_app = "conf-" + RunId();
  // The keys have no pipeline in them: as the daemon's config ensures,
  // pipelines on one stream get apps of their own.
  options.apps = {{"conf-other", "conf-other-" + RunId()}};
  return std::make_unique<RedisCheckpointStore>(std::move(options));
}

// Runs `argv` (argv[0] looked up on the PATH) without a shell; true when
// it exits 0.
bool Run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return false;
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// An authority of the test's own and a certificate it signed for the
// address 127.0.0.1 only (not the name localhost), made once with openssl.
struct Certificates {
  TempDir dir{"kc-redis-tls"};
  bool made = false;
  std::string ca() const { return dir.path() + "/ca.pem"; }
  std::string cert() const { return dir.path() + "/server.pem"; }
  std::string key() const { return dir.path() + "/server.key"; }
};

const Certificates& Certs() {
  static const Certificates* certs = [] {
    auto* c = new Certificates();
    const std::string d = c->dir.path();
    {
      std::ofstream ext(d + "/san.ext");
      ext << "subjectAltName=IP:127.0.0.1\n";
    }
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};
    auto with = [&](std::vector<std::string> head, const std::vector<std::string>& tail) {
      head.insert(head.end(), ec.begin(), ec.end());
      head.insert(head.end(), tail.begin(), tail.end());
      return head;
    };
    c->made = Run(with({"openssl", "req", "-x509"},
                       {"-keyout", d + "/ca.key", "-out", c->ca(), "-days", "2", "-subj",
                        "/CN=kinesis-connectors test authority"})) &&
              Run(with({"openssl", "req"}, {"-keyout", c->key(), "-out", d + "/server.csr", "-subj",
                                            "/CN=redis test"})) &&
              Run({"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", c->ca(), "-CAkey",
                   d + "/ca.key", "-CAcreateserial", "-out", c->cert(), "-days", "2", "-extfile",
                   d + "/san.ext"});
    return c;
  }();
  return *certs;
}

// A redis-server of this test's own that speaks only TLS on its port.
OwnServer& OwnTls() {
  static OwnServer& server = OwnServer::ForAllTests([] {
    OwnServer::Options options;
    options.name = "redis-server-tls";
    options.command = [](int port, const std::string& dir) {
      const Certificates& c = Certs();
      return std::vector<std::string>{"redis-server",
                                      "--bind",
                                      "127.0.0.1",
                                      "--port",
                                      "0",
                                      "--tls-port",
                                      std::to_string(port),
                                      "--tls-cert-file",
                                      c.cert(),
                                      "--tls-key-file",
                                      c.key(),
                                      "--tls-ca-cert-file",
                                      c.ca(),
                                      "--tls-auth-clients",
                                      "no",
                                      "--dir",
                                      dir,
                                      "--save",
                                      "",
                                      "--appendonly",
                                      "yes",
                                      "--appendfsync",
                                      "always"};
    };
    // Up once it answers PING over TLS: after a restart it accepts
    // connections while still loading its data, answering LOADING.
    options.answers = [](int port) {
      checkpoint::RedisUrl url;
      url.host = "127.0.0.1";
      url.port = port;
      url.tls = true;
      auto c = checkpoint::RedisConnection::Open(url, {.connect_timeout = std::chrono::seconds(1),
                                                       .command_timeout = std::chrono::seconds(1),
                                                       .ca_file = Certs().ca(),
                                                       .max_reply_bytes = 1024});
      if (!c) return false;
      auto pong = (*c)->Exchange({{"PING"}});
      return pong && pong->front()->type == REDIS_REPLY_STATUS;
    };
    return options;
  }());
  return server;
}

std::string OwnTlsUrl() { return "rediss://" + OwnTls().host_port(); }

std::vector<StoreFactory> Factories() {
  std::vector<StoreFactory> out;
  if (!Env("KC_REDIS_URL").empty()) {
    out.push_back(StoreFactory{.name = "redis",
                               .open = [] { return OpenStore(Env("KC_REDIS_URL")); },
                               .stop_server = {},
                               .start_server = {},
                               .server_name = {}});
  }
  if (OnPath("redis-server")) {
    out.push_back(StoreFactory{.name = "redis_own_server",
                               .open =
                                   [] {
                                     Own().Start();
                                     return OpenStore(OwnUrl());
                                   },
                               .stop_server = [] { Own().Stop(); },
                               .start_server = [] { Own().Restart(); },
                               .server_name = "127.0.0.1"});
    out.push_back(StoreFactory{.name = "redis_tls",
                               .open =
                                   [] {
                                     OwnTls().Start();
                                     return OpenStore(OwnTlsUrl(), Certs().ca());
                                   },
                               .stop_server = [] { OwnTls().Stop(); },
                               .start_server = [] { OwnTls().Restart(); },
                               .server_name = "127.0.0.1"});
  }
  return out;
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CheckpointConformance);
INSTANTIATE_TEST_SUITE_P(Redis, CheckpointConformance, ::testing::ValuesIn(Factories()),
                         PrintStoreName);

TEST(RedisServicesTest, SharedServerAndRedisServerAreThere) {
  const bool required = Env("KC_REQUIRE_SERVICES") == "1";
  std::string missing;
  if (Env("KC_REDIS_URL").empty()) missing += "KC_REDIS_URL is not set (kc_start_redis sets it); ";
  if (!OnPath("redis-server")) missing += "redis-server is not on the PATH; ";
  if (missing.empty()) return;
  if (required) FAIL() << missing << "but KC_REQUIRE_SERVICES=1";
  GTEST_SKIP() << missing << "the Redis tests were skipped";
}

// The outage error names the very server.
TEST(RedisOwnServerTest, OutageNamesHostAndPort) {
  if (!OnPath("redis-server")) GTEST_SKIP() << "redis-server is not on the PATH";
  Own().Start();
  auto store = OpenStore(OwnUrl());
  Own().Stop();
  auto loaded = store->Load(ShardKey{"p", "s", "shardId-000000000000"});
  Own().Restart();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kConnection);
  EXPECT_NE(loaded.error().message().find("127.0.0.1:" + std::to_string(Own().port())),
            std::string::npos)
      << loaded.error().message();
}

// --- TLS ------------------------------------------------------------------

class RedisTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!OnPath("redis-server")) GTEST_SKIP() << "redis-server is not on the PATH";
    ASSERT_TRUE(Certs().made) << "openssl could not make the test's certificates";
    ASSERT_TRUE(OwnTls().Start());
  }
  ShardKey Key() const { return ShardKey{"p", "s-" + RunId(), "shardId-000000000000"}; }
};

TEST_F(RedisTlsTest, CheckpointsGoOverTlsAndReadBack) {
  auto store = OpenStore(OwnTlsUrl(), Certs().ca());
  ShardCheckpoint state;
  state.position = ShardPosition{"49590338271490256608559692538361571095921575989136588802", 3};
  ASSERT_TRUE(store->Save(Key(), state));
  auto loaded = OpenStore(OwnTlsUrl(), Certs().ca())->Load(Key());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(*loaded, state);
}

TEST_F(RedisTlsTest, AnAuthorityNotTrustedIsRefusedAndNamesTheFix) {
  // Without ca_file the system's authorities are used: none signed it.
  auto loaded = OpenStore(OwnTlsUrl())->Load(Key());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kInvalidArgument);
  const std::string& m = loaded.error().message();
  EXPECT_NE(m.find("TLS verification of Redis at " + OwnTls().host_port() + " failed"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("checkpoint.ca_file"), std::string::npos) << m;
}

TEST_F(RedisTlsTest, ANameTheCertificateDoesNotHoldIsRefused) {
  // The certificate is for 127.0.0.1; "localhost" reaches the same server
  // but is not a name it holds.
  auto loaded =
      OpenStore("rediss://localhost:" + std::to_string(OwnTls().port()), Certs().ca())->Load(Key());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(loaded.error().message().find("TLS verification"), std::string::npos)
      << loaded.error().message();
}

TEST_F(RedisTlsTest, TlsToAPlainPortIsAClearConnectionError) {
  Own().Start();
  auto loaded = OpenStore("rediss://" + Own().host_port(), Certs().ca())->Load(Key());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kConnection);
  EXPECT_NE(loaded.error().message().find("is the server's port a TLS port"), std::string::npos)
      << loaded.error().message();
}

TEST_F(RedisTlsTest, PlainTextToATlsPortIsAConnectionError) {
  auto loaded = OpenStore("redis://" + OwnTls().host_port())->Load(Key());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kConnection);
  EXPECT_NE(loaded.error().message().find(OwnTls().host_port()), std::string::npos)
      << loaded.error().message();
}

// --- The key layout, on the shared server ----------------------------------

class RedisLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = Env("KC_REDIS_URL");
    if (url_.empty()) GTEST_SKIP() << "KC_REDIS_URL is not set (start one with kc_start_redis)";
    std::tie(host_, port_) = HostPort(url_);
    raw_ = std::make_unique<Raw>(host_, port_);
    ASSERT_TRUE(raw_->ok()) << "cannot reach " << url_;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    app_ = std::string("layout-") + info->name() + "-" + RunId();
  }

  std::unique_ptr<CheckpointStore> Store(std::map<std::string, std::string> apps = {},
                                         const std::string& url = {}) {
    RedisStoreOptions options;
    options.url = *checkpoint::ParseRedisUrl(url.empty() ? url_ : url);
    options.default_app = app_;
    options.apps = std::move(apps);
    return std::make_unique<RedisCheckpointStore>(std::move(options));
  }

  // The key the Go library reads and writes.
  std::string GoKey(const std::string& stream, const std::string& shard) {
    return app_ + ":checkpoint:" + stream + ":" + shard;
  }

  static constexpr const char* kSeq = "49590338271490256608559692538361571095921575989136588898";
  static constexpr const char* kLater = "49590338271490256608559692538361571095921575989136589999";

  std::string url_, host_, app_;
  int port_ = 0;
  std::unique_ptr<Raw> raw_;
};

TEST_F(RedisLayoutTest, TheGoKeyHoldsThePlainSequenceNumber) {
  ShardCheckpoint state;
  state.position = ShardPosition{kSeq, 3};
  state.pending.push_back({{kLater, 0}, {kLater, 2}});
  ASSERT_TRUE(Store()->Save({"p", "events", "shardId-000000000001"}, state));
  EXPECT_EQ(raw_->Get(GoKey("events", "shardId-000000000001")), kSeq);
  // The rest of the state sits next to it, in the file store's JSON.
  auto decoded = checkpoint::DecodeShardCheckpoint(
      raw_->Get(GoKey("events", "shardId-000000000001") + ":state"));
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(*decoded, state);
  // Only those two keys.
  RawReply keys = raw_->Run({"KEYS", app_ + ":*"});
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->elements, 2u);
}

TEST_F(RedisLayoutTest, AKeyWrittenByTheGoLibraryAloneIsThePosition) {
  raw_->Run({"SET", GoKey("events", "shardId-000000000002"), kSeq});
  auto loaded = Store()->Load({"p", "events", "shardId-000000000002"});
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  ShardCheckpoint want;
  want.position = ShardPosition{kSeq, 0};
  EXPECT_EQ(*loaded, want);
}

TEST_F(RedisLayoutTest, APlainKeyRewrittenByAnotherWriterWins) {
  ShardCheckpoint state;
  state.position = ShardPosition{kSeq, 5};
  state.pending.push_back({{kLater, 0}, {kLater, 0}});
  ShardKey key{"p", "events", "shardId-000000000003"};
  ASSERT_TRUE(Store()->Save(key, state));
  // The Go library (or a user with redis-cli) moves the checkpoint on: our
  // state beside it is stale, and none of it is mixed in.
  raw_->Run({"SET", GoKey("events", "shardId-000000000003"), kLater});
  ShardCheckpoint want;
  want.position = ShardPosition{kLater, 0};
  EXPECT_EQ(*Store()->Load(key), want);
  // Deleting the plain key starts the shard again, whatever the state says.
  raw_->Run({"DEL", GoKey("events", "shardId-000000000003")});
  EXPECT_EQ(*Store()->Load(key), ShardCheckpoint{});
}

TEST_F(RedisLayoutTest, PendingBeforeTheFirstCheckpointLeavesNoPlainKey) {
  ShardCheckpoint state;
  state.pending.push_back({{kSeq, 0}, {kLater, 0}});
  ShardKey key{"p", "events", "shardId-000000000004"};
  raw_->Run({"SET", GoKey("events", "shardId-000000000004"), "(stale)"});
  ASSERT_TRUE(Store()->Save(key, state));
  EXPECT_EQ(raw_->Get(GoKey("events", "shardId-000000000004")), "(nil)");
  EXPECT_EQ(*Store()->Load(key), state);
}

TEST_F(RedisLayoutTest, DamagedKeysAreClearErrors) {
  ShardKey key{"p", "events", "shardId-000000000005"};
  raw_->Run({"SET", GoKey("events", "shardId-000000000005"), "not-a-number"});
  auto loaded = Store()->Load(key);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kParse);
  EXPECT_NE(loaded.error().message().find(GoKey("events", "shardId-000000000005")),
            std::string::npos)
      << loaded.error().message();
  EXPECT_NE(loaded.error().message().find("delete it"), std::string::npos);

  raw_->Run({"SET", GoKey("events", "shardId-000000000005"), kSeq});
  raw_->Run({"SET", GoKey("events", "shardId-000000000005") + ":state", "{broken"});
  loaded = Store()->Load(key);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kParse);
  EXPECT_NE(loaded.error().message().find(":state is damaged"), std::string::npos)
      << loaded.error().message();
}

TEST_F(RedisLayoutTest, EachPipelineUsesItsApp) {
  auto store = Store({{"to-s3", app_ + "-s3"}});
  ShardCheckpoint a;
  a.position = ShardPosition{kSeq, 0};
  ShardCheckpoint b;
  b.position = ShardPosition{kLater, 0};
  ASSERT_TRUE(store->Save({"to-files", "events", "shardId-000000000006"}, a));
  ASSERT_TRUE(store->Save({"to-s3", "events", "shardId-000000000006"}, b));
  EXPECT_EQ(raw_->Get(GoKey("events", "shardId-000000000006")), kSeq);
  EXPECT_EQ(raw_->Get(app_ + "-s3:checkpoint:events:shardId-000000000006"), kLater);
  EXPECT_EQ(*store->Load({"to-files", "events", "shardId-000000000006"}), a);
  EXPECT_EQ(*store->Load({"to-s3", "events", "shardId-000000000006"}), b);
}

TEST_F(RedisLayoutTest, TheDatabaseInTheUrlIsUsed) {
  ShardCheckpoint state;
  state.position = ShardPosition{kSeq, 0};
  ASSERT_TRUE(Store({}, url_ + "/3")->Save({"p", "events", "shardId-000000000007"}, state));
  EXPECT_EQ(raw_->Get(GoKey("events", "shardId-000000000007")), "(nil)");
  Raw db3(host_, port_, 3);
  EXPECT_EQ(db3.Get(GoKey("events", "shardId-000000000007")), kSeq);
  auto missing = Store({}, url_ + "/99999")->Load({"p", "events", "shardId-000000000007"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kConfig) << missing.error().ToString();
}

TEST_F(RedisLayoutTest, ARejectedPasswordIsAnAuthErrorThatDoesNotShowIt) {
  const std::string with_password = "redis://:wr0ngPassw0rd@" + host_ + ":" + std::to_string(port_);
  auto loaded = Store({}, with_password)->Load({"p", "events", "shardId-000000000008"});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kAuth) << loaded.error().ToString();
  EXPECT_EQ(loaded.error().message().find("wr0ngPassw0rd"), std::string::npos)
      << loaded.error().message();
}

TEST_F(RedisLayoutTest, KeysWithTheSeparatorAreRefused) {
  auto saved = Store()->Save({"p", "events", "shard:state"}, ShardCheckpoint{});
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code(), ErrorCode::kInvalidArgument);
}

TEST(RedisStoreTest, NothingListeningIsAConnectionErrorNamingTheServer) {
  const int port = FreePort();
  auto store =
      MakeRedisCheckpointStore("redis://:hunter2@127.0.0.1:" + std::to_string(port), "app");
  ASSERT_TRUE(store) << store.error().ToString();
  auto loaded = (*store)->Load({"p", "events", "shardId-000000000000"});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kConnection);
  EXPECT_TRUE(loaded.error().retriable());
  const std::string& m = loaded.error().message();
  EXPECT_NE(m.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << m;
  EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
  EXPECT_EQ((*store)->Describe().find("hunter2"), std::string::npos);
}

TEST(RedisStoreTest, ABadUrlIsAConfigError) {
  auto store = MakeRedisCheckpointStore("redis://:hunter2@cache:99999", "app");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(store.error().message().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace kc::testing
