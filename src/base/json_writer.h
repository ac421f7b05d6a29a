// A small streaming JSON writer: the one way this project writes JSON
// (request bodies, envelopes, checkpoint files). Parsing uses simdjson.
//
// Output is compact and UTF-8 is passed through; control characters, quotes
// and backslashes are escaped. Invalid UTF-8 is the caller's problem: binary
// data must be base64-encoded first, as Kinesis does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kc::util {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& UInt(uint64_t value);
  JsonWriter& Double(double value);  // shortest form that reads back the same
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A value that is already JSON text (written by a JsonWriter), as is.
  JsonWriter& Raw(std::string_view json);

  // Key(k) followed by the value, for the common case.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, uint64_t value) { return Key(key).UInt(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }
  void Clear() {
    out_.clear();
    first_.clear();
    after_key_ = false;
  }

 private:
  void BeforeValue();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Appends `value` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace kc::util
