// The checkpoint conformance suite for the postgres store, twice:
//
// - "postgres": on the server scripts/test starts (KC_POSTGRES_URL), shared
//   with other tests, so no outage is staged there. Without KC_POSTGRES_URL
//   it is left out, and MissingServer says so (a failure when
//   KC_REQUIRE_SERVICES=1, as scripts/test sets).
// - "postgres_own_server": on a server of this test's own, started with
//   kc_start_postgres in a temporary directory on a free port, which the
//   outage case stops and starts again with its data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "stores/postgres/postgres_checkpoint_store.h"
#include "support/checkpoint_conformance.h"
#include "support/own_server.h"

namespace kc::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// A PostgreSQL of this test's own, started with kc_start_postgres in its
// directory on a port chosen before it starts, so that the suite's
// parameters can name it; stopped and removed at exit.
OwnServer& Own() {
  static OwnServer& server = OwnServer::ForAllTests([] {
    OwnServer::Options options = ServicesShServer("postgres", KC_SERVICES_SH, "kc_start_postgres");
    options.keep_port = true;
    return options;
  }());
  return server;
}

// Starts the server on first use.
std::string OwnUrl() {
  static const bool started = Own().Start();
  // Without a server, every case fails with a connection error naming this database.
  return started ? "postgresql://postgres@" + Own().host_port() + "/postgres"
                 : "postgresql://postgres@127.0.0.1:1/kc_own_server_did_not_start";
}

// A table of this run's own on the shared server (so that a state saved by
// an earlier run is never mistaken for this one's), dropped at exit.
const std::string& SharedTable() {
  static const std::string table = [] {
    std::string name = "kc_conformance_" + std::to_string(::getpid()) + "_" +
                       std::to_string(std::random_device{}() % 1'000'000);
    struct Drop : ::testing::Environment {
      explicit Drop(std::string t) : table(std::move(t)) {}
      void TearDown() override {
        (void)pg::Connection(Env("KC_POSTGRES_URL")).Exec("DROP TABLE IF EXISTS " + table);
      }
      std::string table;
    };
    ::testing::AddGlobalTestEnvironment(new Drop(name));
    return name;
  }();
  return table;
}

std::vector<StoreFactory> Factories() {
  std::vector<StoreFactory> out;
  if (!Env("KC_POSTGRES_URL").empty()) {
    out.push_back(StoreFactory{.name = "postgres",
                               .open =
                                   [] {
                                     return std::unique_ptr<CheckpointStore>(
                                         std::make_unique<checkpoint::PostgresCheckpointStore>(
                                             Env("KC_POSTGRES_URL"), SharedTable(), "app"));
                                   },
                               .stop_server = {},
                               .start_server = {},
                               .server_name = {}});
  }
  out.push_back(StoreFactory{.name = "postgres_own_server",
                             .open =
                                 [] {
                                   return std::unique_ptr<CheckpointStore>(
                                       std::make_unique<checkpoint::PostgresCheckpointStore>(
                                           OwnUrl(), "", "app"));
                                 },
                             .stop_server = [] { Own().Stop(); },
                             .start_server = [] { Own().Start(); },
                             .server_name = Own().host_port()});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Stores, CheckpointConformance, ::testing::ValuesIn(Factories()),
                         PrintStoreName);

TEST(PostgresStore, MissingServer) {
  if (!Env("KC_POSTGRES_URL").empty()) return;
  if (Env("KC_REQUIRE_SERVICES") == "1") {
    FAIL() << "KC_POSTGRES_URL is not set but KC_REQUIRE_SERVICES=1; start PostgreSQL with "
              "kc_start_postgres (scripts/test does)";
  }
  GTEST_SKIP() << "KC_POSTGRES_URL is not set: the shared-server cases are left out";
}

}  // namespace
}  // namespace kc::testing
