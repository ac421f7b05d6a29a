// The curl transport's limits against a server of the test's own on
// 127.0.0.1 that answers as a hostile one would: longer than the call
// accepts (announced, or sent without a length), a trickle, an answer that
// moves but never ends. Each call ends with the error that says so, well
// before the server would have finished.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "clients/aws/http.h"

namespace kc::aws {
namespace {

using namespace std::chrono_literals;

// Accepts one connection at a time, reads a request's head, and hands the
// socket to `answer`, which writes what it likes; a write failing (the
// client gave up) ends the answer.
class ScriptedServer {
 public:
  // `answer` gets the socket and a flag that turns true when the test ends.
  using Answer = std::function<void(int fd, const std::atomic<bool>& done)>;

  explicit ScriptedServer(Answer answer) : answer_(std::move(answer)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 4) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~ScriptedServer() {
    done_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    if (thread_.joinable()) thread_.join();
  }

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  void Serve() {
    while (!done_) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string head;
      char c = 0;
      while (!head.ends_with("\r\n\r\n") && ::read(fd, &c, 1) == 1) head += c;
      answer_(fd, done_);
      ::close(fd);
    }
  }

  Answer answer_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Writes `chunk` every `every` until the client goes away or the test ends.
void Drip(int fd, const std::atomic<bool>& done, const std::string& chunk,
          std::chrono::milliseconds every) {
  while (!done && WriteAll(fd, chunk)) std::this_thread::sleep_for(every);
}

HttpRequest Get(const std::string& url) {
  HttpRequest request;
  request.method = "GET";
  request.url = url;
  return request;
}

TEST(CurlTransportLimits, AnAnnouncedBodyOverTheCapEndsTheCallBeforeItIsRead) {
  ScriptedServer server([](int fd, const std::atomic<bool>& done) {
    // Announces 100 MB, then sends slowly: only the header can end it soon.
    if (!WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")) return;
    Drip(fd, done, std::string(100, 'x'), 100ms);
  });
  HttpOptions options;
  options.max_response_bytes = 1 << 20;
  auto transport = MakeCurlTransport(options);
  const auto started = std::chrono::steady_clock::now();
  auto response = transport->Send(Get(server.Url() + "object?X-Amz-Signature=secret"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kParse);
  EXPECT_EQ(response.error().message(), "the answer from " + server.Url() +
                                            "object is longer than 1048576 bytes, the most this "
                                            "call accepts");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(CurlTransportLimits, ABodyWithoutALengthIsCutAtTheCapOfTheCall) {
  ScriptedServer server([](int fd, const std::atomic<bool>& done) {
    if (!WriteAll(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")) return;
    const std::string megabyte(1 << 20, 'x');
    for (int i = 0; i < 64 && !done; ++i) {
      if (!WriteAll(fd, megabyte)) return;
    }
  });
  auto transport = MakeCurlTransport(HttpOptions{});
  HttpRequest request = Get(server.Url());
  request.max_response_bytes = 3 << 20;  // the call's own cap, over the transport's
  auto response = transport->Send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kParse);
  EXPECT_NE(response.error().message().find("longer than 3145728 bytes"), std::string::npos);

  // Under the cap, the same kind of answer is whole.
  ScriptedServer small([](int fd, const std::atomic<bool>&) {
    WriteAll(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(1000, 'y'));
  });
  auto ok = transport->Send(Get(small.Url()));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->body, std::string(1000, 'y'));
}

TEST(CurlTransportLimits, ATrickleSlowerThanTheMinimumRateIsAbandoned) {
  ScriptedServer server([](int fd, const std::atomic<bool>& done) {
    if (!WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")) return;
    Drip(fd, done, "x", 100ms);  // 10 bytes a second
  });
  HttpOptions options;
  options.stall_timeout = 2s;
  options.min_bytes_per_second = 1024;
  auto transport = MakeCurlTransport(options);
  const auto started = std::chrono::steady_clock::now();
  auto response = transport->Send(Get(server.Url()));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kConnection);
  EXPECT_NE(response.error().message().find("too slow"), std::string::npos)
      << response.error().message();
  EXPECT_GE(took, 1900ms);  // curl counts from its own start
  EXPECT_LT(took, 10s);
}

TEST(CurlTransportLimits, AnAnswerThatMovesButNeverEndsMeetsTheTotalTimeout) {
  ScriptedServer server([](int fd, const std::atomic<bool>& done) {
    if (!WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")) return;
    Drip(fd, done, std::string(4096, 'x'), 100ms);  // 40 KB a second: fast enough
  });
  HttpOptions options;
  options.request_timeout = 2s;
  auto transport = MakeCurlTransport(options);
  const auto started = std::chrono::steady_clock::now();
  auto response = transport->Send(Get(server.Url()));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kConnection);
  EXPECT_NE(response.error().message().find("imeout"), std::string::npos)
      << response.error().message();
  EXPECT_GE(took, 1900ms);  // curl counts from its own start
  EXPECT_LT(took, 10s);
}

}  // namespace
}  // namespace kc::aws
