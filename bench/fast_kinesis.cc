// fast_kinesis: a local Kinesis-compatible source for the throughput
// benchmark, fast enough that the consumer, not the source, is measured.
//
//   fast_kinesis --shards S --records N --size B [--seed X] [--stream NAME]
//                [--closed] [--busy K] [--port P] [--self-test]
//
// One synthetic stream of N records of exactly B bytes, spread evenly over S
// shards (the first N % S shards get one more). A payload is a printable
// JSON object holding the record's index, padded with pseudo-random letters
// (derived from --seed) to B bytes; below about 60 bytes it is the index and
// letters only. Every record is rendered once at start-up, as its JSON
// object in a GetRecords response, in segments of a page (at most 10,000
// records or 10 MiB of payload, as Kinesis), so answering is copying the
// records a call covers between a head and a tail, whatever its Limit.
//
// HTTP/1.1 with keep-alive on 127.0.0.1, one thread per connection, the JSON
// protocol (X-Amz-Target: Kinesis_20131202.<Op>): ListShards (paginated),
// DescribeStreamSummary, GetShardIterator (TRIM_HORIZON, LATEST,
// AT_/AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP) and GetRecords. Signatures are not
// checked. Shards are open unless --closed: after an open shard's last page
// comes an empty page with MillisBehindLatest 0 and a next iterator; a closed
// shard's last page has no next iterator. An answer ends at the end of a
// page at the latest, like Kinesis's answers at 10 MiB. --busy K answers every K-th GetRecords call
// of a shard with ProvisionedThroughputExceededException.
//
// Prints, once it accepts connections, one line on stdout:
//   ready port=P stream=NAME shards=S records=N size=B payload_bytes=X
//         checksum=HEX pages=K render_seconds=T
// where checksum is bench/record_hash.h's sum over every payload (what
// verify_output computes over the files). On SIGINT or SIGTERM it prints
//   stats get_records=C max_calls_per_second_per_shard=M (ID) min_interval_ms=G
// (the highest number of GetRecords calls one shard received within any one
// second, Kinesis allows 5; and the shortest time between two calls on one
// shard) and exits 0. SIGUSR1 prints the same line for
// the calls since the last one and starts counting afresh, so that the
// calls of one consumer run are not mixed with the next run's.
//
// --self-test starts the same server, fetches every page over one keep-alive
// connection per shard as fast as it can (in this process: the figure is a
// lower bound for the server alone), prints
//   self-test records=N payload_mb=X seconds=T records_per_second=R
//             payload_mb_per_second=M cpu_seconds=C
// and exits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/base64.h"
#include "base/json_writer.h"
#include "record_hash.h"

