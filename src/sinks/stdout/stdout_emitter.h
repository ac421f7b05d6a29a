// StdoutEmitter: writes each batch to standard output, for pipes and trials.
// A batch is written with one write, so batches from different shards never
// interleave.
//
// Thread-safety: Emit may be called concurrently.
#pragma once

#include <mutex>
#include <utility>

#include "kc/emitter.h"
#include "kc/record_format.h"
#include "sinks/util/format.h"

namespace kc::emitter {

class StdoutEmitter final : public Emitter {
 public:
  // `csv`: the columns when `format` is kCsv.
  explicit StdoutEmitter(FileFormat format, int fd = 1, CsvColumns csv = {})
      : format_(format), fd_(fd), csv_(std::move(csv)) {}
  Status Emit(const Batch& batch, std::stop_token stop) override;
  std::string Describe() const override;

 private:
  FileFormat format_;
  int fd_;
  CsvColumns csv_;
  std::mutex mu_;
};

}  // namespace kc::emitter
