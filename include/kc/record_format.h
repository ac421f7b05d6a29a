// How records are written into files and objects (the file, stdout and S3
// sinks): the layout of a batch and its compression.
#pragma once

namespace kc {

enum class FileFormat { kLines, kRaw, kEnvelope, kCsv };
enum class Compression { kNone, kGzip, kZstd };

}  // namespace kc
