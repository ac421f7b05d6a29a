// Reading one TOML table of the config: the tool every part of the config
// file is read with, the daemon's own sections and each component's table.
//
// A reader walks its table once and keeps going after a problem, so one run
// of `kinesis-connect validate` shows everything that needs fixing. It
// remembers which keys were asked for; whatever was not asked for is an
// unknown key, reported with the closest known name. Messages name keys and
// types but never repeat a value the user wrote unless it is a choice from a
// fixed list (a type, a format), so a secret put in the wrong place does not
// end up in a log. Problems go to one list shared by every reader of a file;
// see ConfigProblem (config/problem.h) for their keys and lines.
#pragma once

#include <toml++/toml.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/files.h"
#include "base/names.h"
#include "config/problem.h"
#include "kc/aws.h"

namespace kc::config {

using Problems = std::vector<ConfigProblem>;
using std::chrono::milliseconds;

// Pipeline names end up in file names, checkpoint keys and logs.
using util::kMaxNameLength;
// Kinesis stream names: 1 to 128 of [a-zA-Z0-9_.-].
constexpr size_t kMaxStreamNameLength = 128;
// Text the user wrote (keys, choices) is cut to this length in messages.
constexpr size_t kMaxEchoLength = 64;

constexpr char kStreamNameRule[] =
    "must be a Kinesis stream name: 1 to 128 letters, digits, '_', '.' or '-'";

int LineOf(const toml::source_region& region);

bool Contains(std::span<const std::string_view> names, std::string_view name);

std::string Join(std::span<const std::string_view> names);

// User text shown in a message: control bytes escaped so that every message
// stays one printable line, and long text cut.
std::string Printable(std::string_view text, size_t max_length = kMaxEchoLength);

// A key as one segment of a dotted path, quoted as TOML would need it.
std::string KeySegment(std::string_view key);

// "; did you mean 'x'?" when one candidate is close enough to be a typo.
std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates);

// "unknown emitter type 'fiel' (known: file, stdout); did you mean 'file'?"
std::string UnknownChoice(std::string_view what, std::string_view value,
                          std::span<const std::string_view> choices, std::string_view known);

const char* TypeName(toml::node_type type);

// Where a problem with a URL lies, or nothing when it is usable. Mirrors what
// the HTTP layer accepts, so a config that validates also connects.
std::optional<std::string> UrlProblem(std::string_view url);

// util::NameProblem: 1 to 128 of [A-Za-z0-9._-], not "." or "..".
std::optional<std::string> IdentifierProblem(std::string_view name);

// DynamoDB's rule for table names.
std::optional<std::string> DynamoTableProblem(std::string_view name);

bool IsStreamName(std::string_view stream);

enum class Need { kOptional, kRequired };

// One TOML table being read: finds keys, checks their types, reports problems
// with the table's dotted path, and at the end reports the keys nobody asked for.
// What a ca_file key holds, for its problems.
inline constexpr std::string_view kCaFileHolds =
    "a file of PEM certificates: the authorities to trust";

class TableReader {
 public:
  // `path`: the dotted key of the table in messages ("pipeline[0].buffer",
  // "" for the root). `toml_name`: the table's name as written in a header
  // ("pipeline.buffer"); `array_element` when it was opened with [[...]].
  TableReader(const toml::table& table, std::string path, std::string toml_name, bool array_element,
              Problems* problems)
      : table_(table),
        path_(std::move(path)),
        toml_name_(std::move(toml_name)),
        array_element_(array_element),
        problems_(problems) {}

  // The line of the table's header; 0 for the root, which has none.
  int line() const { return toml_name_.empty() ? 0 : LineOf(table_.source()); }

  std::string KeyPath(std::string_view key) const {
    return path_.empty() ? KeySegment(key) : path_ + "." + KeySegment(key);
  }

  // "in [pipeline.buffer]", "in [[pipeline]]", "at the top level".
  std::string Where() const {
    if (toml_name_.empty()) return "at the top level";
    return array_element_ ? "in [[" + toml_name_ + "]]" : "in [" + toml_name_ + "]";
  }

  std::string ChildHeader(std::string_view key) const {
    return "[" + (toml_name_.empty() ? "" : toml_name_ + ".") + KeySegment(key) + "]";
  }

  TableReader Child(const toml::table& table, std::string_view key) const {
    return TableReader(table, KeyPath(key),
                       (toml_name_.empty() ? "" : toml_name_ + ".") + KeySegment(key), false,
                       problems_);
  }

  TableReader Element(const toml::table& table, size_t index, std::string_view key) const {
    return TableReader(table, KeyPath(key) + "[" + std::to_string(index) + "]",
                       (toml_name_.empty() ? "" : toml_name_ + ".") + KeySegment(key), true,
                       problems_);
  }

  // Marks `key` as known and returns its value, if present.
  const toml::node* Get(std::string_view key, Need need) {
    known_.push_back(key);
    const toml::node* node = table_.get(key);
    if (node == nullptr && need == Need::kRequired) {
      Add(line(), key, "missing required key '" + std::string(key) + "' " + Where());
    }
    return node;
  }