namespace {

using kc::bench::Checksum;
using kc::util::JsonWriter;

__extension__ typedef unsigned __int128 u128;

constexpr uint64_t kMaxPageRecords = 10'000;
constexpr uint64_t kMaxPageBytes = 10ull << 20;
constexpr double kBaseArrivalSeconds = 1764115200.0;  // 2025-11-26T00:00:00Z
constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";
constexpr std::string_view kIteratorPrefix = "fk-";
constexpr std::string_view kShardIdPrefix = "shardId-";
constexpr std::string_view kListTokenPrefix = "fk-shards-";
// Sequence numbers: "49", the shard (6 digits), these 30 digits, the record's
// index in its shard (18 digits): 56 digits, increasing within a shard.
constexpr std::string_view kSequenceMiddle = "590338271490256608559692538361";

struct Options {
  int shards = 1;
  uint64_t records = 1000;
  size_t size = 100;
  uint64_t seed = 1;
  uint64_t busy = 0;
  bool closed = false;
  bool self_test = false;
  int port = 0;
  std::string stream = "bench";
};

[[noreturn]] void Usage(const char* message) {
  if (message != nullptr) std::fprintf(stderr, "fast_kinesis: %s\n", message);
  std::fprintf(stderr,
               "usage: fast_kinesis --shards S --records N --size B [--seed X] [--stream NAME]\n"
               "                    [--closed] [--busy K] [--port P] [--self-test]\n");
  std::exit(2);
}

uint64_t ParseNumber(const char* flag, const char* text) {
  uint64_t v = 0;
  std::string_view s(text);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    std::fprintf(stderr, "fast_kinesis: %s: not a number: %s\n", flag, text);
    std::exit(2);
  }
  return v;
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a(argv[i]);
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Usage((std::string(a) + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--shards") {
      o.shards = static_cast<int>(ParseNumber("--shards", value()));
    } else if (a == "--records") {
      o.records = ParseNumber("--records", value());
    } else if (a == "--size") {
      o.size = ParseNumber("--size", value());
    } else if (a == "--seed") {
      o.seed = ParseNumber("--seed", value());
    } else if (a == "--busy") {
      o.busy = ParseNumber("--busy", value());
    } else if (a == "--port") {
      o.port = static_cast<int>(ParseNumber("--port", value()));
    } else if (a == "--stream") {
      o.stream = value();
    } else if (a == "--closed") {
      o.closed = true;
    } else if (a == "--self-test") {
      o.self_test = true;
    } else if (a == "-h" || a == "--help") {
      Usage(nullptr);
    } else {
      Usage(("unknown argument " + std::string(a)).c_str());
    }
  }
  if (o.shards < 1 || o.shards > 999'999) Usage("--shards must be 1..999999");
  if (o.size < 1 || o.size > (1u << 20)) Usage("--size must be 1..1048576");
  if (o.port > 65535) Usage("--port must be 0..65535");
  return o;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string U128ToString(u128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v != 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

// ------------------------------------------------------------------ stream

class Stream {
 public:
  explicit Stream(const Options& options) : o_(options) {
    const uint64_t per_byte = std::max<uint64_t>(1, kMaxPageBytes / o_.size);
    page_records_ = std::min(kMaxPageRecords, per_byte);
    uint64_t first = 0;
    for (int s = 0; s < o_.shards; ++s) {
      uint64_t n = o_.records / static_cast<uint64_t>(o_.shards) +
                   (static_cast<uint64_t>(s) < o_.records % static_cast<uint64_t>(o_.shards));
      shard_first_.push_back(first);
      shard_count_.push_back(n);
      first += n;
    }
    segments_.resize(static_cast<size_t>(o_.shards));
  }

  const Options& options() const { return o_; }
  int shards() const { return o_.shards; }
  uint64_t Count(int shard) const { return shard_count_[static_cast<size_t>(shard)]; }
  uint64_t page_records() const { return page_records_; }
  const Checksum& checksum() const { return checksum_; }
  size_t page_count() const {
    size_t n = 0;
    for (const auto& p : segments_) n += p.size();
    return n;
  }

  static std::string ShardId(int shard) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "shardId-%012d", shard);
    return buf;
  }
  std::optional<int> ShardIndex(std::string_view id) const {
    if (!id.starts_with(kShardIdPrefix)) return std::nullopt;
    id.remove_prefix(kShardIdPrefix.size());
    int v = -1;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
    if (ec != std::errc() || end != id.data() + id.size() || v < 0 || v >= o_.shards) {
      return std::nullopt;
    }
    return v;
  }

  static std::string SequenceNumber(int shard, uint64_t index) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "49%06d%s%018" PRIu64, shard, kSequenceMiddle.data(), index);
    return buf;
  }
  // The index in `shard` of a sequence number this stream gave out.
  std::optional<uint64_t> IndexOf(int shard, std::string_view seq) const {
    std::string prefix = SequenceNumber(shard, 0).substr(0, 38);
    if (seq.size() != 56 || !seq.starts_with(prefix)) return std::nullopt;
    uint64_t v = 0;
    auto tail = seq.substr(38);
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), v);
    if (ec != std::errc() || end != tail.data() + tail.size() || v >= Count(shard)) {
      return std::nullopt;
    }
    return v;
  }

  static std::string Iterator(int shard, uint64_t index) {
    return std::string(kIteratorPrefix) + std::to_string(shard) + "-" + std::to_string(index);
  }
  std::optional<std::pair<int, uint64_t>> ParseIterator(std::string_view it) const {
    if (!it.starts_with(kIteratorPrefix)) return std::nullopt;
    it.remove_prefix(kIteratorPrefix.size());
    int shard = -1;
    uint64_t index = 0;
    auto [p, ec] = std::from_chars(it.data(), it.data() + it.size(), shard);
    if (ec != std::errc() || p == it.data() + it.size() || *p != '-') return std::nullopt;
    auto [q, ec2] = std::from_chars(p + 1, it.data() + it.size(), index);
    if (ec2 != std::errc() || q != it.data() + it.size()) return std::nullopt;
    if (shard < 0 || shard >= o_.shards || index > Count(shard)) return std::nullopt;
    return std::pair{shard, index};
  }

  static double ArrivalSeconds(uint64_t index) {
    return kBaseArrivalSeconds + static_cast<double>(index) / 1000.0;
  }

  // Record `index` of `shard`, exactly options().size bytes, appended to `out`.
  void AppendPayload(std::string& out, int shard, uint64_t index) const {
    static constexpr char kAlphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    static constexpr const char* kKinds[] = {"click", "view", "purchase", "signup"};
    const uint64_t global = shard_first_[static_cast<size_t>(shard)] + index;
    char head[160];
    int n = std::snprintf(head, sizeof head,
                          R"({"id":%)" PRIu64 R"(,"shard":%d,"kind":"%s","user":"user-%)" PRIu64
                          R"(","pad":")",
                          global, shard, kKinds[global % 4], global % 1000);
    size_t head_len = static_cast<size_t>(n);
    const bool json = o_.size >= head_len + 2;
    if (!json) {
      n = std::snprintf(head, sizeof head, "%" PRIu64 "-", global);
      head_len = std::min(static_cast<size_t>(n), o_.size);
    }
    out.append(head, head_len);
    const size_t pad = o_.size - head_len - (json ? 2 : 0);
    uint64_t x = (o_.seed * 0x9e3779b97f4a7c15ULL) ^ (global + 1) * 0xbf58476d1ce4e5b9ULL;
    uint64_t bits = 0;
    int left = 0;
    for (size_t i = 0; i < pad; ++i) {
      if (left == 0) {
        x ^= x >> 12;  // xorshift64*
        x ^= x << 25;
        x ^= x >> 27;
        bits = x * 0x2545f4914f6cdd1dULL;
        left = 10;
      }
      out.push_back(kAlphabet[bits & 63]);
      bits >>= 6;
      --left;
    }
    if (json) out.append("\"}");
  }

  // Records [start, start + count) of `shard` as they stand in a
  // GetRecords response: each record's JSON object followed by a comma, and
  // where each one starts. Adds each payload to `sum`.
  struct Segment {
    std::string text;
    std::vector<uint32_t> offsets;  // count + 1 of them: the last is text.size()
  };
  Segment RenderSegment(int shard, uint64_t start, uint64_t count, Checksum* sum) const {
    Segment seg;
    seg.offsets.reserve(count + 1);
    JsonWriter w;
    std::string payload;
    payload.reserve(o_.size);
    for (uint64_t i = start; i < start + count; ++i) {
      payload.clear();
      AppendPayload(payload, shard, i);
      sum->Add(payload);
      w.Clear();
      w.BeginObject()
          .Field("SequenceNumber", SequenceNumber(shard, i))
          .Key("ApproximateArrivalTimestamp")
          .Double(ArrivalSeconds(i))
          .Field("Data", kc::util::Base64Encode(payload))
          .Field("PartitionKey", "user-" + std::to_string(i % 1000))
          .EndObject();
      seg.offsets.push_back(static_cast<uint32_t>(seg.text.size()));
      seg.text += w.str();
      seg.text.push_back(',');
    }
    seg.offsets.push_back(static_cast<uint32_t>(seg.text.size()));
    return seg;
  }

  // Renders every record, on all cores, in segments of a page.
  void RenderAll() {
    struct Task {
      int shard;
      uint64_t page;
    };
    std::vector<Task> tasks;
    for (int s = 0; s < o_.shards; ++s) {
      const uint64_t n = (Count(s) + page_records_ - 1) / page_records_;
      segments_[static_cast<size_t>(s)].resize(n);
      for (uint64_t p = 0; p < n; ++p) tasks.push_back({s, p});
    }
    std::atomic<size_t> next{0};
    std::mutex mu;
    auto work = [&] {
      Checksum local;
      for (size_t t; (t = next.fetch_add(1)) < tasks.size();) {
        const Task& task = tasks[t];
        const uint64_t start = task.page * page_records_;
        const uint64_t count = std::min(page_records_, Count(task.shard) - start);
        segments_[static_cast<size_t>(task.shard)][task.page] =
            RenderSegment(task.shard, start, count, &local);
      }
      std::lock_guard lock(mu);
      checksum_.Merge(local);
    };
    std::vector<std::thread> threads;
    const unsigned n = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) threads.emplace_back(work);
    for (auto& t : threads) t.join();
  }

  // The response to a GetRecords at `index` (below Count(shard)) with
  // `limit`, in `out`: at most to the end of index's page, the records
  // copied whole from their segment between a head and a tail.
  void Page(int shard, uint64_t index, uint64_t limit, std::string& out) const {
    const uint64_t total = Count(shard);
    const uint64_t in_page = page_records_ - index % page_records_;
    const uint64_t count = std::min({limit, in_page, total - index});
    const Segment& seg = segments_[static_cast<size_t>(shard)][index / page_records_];
    const size_t first = index % page_records_;
    const size_t from = seg.offsets[first];
    const size_t to = seg.offsets[first + count] - 1;  // without the last comma
    const uint64_t end = index + count;
    out.clear();
    out += R"({"Records":[)";
    out.append(seg.text, from, to - from);
    out += "]";
    if (!(o_.closed && end >= total)) {
      out += R"(,"NextShardIterator":")" + Iterator(shard, end) + "\"";
    }
    // Not a real lag: positive while records remain, 0 on the last page.
    out += R"(,"MillisBehindLatest":)" + std::to_string(total - end) + "}";
  }

 private:
  Options o_;
  uint64_t page_records_ = kMaxPageRecords;
  std::vector<uint64_t> shard_first_;
  std::vector<uint64_t> shard_count_;
  std::vector<std::vector<Segment>> segments_;
  Checksum checksum_;
};

