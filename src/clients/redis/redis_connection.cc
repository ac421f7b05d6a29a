#include "clients/redis/redis_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

namespace kc::checkpoint {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadPiece = 16 * 1024;

std::string ErrnoText(int err) { return std::strerror(err); }

// The oldest OpenSSL error of this thread, and the queue emptied.
std::string SslErrorText() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "the connection ended during TLS";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Waits until `fd` is ready for `events` or the deadline passes.
Status Wait(int fd, short events, Clock::time_point deadline, const std::string& what) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Fail(ErrorCode::kConnection, what + " timed out");
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 60'000)));
    if (n > 0) return Ok();
    if (n < 0 && errno != EINTR)
      return Fail(ErrorCode::kConnection, what + ": " + ErrnoText(errno));
  }
}

// SIGPIPE blocked for this thread while OpenSSL may write to a socket the
// server closed (it writes with write(), not send(MSG_NOSIGNAL)); one raised
// meanwhile is taken, so that a program that does not ignore SIGPIPE gets
// EPIPE instead of dying.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~SigpipeBlocked() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        const timespec now{0, 0};
        sigtimedwait(&pipe, nullptr, &now);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

// A non-blocking TCP connection to one of `host`'s addresses.
Result<int> ConnectTcp(const RedisUrl& url, Clock::time_point deadline, const std::string& where) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port);
  if (const int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Fail(ErrorCode::kConnection,
                "cannot resolve " + where + ": " + std::string(::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
  std::string last = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last = ErrnoText(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (auto waited = Wait(fd, POLLOUT, deadline, "connecting to " + where); !waited) {
        ::close(fd);
        return Fail(waited.error());
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      last = ErrnoText(errno);
      ::close(fd);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }
  return Fail(ErrorCode::kConnection, "cannot connect to " + where + ": " + last);
}

bool IsAddress(const std::string& host) {
  in6_addr six;
  in_addr four;
  return ::inet_pton(AF_INET, host.c_str(), &four) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &six) == 1;
}

}  // namespace

void RedisReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

RedisConnection::~RedisConnection() {
  if (ssl_ != nullptr) {
    SigpipeBlocked quiet;
    SSL_shutdown(ssl_);  // one close_notify, not waited for
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
  if (reader_ != nullptr) redisReaderFree(reader_);
}

Result<std::unique_ptr<RedisConnection>> RedisConnection::Open(const RedisUrl& url,
                                                               const RedisConnectOptions& options) {
  std::unique_ptr<RedisConnection> c(new RedisConnection());
  c->address_ = url.Address();
  c->options_ = options;
  c->reader_ = redisReaderCreate();
  if (c->reader_ == nullptr) return Fail(ErrorCode::kInternal, "out of memory for a Redis reader");
  const std::string where = "Redis at " + c->address_;
  const Clock::time_point deadline = Clock::now() + options.connect_timeout;
  auto fd = ConnectTcp(url, deadline, where);
  if (!fd) return Fail(fd.error());
  c->fd_ = *fd;
  if (!url.tls) return c;

  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (c->ctx_ == nullptr) return Fail(ErrorCode::kInternal, "TLS: " + SslErrorText());
  SSL_CTX_set_min_proto_version(c->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  const int loaded = options.ca_file.empty()
                         ? SSL_CTX_set_default_verify_paths(c->ctx_)
                         : SSL_CTX_load_verify_locations(c->ctx_, options.ca_file.c_str(), nullptr);
  if (loaded != 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot load the authorities to trust for " + where + " from " +
                    (options.ca_file.empty() ? std::string("the system") : options.ca_file) + ": " +
                    SslErrorText());
  }
  c->ssl_ = SSL_new(c->ctx_);
  if (c->ssl_ == nullptr || SSL_set_fd(c->ssl_, c->fd_) != 1) {
    return Fail(ErrorCode::kInternal, "TLS: " + SslErrorText());
  }
  // The certificate must name the host of the URL: its address, or its
  // name (also sent as SNI).
  X509_VERIFY_PARAM* param = SSL_get0_param(c->ssl_);
  if (IsAddress(url.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
  } else {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(c->ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(url.host.c_str()));
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size());
  }
  SigpipeBlocked quiet;
  for (;;) {
    const int rc = SSL_connect(c->ssl_);
    if (rc == 1) break;
    const int why = SSL_get_error(c->ssl_, rc);
    if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
      auto waited = Wait(c->fd_, why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline,
                         "the TLS handshake with " + where);
      if (!waited) {
        return Fail(ErrorCode::kConnection,
                    waited.error().message() + "; is the server's port a TLS port (tls-port)?");
      }
      continue;
    }
    const long verified = SSL_get_verify_result(c->ssl_);
    if (verified != X509_V_OK) {
      ERR_clear_error();
      return Fail(ErrorCode::kInvalidArgument,
                  "TLS verification of " + where +
                      " failed: " + X509_verify_cert_error_string(verified) +
                      "; check the server's certificate (it must name " + url.host +
                      "), or name the authority that signed it with checkpoint.ca_file");
    }
    return Fail(ErrorCode::kConnection, "the TLS handshake with " + where +
                                            " failed: " + SslErrorText() +
                                            "; is the server's port a TLS port (tls-port)?");
  }
  return c;
}

Status RedisConnection::WriteAll(const std::string& data, Clock::time_point deadline) {
  const std::string what = "sending to Redis at " + address_;
  size_t sent = 0;
  while (sent < data.size()) {
    const size_t left = data.size() - sent;
    if (ssl_ == nullptr) {
      const ssize_t n = ::send(fd_, data.data() + sent, left, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (auto s = Wait(fd_, POLLOUT, deadline, what); !s) return s;
        continue;
      }
      return Fail(ErrorCode::kConnection, what + ": " + ErrnoText(errno));
    }
    const int n =
        SSL_write(ssl_, data.data() + sent, static_cast<int>(std::min<size_t>(left, 1 << 30)));
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    const int why = SSL_get_error(ssl_, n);
    if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
      if (auto s = Wait(fd_, why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, what); !s) {
        return s;
      }
      continue;
    }
    return Fail(ErrorCode::kConnection, what + ": " + SslErrorText());
  }
  return Ok();
}

