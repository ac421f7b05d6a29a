#include "sinks/util/key_template.h"

#include <array>
#include <utility>

#include "base/time_format.h"
#include "sinks/util/format.h"

namespace kc::emitter {

Result<KeyTemplate> KeyTemplate::Parse(const std::string& text) {
  static constexpr std::array<std::pair<std::string_view, Part>, 9> kNames = {{
      {"stream", Part::kStream},
      {"shard", Part::kShard},
      {"first", Part::kFirst},
      {"last", Part::kLast},
      {"yyyy", Part::kYear},
      {"MM", Part::kMonth},
      {"dd", Part::kDay},
      {"HH", Part::kHour},
      {"ext", Part::kExt},
  }};
  KeyTemplate t;
  t.text_ = text;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) t.pieces_.push_back({Part::kLiteral, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal.push_back('}');
        ++i;
        continue;
      }
      return Fail(ErrorCode::kConfig, "a '}' without its '{' at offset " + std::to_string(i) +
                                          " (write '}}' for a literal brace)");
    }
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      ++i;
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos) {
      return Fail(ErrorCode::kConfig, "the '{' at offset " + std::to_string(i) + " is not closed");
    }
    std::string_view name(text.data() + i + 1, close - i - 1);
    bool found = false;
    for (const auto& [n, part] : kNames) {
      if (n != name) continue;
      flush();
      t.pieces_.push_back({part, {}});
      t.has_first_ |= part == Part::kFirst;
      t.has_last_ |= part == Part::kLast;
      t.has_ext_ |= part == Part::kExt;
      found = true;
    }
    if (!found) {
      return Fail(ErrorCode::kConfig,
                  "unknown placeholder {" + std::string(name) +
                      "}; known: {stream} {shard} {first} {last} {yyyy} {MM} {dd} {HH} {ext}");
    }
    i = close;
  }
  flush();
  return t;
}

std::string KeyTemplate::Render(const Batch& batch, const std::string& ext) const {
  util::UtcTime t = util::ToUtc(batch.first_arrival_ms);
  std::string out;
  for (const Piece& p : pieces_) {
    switch (p.part) {
      case Part::kLiteral:
        out += p.literal;
        break;
      case Part::kStream:
        out += batch.stream;
        break;
      case Part::kShard:
        out += batch.shard_id;
        break;
      case Part::kFirst:
        out += PositionName(batch.first);
        break;
      case Part::kLast:
        out += PositionName(batch.last);
        break;
      case Part::kYear:
        out += util::Pad(t.year, 4);
        break;
      case Part::kMonth:
        out += util::Pad(t.month, 2);
        break;
      case Part::kDay:
        out += util::Pad(t.day, 2);
        break;
      case Part::kHour:
        out += util::Pad(t.hour, 2);
        break;
      case Part::kExt:
        out += ext;
        break;
    }
  }
  return out;
}

}  // namespace kc::emitter
