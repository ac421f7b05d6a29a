#include "clients/aws/process_credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "base/json_fields.h"
#include "base/units.h"

extern char** environ;

namespace kc::aws {
namespace {

using Steady = std::chrono::steady_clock;

// Closes the descriptors it holds, whatever path leaves the function.
struct Fds {
  std::array<int, 4> fd = {-1, -1, -1, -1};  // out read, out write, err read, err write
  ~Fds() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  void Close(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

std::string ExitDescription(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended abnormally";
}

}  // namespace

Result<std::vector<std::string>> SplitCommandLine(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (i + 1 < line.size()) word.push_back(line[++i]);
      continue;
    }
    if (c == '\'') {
      const size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return Fail(ErrorCode::kConfig, "the command line has a ' without its closing '");
      }
      word.append(line.substr(i + 1, end - i - 1));
      i = end;
      continue;
    }
    if (c == '"') {
      size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        // In double quotes a backslash escapes only these, as in the shell.
        if (line[j] == '\\' && j + 1 < line.size() &&
            std::string_view("\"\\$`").find(line[j + 1]) != std::string_view::npos) {
          ++j;
        }
        word.push_back(line[j]);
      }
      if (j >= line.size()) {
        return Fail(ErrorCode::kConfig, "the command line has a \" without its closing \"");
      }
      i = j;
      continue;
    }
    word.push_back(c);
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return Fail(ErrorCode::kConfig, "the command line is empty");
  return words;
}

Result<Credentials> ParseProcessCredentials(std::string_view json) {
  static const std::vector<util::JsonPath> paths = [] {
    std::vector<util::JsonPath> p;
    for (const char* name :
         {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}) {
      p.push_back(*util::JsonPath::Parse(name));
    }
    return p;
  }();
  std::vector<util::JsonField> fields;
  if (Status s = util::ReadJsonFields(json, paths, fields); !s) {
    return Fail(ErrorCode::kParse, "its output is not a JSON object (" + s.error().message() +
                                       "); it must print only the credentials as JSON with "
                                       "\"Version\": 1");
  }
  using Kind = util::JsonField::Kind;
  if (fields[0].kind != Kind::kNumber || fields[0].text != "1") {
    return Fail(ErrorCode::kParse,
                "its output must have \"Version\": 1, the only version there is");
  }
  for (int i : {1, 2}) {
    if (fields[i].kind != Kind::kString || fields[i].text.empty()) {
      return Fail(ErrorCode::kParse, "its output has no \"" + paths[i].text() + "\" string");
    }
  }
  Credentials out{fields[1].text, fields[2].text, {}};
  if (fields[3].kind == Kind::kString) {
    out.session_token = fields[3].text;
  } else if (fields[3].kind != Kind::kMissing && fields[3].kind != Kind::kNull) {
    return Fail(ErrorCode::kParse, "its \"SessionToken\" is not a string");
  }
  if (fields[4].kind == Kind::kString) {
    auto expires = ParseRfc3339(fields[4].text);
    if (!expires) {
      return Fail(ErrorCode::kParse,
                  "its \"Expiration\" is not an RFC 3339 time (" + expires.error().message() + ")");
    }
    out.expiration_ms = *expires;
  } else if (fields[4].kind != Kind::kMissing && fields[4].kind != Kind::kNull) {
    return Fail(ErrorCode::kParse, "its \"Expiration\" is not a string");
  }
  return out;
}

ProcessCredentialsProvider::ProcessCredentialsProvider(std::string command_line, std::string origin,
                                                       std::chrono::milliseconds timeout)
    : command_line_(std::move(command_line)), origin_(std::move(origin)), timeout_(timeout) {}

std::string ProcessCredentialsProvider::Describe() const {
  auto words = SplitCommandLine(command_line_);
  return origin_ + " (" + (words ? (*words)[0] : std::string("?")) + ")";
}

Result<Credentials> ProcessCredentialsProvider::Get() {
  auto words = SplitCommandLine(command_line_);
  if (!words) return Fail(ErrorCode::kConfig, origin_ + ": " + words.error().message());
  const std::string& program = (*words)[0];
  const std::string who = origin_ + " (" + program + ")";
  const std::string by_hand = "; run the command by hand to see its error output";

  Fds fds;
  if (::pipe2(&fds.fd[0], O_CLOEXEC) != 0 || ::pipe2(&fds.fd[2], O_CLOEXEC) != 0) {
    return Fail(ErrorCode::kIo, who + ": cannot create a pipe: " + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds.fd[3], 2);
  // Nothing else of ours: not every library opens its sockets close-on-exec,
  // and a helper has no business with the daemon's connections.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout kills whatever it started.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> argv;
  for (std::string& w : *words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    return Fail(ErrorCode::kAuth, who + " cannot be started: " + std::strerror(spawned) +
                                      "; check the program's path in the profile");
  }
  fds.Close(1);
  fds.Close(3);

  std::string out;
  bool too_long = false;
  bool timed_out = false;
  const auto deadline = Steady::now() + timeout_;
  std::array<char, 16384> buf;
  while (fds.fd[0] >= 0 || fds.fd[2] >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    std::array<pollfd, 2> polled = {pollfd{fds.fd[0], POLLIN, 0}, pollfd{fds.fd[2], POLLIN, 0}};
    const int ready = ::poll(polled.data(), polled.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      timed_out = true;  // cannot watch it any more: stopped as if it had hung
      break;
    }
    for (int i : {0, 1}) {
      if (polled[i].fd < 0 || polled[i].revents == 0) continue;
      const ssize_t n = ::read(polled[i].fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds.Close(i * 2);
        continue;
      }
      if (i == 1) continue;  // standard error: read so the program never blocks, then dropped
      if (out.size() + static_cast<size_t>(n) > kMaxProcessOutputBytes) {
        too_long = true;
        break;
      }
      out.append(buf.data(), static_cast<size_t>(n));
    }
    if (too_long) break;
  }
  // Both pipes closed: the program may still run (it closed them, or left
  // them to a child). It gets what is left of its time to exit.
  int status = 0;
  bool exited = false;
  while (!timed_out && !too_long) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) {
      exited = done == pid;
      break;
    }
    if (Steady::now() >= deadline) {
      timed_out = true;
      break;
    }
    ::poll(nullptr, 0, 10);
  }
  if (!exited) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (timed_out) {
    return Fail(ErrorCode::kAuth, who + " did not finish within " +
                                      std::to_string(timeout_.count() / 1000) +
                                      " s and was stopped" + by_hand);
  }
  if (too_long) {
    return Fail(ErrorCode::kAuth, who + " printed more than " +
                                      std::to_string(kMaxProcessOutputBytes) +
                                      " bytes; it must print only the credentials as JSON");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Fail(ErrorCode::kAuth, who + " " + ExitDescription(status) + by_hand);
  }
  auto credentials = ParseProcessCredentials(out);
  if (!credentials) return Fail(ErrorCode::kAuth, who + ": " + credentials.error().message());
  return credentials;
}

}  // namespace kc::aws
