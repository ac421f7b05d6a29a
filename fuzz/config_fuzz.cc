// libFuzzer entry point for the config parser: any byte string must come back
// as a Config or as problems, without crashing, hanging or throwing, and the
// result must keep ParseConfig's promises.
//
// Built by fuzz/CMakeLists.txt with the smoke driver (fuzz/smoke_main.cc),
// which CTest runs over the seed corpus and seeded random mutations, and
// with libFuzzer by scripts/fuzz.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const kc::ConfigResult result = kc::ParseConfig(text, "fuzz.toml");
  if (result.has_value()) {
    // A valid config always has a pipeline to run.
    if (result->pipelines.empty()) __builtin_trap();
    for (const kc::PipelineConfig& pipeline : result->pipelines) {
      if (pipeline.name.empty() || pipeline.stream.empty() || pipeline.emitter.type.empty()) {
        __builtin_trap();
      }
    }
    return 0;
  }
  if (result.error().empty()) __builtin_trap();
  int previous_line = 1;
  for (const kc::ConfigProblem& problem : result.error()) {
    // Every problem says something, on one line, and they come in line order
    // with the line-less ones last.
    if (problem.message.empty() || problem.line < 0) __builtin_trap();
    const std::string shown = problem.ToString("fuzz.toml");
    if (shown.find('\n') != std::string::npos) __builtin_trap();
    const int line = problem.line == 0 ? INT_MAX : problem.line;
    if (line < previous_line) __builtin_trap();
    previous_line = line;
  }
  return 0;
}
