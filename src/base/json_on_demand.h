// What code that walks JSON with simdjson's On-Demand API shares: the
// calling thread's parser, the trimming of a raw token, and the names of
// JSON types for messages. Internal (it exposes simdjson).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

namespace kc::util {

// simdjson reads past the end of its input: documents are copied into a
// buffer with that much room, one buffer and parser per thread. A document
// from Iterate is valid until the next Iterate on the same thread.
struct ThreadJsonParser {
  simdjson::ondemand::parser parser;
  std::string buffer;

  simdjson::simdjson_result<simdjson::ondemand::document> Iterate(std::string_view json) {
    buffer.assign(json);
    buffer.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    return parser.iterate(buffer.data(), buffer.size(), buffer.capacity());
  }
};

ThreadJsonParser& ThisThreadJsonParser();

// A raw token without the JSON whitespace after it.
std::string_view TrimJsonSpace(std::string_view token);

// "an object", "an array", "a string", "a number", "a boolean", "null".
const char* JsonTypeName(simdjson::ondemand::json_type type);

}  // namespace kc::util
