// The checkpoint conformance suite for the postgres store, twice:
//
// - "postgres": on the server scripts/test starts (KC_POSTGRES_URL), shared
//   with other tests, so no outage is staged there. Without KC_POSTGRES_URL
//   it is left out, and MissingServer says so (a failure when
//   KC_REQUIRE_SERVICES=1, as scripts/test sets).
// - "postgres_own_server": on a server of this test's own, started with
//   kc_start_postgres in a temporary directory on a free port, which the
//   outage case stops and starts again with its data.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "stores/postgres/postgres_checkpoint_store.h"
#include "support/checkpoint_conformance.h"

namespace kc::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// Runs `script` in bash with services.sh sourced and "$1" = `dir`; returns
// its standard output, or nothing (and a test failure) when it fails.
std::optional<std::string> Services(const std::string& script, const std::string& dir) {
  const std::string command = "bash -c 'source \"$0\" && " + script + "' '" +
                              std::string(KC_SERVICES_SH) + "' '" + dir + "' 2>&1";
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::array<char, 4096> buf;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  if (::pclose(p) != 0) {
    ADD_FAILURE() << "services.sh: " << script << " failed:\n" << out;
    return std::nullopt;
  }
  return out;
}

// A PostgreSQL of this test's own; stopped and removed at exit.
class OwnServer : public ::testing::Environment {
 public:
  static OwnServer& Get() {
    static OwnServer* server = [] {
      auto* s = new OwnServer;
      ::testing::AddGlobalTestEnvironment(s);
      return s;
    }();
    return *server;
  }

  // Starts it on first use.
  const std::string& url() {
    if (url_.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "kc-pg-store-XXXXXX").string();
      dir_ = ::mkdtemp(tmpl.data());
      Start();
    }
    return url_;
  }
  // "127.0.0.1:PORT", as errors must name the server. The port is chosen
  // before the server starts, so that the suite's parameters can hold it.
  std::string name() const { return "127.0.0.1:" + port_; }

  void Stop() { Services("kc_stop_services \"$1\"", dir_); }
  // Starts the server, again on the same port and data after Stop().
  void Start() {
    if (Services("kc_start_postgres \"$1\" " + port_, dir_)) {
      url_ = "postgresql://postgres@" + name() + "/postgres";
    } else {
      // Every case then fails with a connection error naming this database.
      url_ = "postgresql://postgres@127.0.0.1:1/kc_own_server_did_not_start";
    }
  }

  void TearDown() override {
    if (dir_.empty()) return;
    Stop();
    std::filesystem::remove_all(dir_);
  }

 private:
  OwnServer() {
    // A port nothing listens on now.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = std::to_string(ntohs(addr.sin_port));
    }
    ::close(fd);
  }

  std::string dir_;
  std::string url_;
  std::string port_;
};

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
                                           OwnServer::Get().url(), "", "app"));
                                 },
                             .stop_server = [] { OwnServer::Get().Stop(); },
                             .start_server = [] { OwnServer::Get().Start(); },
                             .server_name = OwnServer::Get().name()});
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
