// Whole-buffer compression for sinks that store batches as objects or files.
// gzip (RFC 1952, via libdeflate: one member, readable by every gzip tool and
// by Redshift's COPY ... GZIP) and zstd (one frame, with its content size).
//
// Thread-safety: the functions are safe to call from any thread; each thread
// keeps its own compressor state.
#pragma once

#include <string>
#include <string_view>

#include "kc/record_format.h"
#include "kc/status.h"

namespace kc::util {

Result<std::string> Compress(std::string_view data, Compression compression);
// The inverse, for tests and tools. Rejects damaged input with kParse.
Result<std::string> Decompress(std::string_view data, Compression compression);
// "", ".gz" or ".zst": appended to a file or object name.
const char* CompressionExtension(Compression compression);
const char* CompressionName(Compression compression);

}  // namespace kc::util