Status RedisConnection::ReadSome(Clock::time_point deadline) {
  const std::string what = "waiting for Redis at " + address_;
  char piece[kReadPiece];
  for (;;) {
    ssize_t n = 0;
    short wait_for = POLLIN;
    if (ssl_ == nullptr) {
      n = ::recv(fd_, piece, sizeof piece, 0);
      if (n == 0) return Fail(ErrorCode::kConnection, what + ": the server closed the connection");
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          return Fail(ErrorCode::kConnection, what + ": " + ErrnoText(errno));
        }
      }
    } else {
      const int got = SSL_read(ssl_, piece, sizeof piece);
      n = got;
      if (got <= 0) {
        const int why = SSL_get_error(ssl_, got);
        if (why == SSL_ERROR_ZERO_RETURN) {
          return Fail(ErrorCode::kConnection, what + ": the server closed the connection");
        }
        if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE) {
          return Fail(ErrorCode::kConnection, what + ": " + SslErrorText());
        }
        if (why == SSL_ERROR_WANT_WRITE) wait_for = POLLOUT;
        n = -1;
      }
    }
    if (n > 0) {
      received_ += static_cast<uint64_t>(n);
      if (received_ > options_.max_reply_bytes) {
        return Fail(ErrorCode::kParse, "the answer from Redis at " + address_ + " is longer than " +
                                           std::to_string(options_.max_reply_bytes) +
                                           " bytes, the most a checkpoint store reads");
      }
      if (redisReaderFeed(reader_, piece, static_cast<size_t>(n)) != REDIS_OK) {
        return Fail(ErrorCode::kParse,
                    "the answer from Redis at " + address_ + " cannot be read: " + reader_->errstr);
      }
      return Ok();
    }
    if (auto s = Wait(fd_, wait_for, deadline, what); !s) return s;
  }
}

Result<std::vector<RedisReply>> RedisConnection::Exchange(
    const std::vector<std::vector<std::string>>& commands) {
  const Clock::time_point deadline = Clock::now() + options_.command_timeout;
  std::string out;
  for (const auto& command : commands) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    char* formatted = nullptr;
    const int size = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(),
                                            lengths.data());
    if (size < 0 || formatted == nullptr) {
      return Fail(ErrorCode::kInternal, "cannot format a Redis command (out of memory)");
    }
    out.append(formatted, static_cast<size_t>(size));
    redisFreeCommand(formatted);
  }
  // OpenSSL may write (data, or an alert) in any call: SIGPIPE stays
  // blocked for the whole exchange.
  std::optional<SigpipeBlocked> quiet;
  if (ssl_ != nullptr) quiet.emplace();
  if (auto s = WriteAll(out, deadline); !s) return Fail(s.error());
  received_ = 0;
  std::vector<RedisReply> replies;
  while (replies.size() < commands.size()) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
      return Fail(ErrorCode::kParse,
                  "the answer from Redis at " + address_ + " cannot be read: " + reader_->errstr);
    }
    if (reply != nullptr) {
      replies.emplace_back(static_cast<redisReply*>(reply));
      continue;
    }
    if (auto s = ReadSome(deadline); !s) return Fail(s.error());
  }
  return replies;
}

}  // namespace kc::checkpoint
