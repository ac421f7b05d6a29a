// A server of a test's own on 127.0.0.1, which the test may stop and start
// again (keeping its data, as a real outage would) without disturbing the
// tests that share the servers scripts/test starts. Its files live in a
// temporary directory of its own, removed with it.
//
// The test says how the server runs, one of two ways:
// - `command`: the server in the foreground, spawned without a shell (its
//   output goes to DIR/NAME.log) and stopped with SIGTERM, then SIGKILL when
//   it outlives a deadline;
// - `start` and `stop`: the test's own, e.g. the functions of
//   scripts/lib/services.sh (see ServicesShServer) for servers that need
//   steps of their own, such as initdb.
// Either way it is up once `answers` says so, asked until a deadline.
#pragma once

#include <gtest/gtest.h>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kc/status.h"
#include "support/temp_dir.h"

namespace kc::testing {

// A port on 127.0.0.1 that nothing listens on now. Another process may still
// take it before the caller binds it.
int FreePort();

class OwnServer : public ::testing::Environment {
 public:
  struct Options {
    // In messages and in the name of the server's directory, e.g. "redis-server".
    std::string name;
    // The server's argv, argv[0] looked up on the PATH, given its port and
    // directory.
    std::function<std::vector<std::string>(int port, const std::string& dir)> command;
    // Without `command`: starts the server, returning once it runs or with
    // why it did not; and stops it.
    std::function<Status(int port, const std::string& dir)> start;
    std::function<Status(const std::string& dir)> stop;
    // Whether the server on `port` answers; empty: whether it accepts a TCP
    // connection.
    std::function<bool(int port)> answers;
    // A first start whose server fails at once (its port taken since
    // FreePort looked, say) tries again on another port, unless the port was
    // handed out before the start (into a test's parameters, say): then it
    // must stay.
    bool keep_port = false;
    std::chrono::seconds start_timeout{30};
    std::chrono::seconds stop_timeout{10};
  };

  explicit OwnServer(Options options);
  ~OwnServer() override;
  OwnServer(const OwnServer&) = delete;
  OwnServer& operator=(const OwnServer&) = delete;

  // A server for the whole test binary: the tests' environment owns it and
  // stops it (removing its directory) after the last test, while a failure
  // there can still be reported.
  static OwnServer& ForAllTests(Options options);

  // Starts the server unless it runs. Once it has run, it starts again on
  // the same port, in the same directory: clients find it where they left
  // it. False, with a test failure naming the server and showing the end of
  // its log, when it does not come up.
  bool Start();
  // Stops the server, keeping its directory.
  void Stop();
  // Stops the server if it runs and starts it again on the same port.
  bool Restart();

  bool running() const { return running_; }
  int port() const { return port_; }
  // "127.0.0.1:PORT", as errors about the server name it.
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
  // The server's directory; empty before the first start.
  const std::string& dir() const;

  // Stops the server and removes its directory.
  void TearDown() override;

 private:
  // One try at starting it; `at_once` tells whether it failed at once (the
  // server exited, or the start said no) rather than at the deadline.
  Status TryStart(bool* at_once);
  bool Answers() const;

  Options options_;
  int port_ = 0;
  std::unique_ptr<TempDir> dir_;
  pid_t pid_ = 0;  // with `command`: the running server
  bool running_ = false;
  bool has_run_ = false;
};

// Options for a server that scripts/lib/services.sh runs: started with
// `start_function DIR PORT args...` (kc_start_postgres, say), stopped with
// `kc_stop_services DIR`; `services_sh` is the path of services.sh.
OwnServer::Options ServicesShServer(std::string name, std::string services_sh,
                                    std::string start_function, std::vector<std::string> args = {});

}  // namespace kc::testing
