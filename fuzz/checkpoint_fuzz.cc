// Fuzz entry point for the file checkpoint store's format: a damaged file is
// an error, and whatever decodes encodes back to the same state.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stores/codec/checkpoint_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto state = kc::checkpoint::DecodeShardCheckpoint(text);
  if (!state) return 0;
  auto again = kc::checkpoint::DecodeShardCheckpoint(kc::checkpoint::EncodeShardCheckpoint(*state));
  if (!again || !(*again == *state)) __builtin_trap();
  return 0;
}
