// One thing wrong with a config file, as `kinesis-connect validate` shows it.
#pragma once

#include <string>

namespace kc {

// One thing wrong with a config.
//
// `key` is the dotted path of the offending key. Pipelines are named by their
// 0-based position in the file, "pipeline[0]", not by their `name`: the name
// may be the very thing that is missing, invalid or duplicated, and the
// position always points at one table. Examples: "aws.endpoints.s3",
// "checkpoint.store", "pipeline[1].buffer.max_bytes", "pipeline[0].emitter"
// (a missing table). Keys that are not bare TOML keys are quoted:
// pipeline[0]."my key". `key` is empty for problems with the file as a whole
// (a TOML syntax error, an unreadable file).
//
// `line` is where the value is; for a missing key or table, the line of the
// header of the table that should contain it. ParseConfig returns problems in
// line order, those with line 0 last.
//
// Messages name keys, types and limits; they repeat what the user wrote only
// for choices from a fixed list (types, formats, unit names), never other
// values, which could be secrets.
struct ConfigProblem {
  int line = 0;     // 1-based; 0 when the problem has no single line
  std::string key;  // dotted path, e.g. "pipeline[1].buffer.max_bytes"; may be empty
  std::string message;
  // "<source>:<line>: <key>: <message>"; ":<line>" is left out when `line` is
  // 0 and "<key>: " when `key` is empty.
  std::string ToString(const std::string& source) const;
};

}  // namespace kc
