// verify_output: counts and checksums the records a file emitter wrote, for
// the throughput benchmark.
//
//   verify_output DIR [--format lines|raw] [--size B]
//                 [--expect-records N] [--expect-checksum HEX]
//
// Reads every file under DIR (recursively; .gz and .zst are decompressed),
// splits it into records (lines: at each "\n"; raw: every B bytes) and
// prints
//   verified files=F records=N payload_bytes=X checksum=HEX
// with bench/record_hash.h's order-independent checksum, the one fast_kinesis
// prints for what it serves. Exits 1 when an expectation is not met, when a
// hidden temporary file is left or a raw file is not a multiple of B.
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/compression.h"
#include "base/files.h"
#include "record_hash.h"

namespace {

[[noreturn]] void Usage(const char* message) {
  if (message != nullptr) std::fprintf(stderr, "verify_output: %s\n", message);
  std::fprintf(stderr,
               "usage: verify_output DIR [--format lines|raw] [--size B] [--expect-records N] "
               "[--expect-checksum HEX]\n");
  std::exit(2);
}

uint64_t ParseNumber(const char* text, int base) {
  char* end = nullptr;
  errno = 0;
  uint64_t v = std::strtoull(text, &end, base);
  if (errno != 0 || end == text || *end != '\0') Usage("not a number");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  bool raw = false;
  uint64_t size = 0;
  bool expect_records = false;
  bool expect_checksum = false;
  uint64_t want_records = 0;
  uint64_t want_checksum = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view a(argv[i]);
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Usage("an option needs a value");
      return argv[++i];
    };
    if (a == "--format") {
      std::string_view f = value();
      if (f != "lines" && f != "raw") Usage("--format is lines or raw");
      raw = f == "raw";
    } else if (a == "--size") {
      size = ParseNumber(value(), 10);
    } else if (a == "--expect-records") {
      want_records = ParseNumber(value(), 10);
      expect_records = true;
    } else if (a == "--expect-checksum") {
      want_checksum = ParseNumber(value(), 16);
      expect_checksum = true;
    } else if (!a.starts_with("-") && dir.empty()) {
      dir = std::string(a);
    } else {
      Usage(("unknown argument " + std::string(a)).c_str());
    }
  }
  if (dir.empty()) Usage("DIR is required");
  if (raw && size == 0) Usage("--format raw needs --size");

  kc::bench::Checksum sum;
  uint64_t files = 0;
  bool ok = true;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string path = it->path().string();
    const std::string name = it->path().filename().string();
    if (name.starts_with(".")) {
      std::fprintf(stderr, "verify_output: a temporary file was left: %s\n", path.c_str());
      ok = false;
      continue;
    }
    auto content = kc::util::ReadFile(path);
    if (!content) {
      std::fprintf(stderr, "verify_output: %s\n", content.error().message().c_str());
      return 1;
    }
    std::string data = std::move(*content);
    kc::Compression compression = kc::Compression::kNone;
    if (name.ends_with(".gz")) compression = kc::Compression::kGzip;
    if (name.ends_with(".zst")) compression = kc::Compression::kZstd;
    if (compression != kc::Compression::kNone) {
      auto plain = kc::util::Decompress(data, compression);
      if (!plain) {
        std::fprintf(stderr, "verify_output: %s: %s\n", path.c_str(),
                     plain.error().message().c_str());
        return 1;
      }
      data = std::move(*plain);
    }
    ++files;
    std::string_view rest(data);
    if (raw) {
      if (rest.size() % size != 0) {
        std::fprintf(stderr, "verify_output: %s: %zu bytes, not a multiple of %" PRIu64 "\n",
                     path.c_str(), rest.size(), size);
        ok = false;
      }
      for (; rest.size() >= size; rest.remove_prefix(size)) sum.Add(rest.substr(0, size));
    } else {
      while (!rest.empty()) {
        size_t nl = rest.find('\n');
        if (nl == std::string_view::npos) {
          std::fprintf(stderr, "verify_output: %s does not end with a newline\n", path.c_str());
          ok = false;
          nl = rest.size();
          sum.Add(rest);
          break;
        }
        sum.Add(rest.substr(0, nl));
        rest.remove_prefix(nl + 1);
      }
    }
  }
  if (ec) {
    std::fprintf(stderr, "verify_output: %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  std::printf("verified files=%" PRIu64 " records=%" PRIu64 " payload_bytes=%" PRIu64
              " checksum=%016" PRIx64 "\n",
              files, sum.records, sum.bytes, sum.sum);
  if (expect_records && sum.records != want_records) {
    std::fprintf(stderr, "verify_output: %" PRIu64 " records, expected %" PRIu64 "\n", sum.records,
                 want_records);
    ok = false;
  }
  if (expect_checksum && sum.sum != want_checksum) {
    std::fprintf(stderr, "verify_output: checksum %016" PRIx64 ", expected %016" PRIx64 "\n",
                 sum.sum, want_checksum);
    ok = false;
  }
  return ok ? 0 : 1;
}
