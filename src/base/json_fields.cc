#include "base/json_fields.h"

#include "base/json_on_demand.h"

#include <simdjson.h>

#include <algorithm>
#include <utility>

#include "base/json_writer.h"

namespace kc::util {
namespace {

namespace od = simdjson::ondemand;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view RawToken(od::value& value) { return value.raw_json_token(); }
std::string_view RawToken(od::document& document) {
  std::string_view token;
  if (document.raw_json_token().get(token) != simdjson::SUCCESS) return {};
  return token;
}

// One pass over a document: every value is checked, and the values the
// paths lead to are recorded on the way.
class Walker {
 public:
  Walker(std::span<const JsonPath> paths, std::vector<JsonField>* out)
      : paths_(paths), out_(out), found_(paths.size(), false) {}

  // `candidates`: the paths whose first `depth` names lead here.
  template <typename Node>
  simdjson::error_code Walk(Node& node, size_t depth, std::span<const size_t> candidates) {
    od::json_type type;
    if (auto e = node.type().get(type)) return e;
    // Every container is a level of recursion here, and a record of
    // nothing but '[' would run the thread out of stack: no deeper than
    // simdjson's DOM parser goes (on demand, simdjson sets no limit).
    if ((type == od::json_type::object || type == od::json_type::array) &&
        depth >= simdjson::DEFAULT_MAX_DEPTH) {
      return simdjson::DEPTH_ERROR;
    }
    // Paths that end here record this value; the others go on into objects.
    const size_t first_capture = captures_.size();
    std::vector<size_t> deeper;
    std::vector<JsonField*> scalars;
    for (size_t p : candidates) {
      if (paths_[p].names().size() == depth) {
        if (found_[p]) continue;
        found_[p] = true;
        JsonField& field = (*out_)[p];
        field.text.clear();
        field.kind = KindOf(type);
        if (type == od::json_type::object || type == od::json_type::array) {
          captures_.push_back(&field.text);
        } else {
          scalars.push_back(&field);
        }
      } else if (type == od::json_type::object) {
        deeper.push_back(p);
      }
    }
    simdjson::error_code error = simdjson::SUCCESS;
    switch (type) {
      case od::json_type::object:
        error = WalkObject(node, depth, deeper);
        break;
      case od::json_type::array:
        error = WalkArray(node, depth);
        break;
      case od::json_type::string: {
        std::string_view s;
        error = node.get_string().get(s);
        if (!error) {
          for (JsonField* f : scalars) f->text = s;
          if (!captures_.empty()) {
            scratch_.clear();
            AppendJsonString(scratch_, s);
            Emit(scratch_);
          }
        }
        break;
      }
      case od::json_type::number:
      case od::json_type::boolean:
      case od::json_type::null: {
        const std::string_view token = TrimJsonSpace(RawToken(node));
        if (type == od::json_type::number && !IsJsonNumber(token)) {
          error = simdjson::NUMBER_ERROR;
        } else if (type == od::json_type::boolean && token != "true" && token != "false") {
          error = token.starts_with('t') ? simdjson::T_ATOM_ERROR : simdjson::F_ATOM_ERROR;
        } else if (type == od::json_type::null && token != "null") {
          error = simdjson::N_ATOM_ERROR;
        } else {
          last_token_ = token;
          if (type != od::json_type::null) {
            for (JsonField* f : scalars) f->text = token;
          }
          Emit(token);
        }
        break;
      }
    }
    captures_.resize(first_capture);
    return error;
  }

  std::string_view last_token() const { return last_token_; }

 private:
  static JsonField::Kind KindOf(od::json_type type) {
    switch (type) {
      case od::json_type::object:
        return JsonField::Kind::kObject;
      case od::json_type::array:
        return JsonField::Kind::kArray;
      case od::json_type::string:
        return JsonField::Kind::kString;
      case od::json_type::number:
        return JsonField::Kind::kNumber;
      case od::json_type::boolean:
        return JsonField::Kind::kBool;
      case od::json_type::null:
        return JsonField::Kind::kNull;
    }
    return JsonField::Kind::kNull;
  }

  template <typename Node>
  simdjson::error_code WalkObject(Node& node, size_t depth, const std::vector<size_t>& deeper) {
    od::object object;
    if (auto e = node.get_object().get(object)) return e;
    Emit("{");
    bool first = true;
    std::vector<size_t> matching;
    for (auto member : object) {
      od::field field;
      if (auto e = std::move(member).get(field)) return e;
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return e;
      matching.clear();
      for (size_t p : deeper) {
        if (paths_[p].names()[depth] == key) matching.push_back(p);
      }
      if (!captures_.empty()) {
        scratch_.clear();
        if (!first) scratch_.push_back(',');
        AppendJsonString(scratch_, key);
        scratch_.push_back(':');
        Emit(scratch_);
      }
      first = false;
      od::value value = field.value();
      if (auto e = Walk(value, depth + 1, matching)) return e;
    }
    Emit("}");
    return simdjson::SUCCESS;
  }

