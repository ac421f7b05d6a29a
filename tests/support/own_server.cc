#include "support/own_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <utility>

extern char** environ;

namespace kc::testing {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Between two looks at a condition: short, so that waiting for a server
// costs little more than the server takes.
constexpr auto kPollInterval = 20ms;

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

bool AcceptsConnections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in addr = Loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string Joined(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string ExitOf(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Runs `args` (argv[0] looked up on the PATH, no shell) with its standard
// streams set up by `actions`.
Result<pid_t> Spawn(std::vector<std::string> args, const posix_spawn_file_actions_t* actions) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int err = ::posix_spawnp(&pid, argv[0], actions, nullptr, argv.data(), environ);
  if (err != 0) {
    return Fail(ErrorCode::kInternal, "cannot run " + args[0] + ": " + std::strerror(err));
  }
  return pid;
}

void Reap(pid_t pid, int* status) {
  while (::waitpid(pid, status, 0) < 0 && errno == EINTR) {
  }
}

// Runs `args` to its end; its output (standard output and error together)
// is in the error when it fails.
Status RunToEnd(const std::vector<std::string>& args) {
  std::array<int, 2> pipe{};
  if (::pipe2(pipe.data(), O_CLOEXEC) != 0) {
    return Fail(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, pipe[1], 1);
  ::posix_spawn_file_actions_adddup2(&actions, pipe[1], 2);
  auto pid = Spawn(args, &actions);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(pipe[1]);
  std::string out;
  if (pid) {
    std::array<char, 4096> buf;
    for (;;) {
      const ssize_t n = ::read(pipe[0], buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buf.data(), static_cast<size_t>(n));
    }
  }
  ::close(pipe[0]);
  if (!pid) return Fail(pid.error());
  int status = 0;
  Reap(*pid, &status);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  return Fail(ErrorCode::kInternal, Joined(args) + " failed (" + ExitOf(status) + "):\n" + out);
}

// Waits until `pid` exits or `deadline` passes; true when it exited (and was
// reaped).
bool ExitsBy(pid_t pid, SteadyClock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not ours to wait for any more
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// SIGTERM, then SIGKILL when the process outlives `grace`.
void Terminate(pid_t pid, std::chrono::seconds grace, const std::string& name) {
  if (pid <= 0) return;  // kill(0) would reach the whole process group
  ::kill(pid, SIGTERM);
  if (ExitsBy(pid, SteadyClock::now() + grace)) return;
  std::cerr << name << " (pid " << pid << ") outlived SIGTERM by " << grace.count()
            << " s; killing it\n";
  ::kill(pid, SIGKILL);
  int status = 0;
  Reap(pid, &status);
}

// The end of what `path` got since it was `offset` bytes long.
std::string LogSince(const std::string& path, std::uintmax_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log at " + path + ")";
  in.seekg(static_cast<std::streamoff>(offset));
  std::string text;
  std::array<char, 4096> buf;
  while (in.read(buf.data(), buf.size()) || in.gcount() > 0) {
    text.append(buf.data(), static_cast<size_t>(in.gcount()));
  }
  constexpr size_t kShown = 4000;
  if (text.size() > kShown) text = "..." + text.substr(text.size() - kShown);
  return text.empty() ? "(the log is empty)" : text;
}

}  // namespace

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

OwnServer::OwnServer(Options options) : options_(std::move(options)), port_(FreePort()) {}

OwnServer::~OwnServer() { TearDown(); }

const std::string& OwnServer::dir() const {
  static const std::string kNone;
  return dir_ ? dir_->path() : kNone;
}

OwnServer& OwnServer::ForAllTests(Options options) {
  auto* server = new OwnServer(std::move(options));
  ::testing::AddGlobalTestEnvironment(server);
  return *server;
}

bool OwnServer::Answers() const {
  return options_.answers ? options_.answers(port_) : AcceptsConnections(port_);
}

bool OwnServer::Start() {
  if (running_) return true;
  if (!dir_) dir_ = std::make_unique<TempDir>("kc-" + options_.name);
  // Once clients may know the port, the server must come back on it.
  const int attempts = options_.keep_port || has_run_ ? 1 : 3;
  Status started;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (port_ == 0 || attempt > 1) port_ = FreePort();
    bool at_once = false;
    started = TryStart(&at_once);
    if (started || !at_once) break;
  }
  if (!started) {
    ADD_FAILURE() << options_.name << " did not start on " << host_port() << ": "
                  << started.error().message();
    return false;
  }
  running_ = true;
  has_run_ = true;
  return true;
}

Status OwnServer::TryStart(bool* at_once) {
  *at_once = false;
  const auto deadline = SteadyClock::now() + options_.start_timeout;
  if (!options_.command) {
    if (auto s = options_.start(port_, dir()); !s) {
      *at_once = true;
      return s;
    }
    while (!Answers()) {
      if (SteadyClock::now() >= deadline) {
        (void)options_.stop(dir());
        return Fail(ErrorCode::kUnavailable, "started, but no answer within " +
                                                 std::to_string(options_.start_timeout.count()) +
                                                 " s");
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    return Ok();
  }

  const std::string log = dir() + "/" + options_.name + ".log";
  {
    std::ofstream mark(log, std::ios::app);
    mark << "--- start on " << host_port() << "\n";
  }
  // What the log gets from here on is this start's.
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(log, ec);
  const std::uintmax_t offset = ec ? 0 : size;
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ::posix_spawn_file_actions_adddup2(&actions, 1, 2);
  auto pid = Spawn(options_.command(port_, dir()), &actions);
  ::posix_spawn_file_actions_destroy(&actions);
  if (!pid) return Fail(pid.error());
  pid_ = *pid;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = 0;
      *at_once = true;
      return Fail(ErrorCode::kUnavailable,
                  "it exited (" + ExitOf(status) + "); its log ends:\n" + LogSince(log, offset));
    }
    if (Answers()) return Ok();
    if (SteadyClock::now() >= deadline) {
      Terminate(pid_, options_.stop_timeout, options_.name);
      pid_ = 0;
      return Fail(ErrorCode::kUnavailable, "no answer within " +
                                               std::to_string(options_.start_timeout.count()) +
                                               " s; its log ends:\n" + LogSince(log, offset));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

void OwnServer::Stop() {
  if (!running_) return;
  running_ = false;
  if (options_.command) {
    Terminate(pid_, options_.stop_timeout, options_.name);
    pid_ = 0;
    return;
  }
  if (auto s = options_.stop(dir()); !s) {
    ADD_FAILURE() << "stopping " << options_.name << " on " << host_port()
                  << " failed: " << s.error().message();
  }
}

bool OwnServer::Restart() {
  Stop();
  return Start();
}

void OwnServer::TearDown() {
  Stop();
  dir_.reset();
}

OwnServer::Options ServicesShServer(std::string name, std::string services_sh,
                                    std::string start_function, std::vector<std::string> args) {
  // The functions are bash's: source services.sh, then run the one named
  // by the first argument with the rest. Paths pass as arguments, never
  // through the script's text.
  auto bash = [services_sh](std::vector<std::string> call) {
    std::vector<std::string> argv = {"bash", "-c", "source \"$0\" && \"$@\"", services_sh};
    argv.insert(argv.end(), call.begin(), call.end());
    return RunToEnd(argv);
  };
  OwnServer::Options options;
  options.name = std::move(name);
  options.start = [bash, start_function = std::move(start_function), args = std::move(args)](
                      int port, const std::string& dir) {
    std::vector<std::string> call = {start_function, dir, std::to_string(port)};
    call.insert(call.end(), args.begin(), args.end());
    return bash(std::move(call));
  };
  options.stop = [bash](const std::string& dir) { return bash({"kc_stop_services", dir}); };
  return options;
}

}  // namespace kc::testing
