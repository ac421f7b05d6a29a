#include "base/compression.h"

#include <libdeflate.h>
#include <zstd.h>

#include <memory>

namespace kc::util {
namespace {

// Level 6 is gzip's own default: most of the gain at a fraction of the cost
// of level 9. zstd's level 3 is its default for the same reason.
constexpr int kGzipLevel = 6;
constexpr int kZstdLevel = 3;

struct DeflateCompressorFree {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
struct DeflateDecompressorFree {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

libdeflate_compressor* GzipCompressor() {
  thread_local std::unique_ptr<libdeflate_compressor, DeflateCompressorFree> c(
      libdeflate_alloc_compressor(kGzipLevel));
  return c.get();
}

libdeflate_decompressor* GzipDecompressor() {
  thread_local std::unique_ptr<libdeflate_decompressor, DeflateDecompressorFree> d(
      libdeflate_alloc_decompressor());
  return d.get();
}

Result<std::string> GzipCompress(std::string_view data) {
  libdeflate_compressor* c = GzipCompressor();
  if (c == nullptr) return Fail(ErrorCode::kInternal, "cannot allocate a gzip compressor");
  std::string out(libdeflate_gzip_compress_bound(c, data.size()), '\0');
  size_t n = libdeflate_gzip_compress(c, data.data(), data.size(), out.data(), out.size());
  if (n == 0) return Fail(ErrorCode::kInternal, "gzip compression failed");
  out.resize(n);
  return out;
}

Result<std::string> GzipDecompress(std::string_view data) {
  libdeflate_decompressor* d = GzipDecompressor();
  if (d == nullptr) return Fail(ErrorCode::kInternal, "cannot allocate a gzip decompressor");
  if (data.size() < 18) return Fail(ErrorCode::kParse, "gzip data is too short");
  // The trailer holds the size modulo 2^32: a hint, grown if it was wrapped.
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
  size_t size = size_t{p[0]} | size_t{p[1]} << 8 | size_t{p[2]} << 16 | size_t{p[3]} << 24;
  for (;;) {
    std::string out(size, '\0');
    size_t actual = 0;
    auto r =
        libdeflate_gzip_decompress(d, data.data(), data.size(), out.data(), out.size(), &actual);
    if (r == LIBDEFLATE_SUCCESS) {
      out.resize(actual);
      return out;
    }
    if (r != LIBDEFLATE_INSUFFICIENT_SPACE || size > (size_t{1} << 36)) {
      return Fail(ErrorCode::kParse, "gzip data is damaged");
    }
    size = size * 2 + (size_t{1} << 20);
  }
}

Result<std::string> ZstdCompress(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), kZstdLevel);
  if (ZSTD_isError(n)) {
    return Fail(ErrorCode::kInternal,
                std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  }
  out.resize(n);
  return out;
}

Result<std::string> ZstdDecompress(std::string_view data) {
  unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 36)) {
    return Fail(ErrorCode::kParse, "zstd data is damaged or has no content size");
  }
  std::string out(static_cast<size_t>(size), '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(n) || n != size) return Fail(ErrorCode::kParse, "zstd data is damaged");
  return out;
}

}  // namespace

Result<std::string> Compress(std::string_view data, Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return std::string(data);
    case Compression::kGzip:
      return GzipCompress(data);
    case Compression::kZstd:
      return ZstdCompress(data);
  }
  return Fail(ErrorCode::kInternal, "unknown compression");
}

Result<std::string> Decompress(std::string_view data, Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return std::string(data);
    case Compression::kGzip:
      return GzipDecompress(data);
    case Compression::kZstd:
      return ZstdDecompress(data);
  }
  return Fail(ErrorCode::kInternal, "unknown compression");
}

const char* CompressionExtension(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "";
    case Compression::kGzip:
      return ".gz";
    case Compression::kZstd:
      return ".zst";
  }
  return "";
}

const char* CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
  }
  return "none";
}

}  // namespace kc::util
