#include "base/compression.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>
#include <utility>

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

Error TooLarge(uint64_t max_output) {
  return Error(ErrorCode::kParse, "the data decompresses to more than " +
                                      std::to_string(max_output) + " bytes, the most allowed");
}

Result<std::string> GzipDecompress(std::string_view data, uint64_t max_output) {
  libdeflate_decompressor* d = GzipDecompressor();
  if (d == nullptr) return Fail(ErrorCode::kInternal, "cannot allocate a gzip decompressor");
  if (data.size() < 18) return Fail(ErrorCode::kParse, "gzip data is too short");
  // The trailer holds the size modulo 2^32: a hint, grown if it was wrapped,
  // never past max_output.
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
  uint64_t size =
      uint64_t{p[0]} | uint64_t{p[1]} << 8 | uint64_t{p[2]} << 16 | uint64_t{p[3]} << 24;
  size = std::min(size, max_output);
  for (;;) {
    std::string out(static_cast<size_t>(size), '\0');
    size_t actual = 0;
    auto r =
        libdeflate_gzip_decompress(d, data.data(), data.size(), out.data(), out.size(), &actual);
    if (r == LIBDEFLATE_SUCCESS) {
      out.resize(actual);
      return out;
    }
    if (r != LIBDEFLATE_INSUFFICIENT_SPACE) return Fail(ErrorCode::kParse, "gzip data is damaged");
    if (size >= max_output) return Fail(TooLarge(max_output));
    size = std::min(max_output, size * 2 + (uint64_t{1} << 20));
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

Result<std::string> ZstdDecompress(std::string_view data, uint64_t max_output) {
  unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Fail(ErrorCode::kParse, "zstd data is damaged or has no content size");
  }
  if (size > max_output) return Fail(TooLarge(max_output));
  std::string out(static_cast<size_t>(size), '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(n) || n != size) return Fail(ErrorCode::kParse, "zstd data is damaged");
  return out;
}

// Output goes to the sink in pieces of this size.
constexpr size_t kPiece = 256 * 1024;

// What every streaming decompressor shares: the sink, and the count of
// what went to it against the cap.
class CappedOutput : public Decompressor {
 protected:
  CappedOutput(uint64_t max_output, Sink out) : max_output_(max_output), out_(std::move(out)) {}
  // Hands `piece` on unless it takes the output past the cap.
  Status Hand(std::string_view piece) {
    if (piece.empty()) return Ok();
    produced_ += piece.size();
    if (produced_ > max_output_) return Fail(TooLarge(max_output_));
    return out_(piece);
  }

 private:
  uint64_t max_output_;
  Sink out_;
  uint64_t produced_ = 0;
};

// Passes the input on, counting it against the cap.
class Plain final : public CappedOutput {
 public:
  Plain(uint64_t max_output, Sink out) : CappedOutput(max_output, std::move(out)) {}
  Status Feed(std::string_view in) override { return Hand(in); }
  Status Finish() override { return Ok(); }
};

// zlib's inflate, gzip framing only (16 + 15 window bits), members one after
// another.
class GzipStream final : public CappedOutput {
 public:
  GzipStream(uint64_t max_output, Sink out)
      : CappedOutput(max_output, std::move(out)), buffer_(kPiece, '\0') {
    ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipStream() override {
    if (ok_) inflateEnd(&z_);
  }

  Status Feed(std::string_view in) override {
    if (!ok_) return Fail(ErrorCode::kInternal, "cannot allocate a gzip decompressor");
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    // Until the input is used up and inflate had room to spare: a full
    // output buffer means a match may still be half copied.
    while (z_.avail_in > 0 || (full_ && !ended_)) {
      if (ended_) {  // another member follows
        if (inflateReset(&z_) != Z_OK) return Fail(ErrorCode::kParse, "gzip data is damaged");
        ended_ = false;
      }
      if (auto s = Inflate(); !s) return s;
    }
    started_ = started_ || !in.empty();
    return Ok();
  }

  Status Finish() override {
    while (full_ && !ended_) {
      z_.next_in = nullptr;
      z_.avail_in = 0;
      if (auto s = Inflate(); !s) return s;
    }
    if (started_ && !ended_) return Fail(ErrorCode::kParse, "gzip data ends early");
    return Ok();
  }

 private:
  Status Inflate() {
    z_.next_out = reinterpret_cast<Bytef*>(buffer_.data());
    z_.avail_out = static_cast<uInt>(buffer_.size());
    const int r = inflate(&z_, Z_NO_FLUSH);
    if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
      return Fail(ErrorCode::kParse, "gzip data is damaged");
    }
    ended_ = r == Z_STREAM_END;
    full_ = z_.avail_out == 0;
    const size_t n = buffer_.size() - z_.avail_out;
    if (n == 0) {
      // No progress: with input left, the data is damaged; without, inflate
      // holds nothing more.
      if (r == Z_BUF_ERROR && z_.avail_in > 0) {
        return Fail(ErrorCode::kParse, "gzip data is damaged");
      }
      full_ = false;
      return Ok();
    }
    return Hand(std::string_view(buffer_.data(), n));
  }

  std::string buffer_;
  z_stream z_{};
  bool ok_ = false;
  bool full_ = false;
  bool started_ = false;
  bool ended_ = false;
};

// zstd's streaming decoder, with its window limited so that a frame cannot
// make it allocate more than 128 MiB (zstd's own default limit, said here).
class ZstdStream final : public CappedOutput {
 public:
  ZstdStream(uint64_t max_output, Sink out)
      : CappedOutput(max_output, std::move(out)), buffer_(kPiece, '\0') {
    if (d_ != nullptr) ZSTD_DCtx_setParameter(d_, ZSTD_d_windowLogMax, 27);
  }
  ~ZstdStream() override { ZSTD_freeDCtx(d_); }

  Status Feed(std::string_view in) override {
    if (d_ == nullptr) return Fail(ErrorCode::kInternal, "cannot allocate a zstd decompressor");
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    // Until the input is used up and the decoder had room to spare: a full
    // output buffer means it may hold more.
    for (;;) {
      ZSTD_outBuffer output{buffer_.data(), buffer_.size(), 0};
      const size_t r = ZSTD_decompressStream(d_, &output, &input);
      if (ZSTD_isError(r)) {
        return Fail(ErrorCode::kParse,
                    std::string("zstd data is damaged: ") + ZSTD_getErrorName(r));
      }
      pending_ = r;
      full_ = output.pos == output.size;
      if (auto s = Hand(std::string_view(buffer_.data(), output.pos)); !s) return s;
      if (input.pos == input.size && !full_) break;
    }
    started_ = started_ || !in.empty();
    return Ok();
  }

  Status Finish() override {
    // What the decoder still holds when the last Feed filled its output.
    // A call that gives nothing is not counted: past the end of a frame the
    // decoder asks for the next frame's header.
    while (full_) {
      ZSTD_inBuffer input{nullptr, 0, 0};
      ZSTD_outBuffer output{buffer_.data(), buffer_.size(), 0};
      const size_t r = ZSTD_decompressStream(d_, &output, &input);
      if (ZSTD_isError(r)) return Fail(ErrorCode::kParse, "zstd data is damaged");
      full_ = output.pos == output.size;
      if (output.pos == 0) break;
      pending_ = r;
      if (auto s = Hand(std::string_view(buffer_.data(), output.pos)); !s) return s;
    }
    if (started_ && pending_ != 0) return Fail(ErrorCode::kParse, "zstd data ends early");
    return Ok();
  }

 private:
  std::string buffer_;
  ZSTD_DCtx* d_ = ZSTD_createDCtx();
  size_t pending_ = 0;
  bool full_ = false;
  bool started_ = false;
};

}  // namespace

std::unique_ptr<Decompressor> MakeDecompressor(Compression compression, uint64_t max_output,
                                               Decompressor::Sink out) {
  switch (compression) {
    case Compression::kGzip:
      return std::make_unique<GzipStream>(max_output, std::move(out));
    case Compression::kZstd:
      return std::make_unique<ZstdStream>(max_output, std::move(out));
    case Compression::kNone:
      break;
  }
  return std::make_unique<Plain>(max_output, std::move(out));
}

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

Result<std::string> Decompress(std::string_view data, Compression compression,
                               uint64_t max_output) {
  switch (compression) {
    case Compression::kNone:
      if (data.size() > max_output) return Fail(TooLarge(max_output));
      return std::string(data);
    case Compression::kGzip:
      return GzipDecompress(data, max_output);
    case Compression::kZstd:
      return ZstdDecompress(data, max_output);
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
