// Object keys and file names from a template, so a batch's name is a pure
// function of the batch: a replay after a crash produces the same name and
// overwrites instead of duplicating.
//
// Placeholders: {stream} {shard} {first} {last} (sequence numbers, with
// ".<sub>" when a sub-sequence is set), {yyyy} {MM} {dd} {HH} (UTC, from the
// first record's ApproximateArrivalTimestamp, never the wall clock), and
// {ext} (the format's extension with the compression's, e.g. "txt.gz").
// "{{" and "}}" stand for literal braces.
//
// Thread-safety: immutable after Parse; Render may be called concurrently.
#pragma once

#include <string>
#include <vector>

#include "kc/record.h"
#include "kc/status.h"

namespace kc::emitter {

class KeyTemplate {
 public:
  // Fails with kConfig naming the unknown or unclosed placeholder.
  static Result<KeyTemplate> Parse(const std::string& text);

  // `ext` is what {ext} becomes.
  std::string Render(const Batch& batch, const std::string& ext) const;
  // True if the template names the batch's range, which deterministic,
  // collision-free names need.
  bool NamesTheRange() const { return has_first_ && has_last_; }
  bool HasExt() const { return has_ext_; }
  const std::string& text() const { return text_; }

 private:
  enum class Part { kLiteral, kStream, kShard, kFirst, kLast, kYear, kMonth, kDay, kHour, kExt };
  struct Piece {
    Part part;
    std::string literal;
  };
  std::string text_;
  std::vector<Piece> pieces_;
  bool has_first_ = false;
  bool has_last_ = false;
  bool has_ext_ = false;
};

}  // namespace kc::emitter