  bool Has(std::string_view key) const { return table_.contains(key); }

  // A problem with the value of `key`, on the value's line (or the table's
  // line when the key is absent).
  void Report(std::string_view key, std::string message) {
    const toml::node* node = table_.get(key);
    Add(node != nullptr ? LineOf(node->source()) : line(), key, std::move(message));
  }

  void ReportWrongType(std::string_view key, const toml::node& node, std::string_view expected) {
    Report(key, "expected " + std::string(expected) + ", got " + TypeName(node.type()));
  }

  std::optional<std::string> String(std::string_view key, Need need) {
    const toml::node* node = Get(key, need);
    if (node == nullptr) return std::nullopt;
    if (const toml::value<std::string>* s = node->as_string()) return s->get();
    ReportWrongType(key, *node, "a string");
    return std::nullopt;
  }

  // A string that must not be empty when present.
  std::optional<std::string> NonEmptyString(std::string_view key, Need need) {
    std::optional<std::string> value = String(key, need);
    if (value && value->empty()) {
      Report(key, "must not be empty; leave the key out to use the default");
      return std::nullopt;
    }
    return value;
  }

  // The path of a file this process can read; `holds` names what it should
  // hold ("a file of PEM certificates: ...") for the problem reported.
  std::optional<std::string> ReadableFile(std::string_view key, Need need, std::string_view holds) {
    std::optional<std::string> path = NonEmptyString(key, need);
    if (!path) return std::nullopt;
    if (::access(path->c_str(), R_OK) != 0) {
      Report(key, std::string("cannot read the file (") + std::strerror(errno) + "); name " +
                      std::string(holds));
      return std::nullopt;
    }
    return path;
  }

  std::optional<int64_t> Integer(std::string_view key, Need need) {
    const toml::node* node = Get(key, need);
    if (node == nullptr) return std::nullopt;
    if (const toml::value<int64_t>* i = node->as_integer()) return i->get();
    ReportWrongType(key, *node, "an integer");
    return std::nullopt;
  }

  std::optional<bool> Bool(std::string_view key, Need need) {
    const toml::node* node = Get(key, need);
    if (node == nullptr) return std::nullopt;
    if (const toml::value<bool>* b = node->as_boolean()) return b->get();
    ReportWrongType(key, *node, "a boolean (true or false)");
    return std::nullopt;
  }

  const toml::table* Table(std::string_view key, Need need) {
    known_.push_back(key);
    const toml::node* node = table_.get(key);
    if (node == nullptr) {
      if (need == Need::kRequired) {
        Add(line(), key, "missing required table " + ChildHeader(key));
      }
      return nullptr;
    }
    if (const toml::table* t = node->as_table()) return t;
    ReportWrongType(key, *node, "a table");
    return nullptr;
  }

  // One of `choices`; otherwise reports `what` ("emitter type") with the
  // choices and a did-you-mean.
  std::optional<std::string> Choice(std::string_view key, Need need, std::string_view what,
                                    std::span<const std::string_view> choices) {
    std::optional<std::string> value = String(key, need);
    if (!value) return std::nullopt;
    if (Contains(choices, *value)) return value;
    Report(key, UnknownChoice(what, *value, choices, Join(choices)));
    return std::nullopt;
  }

  void ReportUnknownKeys() {
    for (auto&& [key, value] : table_) {
      const std::string_view name = key.str();
      if (std::find(known_.begin(), known_.end(), name) != known_.end()) continue;
      Add(LineOf(key.source()), name,
          "unknown key '" + Printable(name) + "' " + Where() + DidYouMean(name, known_));
    }
  }

 private:
  void Add(int line, std::string_view key, std::string message) {
    problems_->push_back(ConfigProblem{line, KeyPath(key), std::move(message)});
  }

  const toml::table& table_;
  std::string path_;
  std::string toml_name_;
  bool array_element_;
  Problems* problems_;
  std::vector<std::string_view> known_;
};

void ReadUrl(TableReader& reader, std::string_view key, std::string* out);

// An AWS region name, or nothing (with the problem reported).
std::optional<std::string> ReadRegion(TableReader& reader);

// role_arn, and external_id and role_session_name, which only apply with it:
// a role to assume ([aws], or a sink writing into another account).
void ReadRole(TableReader& reader, AwsRole* role);

// file_mode and dir_mode: octal strings ("0640", "0750") for the files a
// component writes and the directories it makes, for readers other than
// the connector's user. The owner keeps read and write (and, on
// directories, search); nothing may be writable by others, and no special
// bits. Unset, `modes` keeps its defaults (0600 and 0700).
void ReadFileModes(TableReader& reader, util::FileModes* modes);

// A duration string; bare numbers are refused because their unit is a guess.
std::optional<milliseconds> ReadDuration(TableReader& reader, std::string_view key,
                                         milliseconds minimum, std::string_view too_small);

std::optional<uint64_t> ReadByteSize(TableReader& reader, std::string_view key, uint64_t maximum,
                                     std::string_view too_large);

}  // namespace kc::config