// -------------------------------------------------------------------- http

std::optional<std::string_view> FindHeader(std::string_view head, std::string_view name) {
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    size_t line_start = pos + 2;
    size_t line_end = head.find("\r\n", line_start);
    if (line_end == std::string_view::npos) line_end = head.size();
    std::string_view line = head.substr(line_start, line_end - line_start);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), line.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    }
    pos = line_end;
  }
  return std::nullopt;
}

std::optional<uint64_t> ContentLength(std::string_view head) {
  auto v = FindHeader(head, "Content-Length");
  if (!v) return uint64_t{0};
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) return std::nullopt;
  return n;
}

// Reads from `fd` until `buf` holds a complete message head ("\r\n\r\n") and
// `body_in_buf` bytes after it. Returns the head's length (with the blank
// line), 0 at a clean end of stream, -1 on an error.
ssize_t ReadHead(int fd, std::string& buf) {
  size_t scanned = 0;
  for (;;) {
    size_t end = buf.find("\r\n\r\n", scanned > 3 ? scanned - 3 : 0);
    if (end != std::string::npos) return static_cast<ssize_t>(end + 4);
    scanned = buf.size();
    if (buf.size() > (1u << 20)) return -1;
    char chunk[65536];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return buf.empty() && n == 0 ? 0 : -1;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

bool ReadExactly(int fd, char* out, size_t n) {
  while (n > 0) {
    ssize_t r = recv(fd, out, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    out += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool WriteAll(int fd, std::string_view a, std::string_view b) {
  iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  int first = 0;
  while (first < 2) {
    ssize_t n = writev(fd, iov + first, 2 - first);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    auto left = static_cast<size_t>(n);
    while (first < 2 && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (first < 2) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return true;
}

int ListenOnLoopback(int port, int* bound_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port = ntohs(addr.sin_port);
  return fd;
}

// ------------------------------------------------------------------ server

struct Response {
  int status = 200;
  std::string owned;
  const std::string* shared = nullptr;
  std::string_view body() const { return shared != nullptr ? *shared : owned; }
};

Response ErrorResponse(std::string_view type, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Field("__type", type).Field("message", message).EndObject();
  return Response{400, w.Take(), nullptr};
}

class Server {
 public:
  explicit Server(const Stream& stream)
      : stream_(stream), calls_(static_cast<size_t>(stream.shards())) {}

  // Listens and starts accepting in the background; returns the port.
  int Start(int port) {
    int bound = 0;
    listen_fd_ = ListenOnLoopback(port, &bound);
    if (listen_fd_ < 0) {
      std::perror("fast_kinesis: listen on 127.0.0.1");
      std::exit(1);
    }
    std::thread([this] { AcceptLoop(); }).detach();
    return bound;
  }

  // GetRecords calls in all, and the most one shard got within one second;
  // with `reset`, forgets them.
  void PrintStats(bool reset) {
    uint64_t total = 0;
    size_t max_calls = 0;
    int max_shard = 0;
    auto min_gap = std::chrono::steady_clock::duration::max();
    for (size_t s = 0; s < calls_.size(); ++s) {
      std::lock_guard lock(calls_[s].mu);
      auto& t = calls_[s].times;
      total += t.size();
      for (size_t i = 1; i < t.size(); ++i) min_gap = std::min(min_gap, t[i] - t[i - 1]);
      size_t lo = 0;
      for (size_t hi = 0; hi < t.size(); ++hi) {
        while (t[hi] - t[lo] >= std::chrono::seconds(1)) ++lo;
        if (hi - lo + 1 > max_calls) {
          max_calls = hi - lo + 1;
          max_shard = static_cast<int>(s);
        }
      }
      if (reset) t.clear();
    }
    const double min_gap_ms =
        min_gap == std::chrono::steady_clock::duration::max() ? 0 : Seconds(min_gap) * 1000;
    std::printf("stats get_records=%" PRIu64
                " max_calls_per_second_per_shard=%zu (%s) min_interval_ms=%.1f\n",
                total, max_calls, Stream::ShardId(max_shard).c_str(), min_gap_ms);
    std::fflush(stdout);
  }

 private:
  struct ShardCalls {
    std::mutex mu;
    std::vector<std::chrono::steady_clock::time_point> times;
  };

  void AcceptLoop() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        std::perror("fast_kinesis: accept");
        return;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::thread([this, fd] {
        Serve(fd);
        close(fd);
      }).detach();
    }
  }

  void Serve(int fd) {
    std::string buf;
    std::string scratch;
    std::string head_out;
    for (;;) {
      ssize_t head_len = ReadHead(fd, buf);
      if (head_len <= 0) return;
      std::string_view head(buf.data(), static_cast<size_t>(head_len));
      auto length = ContentLength(head);
      if (!length) return;
      const size_t total = static_cast<size_t>(head_len) + *length;
      if (buf.size() < total) {
        const size_t have = buf.size();
        buf.resize(total);
        if (!ReadExactly(fd, buf.data() + have, total - have)) return;
        head = std::string_view(buf.data(), static_cast<size_t>(head_len));
      }
      std::string_view body(buf.data() + head_len, *length);
      auto target = FindHeader(head, "X-Amz-Target");
      auto connection = FindHeader(head, "Connection");
      const bool close_after = connection && (*connection == "close" || *connection == "Close");
      Response r = target ? Handle(*target, body, scratch)
                          : ErrorResponse("UnknownOperationException", "no X-Amz-Target");
      std::string_view out = r.body();
      head_out.clear();
      head_out += r.status == 200 ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 400 Bad Request\r\n";
      head_out += "Content-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: fk\r\n";
      head_out += "Content-Length: " + std::to_string(out.size()) + "\r\n";
      if (close_after) head_out += "Connection: close\r\n";
      head_out += "\r\n";
      if (!WriteAll(fd, head_out, out)) return;
      buf.erase(0, total);
      if (close_after) return;
    }
  }

  Response Handle(std::string_view target, std::string_view body, std::string& scratch) {
    if (!target.starts_with(kTargetPrefix)) {
      return ErrorResponse("UnknownOperationException", "unknown target");
    }
    std::string_view op = target.substr(kTargetPrefix.size());
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
      return ErrorResponse("SerializationException", "the body is not a JSON object");
    }
    std::string_view stream_name;
    if (doc["StreamName"].get(stream_name) == simdjson::SUCCESS &&
        stream_name != stream_.options().stream) {
      return ErrorResponse(
          "ResourceNotFoundException",
          "Stream " + std::string(stream_name) + " under account 000000000000 not found.");
    }
    if (op == "GetRecords") return GetRecords(doc, scratch);
    if (op == "GetShardIterator") return GetShardIterator(doc);
    if (op == "ListShards") return ListShards(doc);
    if (op == "DescribeStreamSummary") return DescribeStreamSummary();
    return ErrorResponse("UnknownOperationException", "not served here: " + std::string(op));
  }

  Response GetRecords(simdjson::dom::element doc, std::string& scratch) {
    std::string_view it;
    if (doc["ShardIterator"].get(it) != simdjson::SUCCESS) {
      return ErrorResponse("ValidationException", "missing ShardIterator");
    }
    auto pos = stream_.ParseIterator(it);
    if (!pos) return ErrorResponse("InvalidArgumentException", "invalid ShardIterator");
    auto [shard, index] = *pos;
    uint64_t limit = kMaxPageRecords;
    int64_t asked = 0;
    if (doc["Limit"].get(asked) == simdjson::SUCCESS) {
      if (asked < 1 || asked > static_cast<int64_t>(kMaxPageRecords)) {
        return ErrorResponse("ValidationException", "Limit must be 1..10000");
      }
      limit = static_cast<uint64_t>(asked);
    }
    size_t n = 0;
    {
      ShardCalls& c = calls_[static_cast<size_t>(shard)];
      std::lock_guard lock(c.mu);
      c.times.push_back(std::chrono::steady_clock::now());
      n = c.times.size();
    }
    const uint64_t busy = stream_.options().busy;
    if (busy > 0 && n % busy == 0) {
      return ErrorResponse("ProvisionedThroughputExceededException",
                           "Rate exceeded for shard " + Stream::ShardId(shard));
    }
    if (index >= stream_.Count(shard)) {
      JsonWriter w;
      w.BeginObject().Key("Records").BeginArray().EndArray();
      if (!stream_.options().closed) w.Field("NextShardIterator", Stream::Iterator(shard, index));
      w.Field("MillisBehindLatest", 0).EndObject();
      return Response{200, w.Take(), nullptr};
    }
    stream_.Page(shard, index, limit, scratch);
    return Response{200, {}, &scratch};
  }

  Response GetShardIterator(simdjson::dom::element doc) {
    std::string_view shard_id;
    std::string_view type;
    if (doc["ShardId"].get(shard_id) != simdjson::SUCCESS ||
        doc["ShardIteratorType"].get(type) != simdjson::SUCCESS) {
      return ErrorResponse("ValidationException", "missing ShardId or ShardIteratorType");
    }
    auto shard = stream_.ShardIndex(shard_id);
    if (!shard) {
      return ErrorResponse("ResourceNotFoundException",
                           "Shard " + std::string(shard_id) + " in stream " +
                               stream_.options().stream + " does not exist");
    }
    const uint64_t total = stream_.Count(*shard);
    uint64_t index = 0;
    if (type == "TRIM_HORIZON") {
      index = 0;
    } else if (type == "LATEST") {
      index = total;
    } else if (type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER") {
      std::string_view seq;
      if (doc["StartingSequenceNumber"].get(seq) != simdjson::SUCCESS) {
        return ErrorResponse("ValidationException", "missing StartingSequenceNumber");
      }
      auto i = stream_.IndexOf(*shard, seq);
      if (!i) {
        return ErrorResponse("InvalidArgumentException",
                             "StartingSequenceNumber " + std::string(seq) +
                                 " used in GetShardIterator on shard " + std::string(shard_id) +
                                 " is not in this shard");
      }
      index = *i + (type == "AFTER_SEQUENCE_NUMBER" ? 1 : 0);
    } else if (type == "AT_TIMESTAMP") {
      double t = 0;
      if (doc["Timestamp"].get(t) != simdjson::SUCCESS) {
        return ErrorResponse("ValidationException", "missing Timestamp");
      }
      double ms = std::ceil((t - kBaseArrivalSeconds) * 1000.0 - 1e-6);
      index = ms <= 0 ? 0 : std::min<uint64_t>(total, static_cast<uint64_t>(ms));
    } else {
      return ErrorResponse("ValidationException", "unknown ShardIteratorType");
    }
    JsonWriter w;
    w.BeginObject().Field("ShardIterator", Stream::Iterator(*shard, index)).EndObject();
    return Response{200, w.Take(), nullptr};
  }

  Response ListShards(simdjson::dom::element doc) {
    int first = 0;
    std::string_view token;
    if (doc["NextToken"].get(token) == simdjson::SUCCESS) {
      if (!token.starts_with(kListTokenPrefix)) {
        return ErrorResponse("InvalidArgumentException", "bad NextToken");
      }
      token.remove_prefix(kListTokenPrefix.size());
      auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), first);
      if (ec != std::errc() || first < 0 || first > stream_.shards()) {
        return ErrorResponse("InvalidArgumentException", "bad NextToken");
      }
    }
    int64_t max_results = 1000;
    if (doc["MaxResults"].get(max_results) == simdjson::SUCCESS &&
        (max_results < 1 || max_results > 10000)) {
      return ErrorResponse("ValidationException", "MaxResults must be 1..10000");
    }
    const int last = static_cast<int>(
        std::min<int64_t>(stream_.shards(), first + std::max<int64_t>(1, max_results)));
    const u128 max_key = ~u128{0};
    const u128 width = max_key / static_cast<u128>(stream_.shards());
    JsonWriter w;
    w.BeginObject().Key("Shards").BeginArray();
    for (int s = first; s < last; ++s) {
      const u128 lo = width * static_cast<u128>(s);
      const u128 hi = s + 1 == stream_.shards() ? max_key : width * static_cast<u128>(s + 1) - 1;
      w.BeginObject().Field("ShardId", Stream::ShardId(s));
      w.Key("HashKeyRange")
          .BeginObject()
          .Field("StartingHashKey", U128ToString(lo))
          .Field("EndingHashKey", U128ToString(hi))
          .EndObject();
      w.Key("SequenceNumberRange")
          .BeginObject()
          .Field("StartingSequenceNumber", Stream::SequenceNumber(s, 0));
      if (stream_.options().closed) {
        w.Field("EndingSequenceNumber",
                Stream::SequenceNumber(s, std::max<uint64_t>(stream_.Count(s), 1) - 1));
      }
      w.EndObject().EndObject();
    }
    w.EndArray();
    if (last < stream_.shards()) {
      w.Field("NextToken", std::string(kListTokenPrefix) + std::to_string(last));
    }
    w.EndObject();
    return Response{200, w.Take(), nullptr};
  }

  Response DescribeStreamSummary() {
    const auto& o = stream_.options();
    JsonWriter w;
    w.BeginObject().Key("StreamDescriptionSummary").BeginObject();
    w.Field("StreamName", o.stream)
        .Field("StreamARN", "arn:aws:kinesis:us-east-1:000000000000:stream/" + o.stream)
        .Field("StreamStatus", "ACTIVE")
        .Key("StreamModeDetails")
        .BeginObject()
        .Field("StreamMode", "PROVISIONED")
        .EndObject()
        .Field("RetentionPeriodHours", 24)
        .Key("StreamCreationTimestamp")
        .Double(kBaseArrivalSeconds)
        .Key("EnhancedMonitoring")
        .BeginArray()
        .BeginObject()
        .Key("ShardLevelMetrics")
        .BeginArray()
        .EndArray()
        .EndObject()
        .EndArray()
        .Field("EncryptionType", "NONE")
        .Field("OpenShardCount", o.closed ? 0 : o.shards)
        .Field("ConsumerCount", 0);
    w.EndObject().EndObject();
    return Response{200, w.Take(), nullptr};
  }

  const Stream& stream_;
  std::vector<ShardCalls> calls_;
  int listen_fd_ = -1;
};

// --------------------------------------------------------------- self-test

// A minimal client: one keep-alive connection, one request at a time.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("fast_kinesis: connect");
      std::exit(1);
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The response body of `op`; exits on any failure (this is a self-test).
  const std::string& Call(std::string_view op, std::string_view request) {
    std::string head =
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: " +
        std::string(kTargetPrefix) + std::string(op) +
        "\r\nContent-Length: " + std::to_string(request.size()) + "\r\n\r\n";
    if (!WriteAll(fd_, head, request)) Die("sending " + std::string(op));
    buf_.clear();
    ssize_t head_len = ReadHead(fd_, buf_);
    if (head_len <= 0) Die("reading the answer to " + std::string(op));
    std::string_view h(buf_.data(), static_cast<size_t>(head_len));
    auto length = ContentLength(h);
    if (!length || !h.starts_with("HTTP/1.1 200")) Die("answer to " + std::string(op));
    const size_t have = buf_.size() - static_cast<size_t>(head_len);
    body_.assign(buf_, static_cast<size_t>(head_len), have);
    body_.resize(*length);
    if (have < *length && !ReadExactly(fd_, body_.data() + have, *length - have)) {
      Die("reading the body of " + std::string(op));
    }
    return body_;
  }

  [[noreturn]] static void Die(const std::string& what) {
    std::fprintf(stderr, "fast_kinesis: self-test: %s failed\n", what.c_str());
    std::exit(1);
  }

 private:
  int fd_ = -1;
  std::string buf_;
  std::string body_;
};

// Reads `shard` to its end; returns the number of records.
uint64_t FetchShard(const Stream& stream, int port, int shard, uint64_t* response_bytes) {
  Client client(port);
  JsonWriter w;
  w.BeginObject()
      .Field("StreamName", stream.options().stream)
      .Field("ShardId", Stream::ShardId(shard))
      .Field("ShardIteratorType", "TRIM_HORIZON")
      .EndObject();
  const std::string& first = client.Call("GetShardIterator", w.str());
  constexpr std::string_view kIt = R"("ShardIterator":")";
  constexpr std::string_view kNext = R"("NextShardIterator":")";
  auto p = first.find(kIt);
  if (p == std::string::npos) Client::Die("GetShardIterator");
  p += kIt.size();
  std::string it = first.substr(p, first.find('"', p) - p);
  uint64_t records = 0;
  for (;;) {
    auto pos = stream.ParseIterator(it);
    if (!pos) Client::Die("iterator " + it);
    w.Clear();
    w.BeginObject().Field("ShardIterator", it).Field("Limit", kMaxPageRecords).EndObject();
    const std::string& page = client.Call("GetRecords", w.str());
    *response_bytes += page.size();
    // The pages end with the next iterator: no need to parse the records.
    auto q = page.rfind(kNext);
    if (q == std::string::npos) {
      records += stream.Count(shard) - pos->second;  // a closed shard's last page
      break;
    }
    q += kNext.size();
    std::string next = page.substr(q, page.find('"', q) - q);
    auto next_pos = stream.ParseIterator(next);
    if (!next_pos) Client::Die("next iterator " + next);
    if (next_pos->second == pos->second) break;  // empty: caught up
    records += next_pos->second - pos->second;
    it = std::move(next);
  }
  return records;
}