  template <typename Node>
  simdjson::error_code WalkArray(Node& node, size_t depth) {
    od::array array;
    if (auto e = node.get_array().get(array)) return e;
    Emit("[");
    bool first = true;
    for (auto element : array) {
      od::value value;
      if (auto e = std::move(element).get(value)) return e;
      if (!first) Emit(",");
      first = false;
      if (auto e = Walk(value, depth + 1, {})) return e;
    }
    Emit("]");
    return simdjson::SUCCESS;
  }

  void Emit(std::string_view piece) {
    for (std::string* capture : captures_) capture->append(piece);
  }

  std::span<const JsonPath> paths_;
  std::vector<JsonField>* out_;
  std::vector<bool> found_;
  std::vector<std::string*> captures_;  // containers being recorded as compact text
  std::string scratch_;
  std::string_view last_token_;
};

// Parses and walks `json`; `object_only` refuses documents other than objects.
Status Check(std::string_view json, std::span<const JsonPath> paths, std::vector<JsonField>* out,
             bool object_only) {
  ThreadJsonParser& tp = ThisThreadJsonParser();
  od::document document;
  auto error = tp.Iterate(json).get(document);
  od::json_type type = od::json_type::null;
  if (!error) error = document.type().get(type);
  if (error) {
    if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return Fail(ErrorCode::kParse, "not valid JSON: the record is empty");
    }
    return Fail(ErrorCode::kParse,
                std::string("not valid JSON: ") + simdjson::error_message(error));
  }
  if (object_only && type != od::json_type::object) {
    return Fail(ErrorCode::kParse,
                std::string("not a JSON object: the record is ") + JsonTypeName(type));
  }
  std::vector<size_t> all(paths.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  Walker walker(paths, out);
  error = walker.Walk(document, 0, all);
  if (!error) {
    if (type == od::json_type::object || type == od::json_type::array) {
      // Read to its end, the document has no current location.
      if (document.current_location().error() == simdjson::SUCCESS) {
        error = simdjson::TRAILING_CONTENT;
      }
    } else {
      // A scalar document is one token, which runs up to the next token.
      const std::string_view token = walker.last_token();
      const size_t end = static_cast<size_t>(token.data() - tp.buffer.data()) + token.size();
      if (tp.buffer.find_first_not_of(" \t\r\n", end) != std::string::npos) {
        error = simdjson::TRAILING_CONTENT;
      }
    }
  }
  if (error) {
    return Fail(ErrorCode::kParse,
                std::string("not valid JSON: ") + simdjson::error_message(error));
  }
  return Ok();
}

}  // namespace

ThreadJsonParser& ThisThreadJsonParser() {
  thread_local ThreadJsonParser parser;
  return parser;
}

std::string_view TrimJsonSpace(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);
  }
  return token;
}

const char* JsonTypeName(od::json_type type) {
  switch (type) {
    case od::json_type::object:
      return "an object";
    case od::json_type::array:
      return "an array";
    case od::json_type::string:
      return "a string";
    case od::json_type::number:
      return "a number";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "unknown";
}

// RFC 8259's number grammar. simdjson checks numbers only when it converts
// them, and big integers do not convert: the text is checked instead, so a
// number of any size is accepted and kept as written.
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i == n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && IsDigit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    const size_t start = ++i;
    while (i < n && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    const size_t start = i;
    while (i < n && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == n;
}

Result<JsonPath> JsonPath::Parse(std::string_view text) {
  const std::string shown = "field path \"" + std::string(text) + "\"";
  if (text.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "field path is empty; name a field, e.g. \"type\" or \"user.id\"");
  }
  JsonPath path;
  path.text_ = std::string(text);
  std::string name;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      if (i + 1 == text.size() || (text[i + 1] != '.' && text[i + 1] != '\\')) {
        return Fail(ErrorCode::kInvalidArgument,
                    shown +
                        ": a backslash must be followed by '.' or '\\' (write \"a\\\\.b\" "
                        "in TOML for a field named \"a.b\")");
      }
      name.push_back(text[++i]);
    } else if (c == '.') {
      if (name.empty()) {
        return Fail(ErrorCode::kInvalidArgument,
                    shown +
                        ": has an empty field name; separate names with single dots, "
                        "e.g. \"user.id\"");
      }
      path.names_.push_back(std::move(name));
      name.clear();
    } else {
      name.push_back(c);
    }
  }
  if (name.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                shown +
                    ": has an empty field name; separate names with single dots, "
                    "e.g. \"user.id\"");
  }
  path.names_.push_back(std::move(name));
  return path;
}

Status ValidateJson(std::string_view json) { return Check(json, {}, nullptr, false); }

Status ReadJsonFields(std::string_view json, std::span<const JsonPath> paths,
                      std::vector<JsonField>& out) {
  out.resize(paths.size());
  for (JsonField& field : out) {
    field.kind = JsonField::Kind::kMissing;
    field.text.clear();
  }
  return Check(json, paths, &out, true);
}

}  // namespace kc::util
