// Whole-buffer compression for sinks that store batches as objects or files.
// gzip (RFC 1952, via libdeflate: one member, readable by every gzip tool and
// by Redshift's COPY ... GZIP) and zstd (one frame, with its content size);
// and decompression of streams (zlib and zstd's streaming decoders) for
// readers of objects of any size.
//
// Thread-safety: the functions are safe to call from any thread; each thread
// keeps its own compressor state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kc/record_format.h"
#include "kc/status.h"

namespace kc::util {

Result<std::string> Compress(std::string_view data, Compression compression);
// The inverse, for tests and tools. Rejects damaged input, and input that
// would decompress to more than `max_output` bytes, with kParse; allocates
// no more than that, whatever sizes the input claims.
Result<std::string> Decompress(std::string_view data, Compression compression,
                               uint64_t max_output = uint64_t{4} << 30);

// Decompresses a stream fed piece by piece, handing the output on as it
// comes: memory stays at the decoder's state and one piece of output. At
// most `max_output` bytes come out in all; input that would expand further
// (a bomb) is a kParse error saying so, as is damaged input. gzip input may
// hold several members, one after the other, as gzip writes them.
class Decompressor {
 public:
  using Sink = std::function<Status(std::string_view)>;
  virtual ~Decompressor() = default;
  // Decodes `in`; an error from the sink is returned as it is.
  virtual Status Feed(std::string_view in) = 0;
  // The input has ended: an error when it ended inside the compressed data.
  virtual Status Finish() = 0;
};

std::unique_ptr<Decompressor> MakeDecompressor(Compression compression, uint64_t max_output,
                                               Decompressor::Sink out);
// "", ".gz" or ".zst": appended to a file or object name.
const char* CompressionExtension(Compression compression);
const char* CompressionName(Compression compression);

}  // namespace kc::util