int SelfTest(const Stream& stream, int port) {
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = ProcessCpuSeconds();
  std::vector<std::thread> threads;
  std::vector<uint64_t> records(static_cast<size_t>(stream.shards()));
  std::vector<uint64_t> bytes(static_cast<size_t>(stream.shards()));
  for (int s = 0; s < stream.shards(); ++s) {
    threads.emplace_back([&, s] {
      records[static_cast<size_t>(s)] = FetchShard(stream, port, s, &bytes[static_cast<size_t>(s)]);
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = Seconds(std::chrono::steady_clock::now() - t0);
  const double cpu = ProcessCpuSeconds() - cpu0;
  uint64_t n = 0;
  uint64_t response_bytes = 0;
  for (size_t s = 0; s < records.size(); ++s) {
    n += records[s];
    response_bytes += bytes[s];
  }
  const double mb = static_cast<double>(stream.checksum().bytes) / 1e6;
  std::printf("self-test records=%" PRIu64
              " payload_mb=%.1f response_mb=%.1f seconds=%.3f records_per_second=%.0f "
              "payload_mb_per_second=%.1f cpu_seconds=%.3f\n",
              n, mb, static_cast<double>(response_bytes) / 1e6, seconds,
              static_cast<double>(n) / seconds, mb / seconds, cpu);
  if (n != stream.checksum().records) {
    std::fprintf(stderr, "fast_kinesis: self-test read %" PRIu64 " records of %" PRIu64 "\n", n,
                 stream.checksum().records);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = ParseOptions(argc, argv);
  // Signals are taken by sigwait below; a peer that hangs up is an EPIPE.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Stream stream(options);
  const auto t0 = std::chrono::steady_clock::now();
  stream.RenderAll();
  const double render_seconds = Seconds(std::chrono::steady_clock::now() - t0);

  static Server* server = nullptr;
  server = new Server(stream);
  const int port = server->Start(options.port);
  const Checksum& sum = stream.checksum();
  std::printf("ready port=%d stream=%s shards=%d records=%" PRIu64
              " size=%zu payload_bytes=%" PRIu64 " checksum=%016" PRIx64
              " pages=%zu render_seconds=%.2f\n",
              port, options.stream.c_str(), options.shards, sum.records, options.size, sum.bytes,
              sum.sum, stream.page_count(), render_seconds);
  std::fflush(stdout);
  if (options.self_test) {
    int rc = SelfTest(stream, port);
    std::fflush(stdout);
    std::_Exit(rc);
  }

  sigdelset(&signals, SIGPIPE);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGUSR1) server->PrintStats(/*reset=*/true);
  server->PrintStats(/*reset=*/false);
  std::_Exit(0);  // connection threads are detached: do not wait for them
}
