#include "config/reader.h"

#include <climits>

#include "base/names.h"
#include "base/units.h"

namespace kc::config {
namespace {

// STS's rule for session names: 2 to 64 of letters, digits and +=,.@_-.
bool IsRoleSessionName(std::string_view name) {
  if (name.size() < 2 || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("+=,.@_-").find(c) != std::string_view::npos;
  });
}

}  // namespace

void ReadRole(TableReader& reader, AwsRole* role) {
  if (std::optional<std::string> arn = reader.NonEmptyString("role_arn", Need::kOptional)) {
    if (!arn->starts_with("arn:") || arn->find(":role/") == std::string::npos) {
      reader.Report("role_arn",
                    "must be the ARN of an IAM role, such as "
                    "\"arn:aws:iam::123456789012:role/kinesis-reader\"");
    } else {
      role->arn = *arn;
    }
  }
  if (std::optional<std::string> id = reader.NonEmptyString("external_id", Need::kOptional)) {
    if (role->arn.empty()) {
      reader.Report("external_id",
                    "only applies with role_arn; set the role to assume, or "
                    "remove it");
    } else {
      role->external_id = *id;
    }
  }
  if (std::optional<std::string> name =
          reader.NonEmptyString("role_session_name", Need::kOptional)) {
    if (role->arn.empty()) {
      reader.Report("role_session_name",
                    "only applies with role_arn; set the role to assume, "
                    "or remove it");
    } else if (!IsRoleSessionName(*name)) {
      reader.Report("role_session_name", "must be 2 to 64 letters, digits or any of +=,.@_-");
    } else {
      role->session_name = *name;
    }
  }
}

namespace {

bool IsBareKey(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Optimal string alignment distance, ignoring case: insertions, deletions,
// substitutions and swaps of neighbours, the usual typing mistakes.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = LowerAscii(a[i - 1]) == LowerAscii(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && LowerAscii(a[i - 1]) == LowerAscii(b[j - 2]) &&
          LowerAscii(a[i - 2]) == LowerAscii(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

int LineOf(const toml::source_region& region) {
  return static_cast<int>(std::min<toml::source_index>(region.begin.line, INT_MAX));
}

bool Contains(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string Join(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string Printable(std::string_view text, size_t max_length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_length; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_length) out += "...";
  return out;
}

std::string KeySegment(std::string_view key) {
  if (IsBareKey(key)) return std::string(key);
  return "\"" + Printable(key) + "\"";
}

std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  std::string_view best;
  size_t best_distance = SIZE_MAX;
  for (std::string_view candidate : candidates) {
    const size_t allowed = std::max<size_t>(1, candidate.size() / 3);
    // The distance is at least the difference in length: skip the table.
    const size_t length_gap = word.size() > candidate.size() ? word.size() - candidate.size()
                                                             : candidate.size() - word.size();
    if (length_gap > allowed) continue;
    const size_t distance = EditDistance(word, candidate);
    if (distance <= allowed && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (best_distance == SIZE_MAX) return "";
  return "; did you mean '" + std::string(best) + "'?";
}

std::string UnknownChoice(std::string_view what, std::string_view value,
                          std::span<const std::string_view> choices, std::string_view known) {
  return "unknown " + std::string(what) + " '" + Printable(value) +
         "' (known: " + std::string(known) + ")" + DidYouMean(value, choices);
}

const char* TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown type";
}

std::optional<std::string> UrlProblem(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return "must be a URL starting with http:// or https://, e.g. \"http://127.0.0.1:4567\"";
  }
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return "must not contain spaces or control characters";
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    // Credentials in a URL would be sent and logged in clear.
    return "must not contain user credentials; credentials come from the AWS credential chain";
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return "has an unclosed IPv6 address";
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "has text after the IPv6 address";
      port = after.substr(1);
      if (port.empty()) return "has an empty port";
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return "has an empty port";
  }
  if (host.empty() || host == "[]") return "has no host";
  if (!port.empty()) {
    int value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return "has a port that is not 1 to 65535";
      value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) return "has a port that is not 1 to 65535";
  }
  return std::nullopt;
}

std::optional<std::string> IdentifierProblem(std::string_view name) {
  return util::NameProblem(name);
}

std::optional<std::string> DynamoTableProblem(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return "must be 3 to 255 characters long";
  const bool allowed = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  if (!allowed) return "must contain only letters, digits, '.', '_' and '-'";
  return std::nullopt;
}

bool IsStreamName(std::string_view stream) {
  return !stream.empty() && stream.size() <= kMaxStreamNameLength &&
         std::all_of(stream.begin(), stream.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
         });
}

void ReadUrl(TableReader& reader, std::string_view key, std::string* out) {
  std::optional<std::string> url = reader.String(key, Need::kOptional);
  if (!url) return;
  if (std::optional<std::string> problem = UrlProblem(*url)) {
    reader.Report(key, *problem);
    return;
  }
  *out = *url;
}

std::optional<std::string> ReadRegion(TableReader& reader) {
  std::optional<std::string> region = reader.NonEmptyString("region", Need::kOptional);
  if (!region) return std::nullopt;
  const bool plausible = std::all_of(region->begin(), region->end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!plausible) {
    reader.Report("region",
                  "must be a region name of lowercase letters, digits and '-', e.g. "
                  "\"us-east-1\"");
    return std::nullopt;
  }
  return region;
}

namespace {

std::optional<mode_t> ReadMode(TableReader& reader, std::string_view key, mode_t owner_needs) {
  const toml::node* node = reader.Get(key, Need::kOptional);
  if (node == nullptr) return std::nullopt;
  const toml::value<std::string>* text = node->as_string();
  if (text == nullptr) {
    // A TOML integer 0640 is not octal: 640 would be read as decimal.
    reader.ReportWrongType(key, *node, "an octal mode in a string, e.g. \"0640\"");
    return std::nullopt;
  }
  const std::string& digits = text->get();
  if (digits.size() < 3 || digits.size() > 4 ||
      digits.find_first_not_of("01234567") != std::string::npos) {
    reader.Report(key, "expected an octal mode of 3 or 4 digits, e.g. \"0640\", got \"" +
                           Printable(digits) + "\"");
    return std::nullopt;
  }
  const auto mode = static_cast<mode_t>(std::stoul(digits, nullptr, 8));
  if (mode > 0777) {
    reader.Report(key, "setuid, setgid and sticky bits are not allowed; use the last three digits");
    return std::nullopt;
  }
  if ((mode & owner_needs) != owner_needs) {
    reader.Report(key, "the owner (the connector) needs " +
                           std::string(owner_needs == 0700 ? "read, write and search (07..)"
                                                           : "read and write (06..)") +
                           " to do its work");
    return std::nullopt;
  }
  if ((mode & 0002) != 0) {
    reader.Report(key, "must not be writable by others: anyone could change the output");
    return std::nullopt;
  }
  return mode;
}

}  // namespace

void ReadFileModes(TableReader& reader, util::FileModes* modes) {
  if (auto file = ReadMode(reader, "file_mode", 0600)) modes->file = *file;
  if (auto dir = ReadMode(reader, "dir_mode", 0700)) modes->dir = *dir;
}

std::optional<milliseconds> ReadDuration(TableReader& reader, std::string_view key,
                                         milliseconds minimum, std::string_view too_small) {
  const toml::node* node = reader.Get(key, Need::kOptional);
  if (node == nullptr) return std::nullopt;
  if (node->is_integer() || node->is_floating_point()) {
    reader.Report(key, "expected a duration string with a unit, e.g. \"30s\", got " +
                           std::string(TypeName(node->type())) +
                           " (a bare number could be seconds or milliseconds)");
    return std::nullopt;
  }
  const toml::value<std::string>* text = node->as_string();
  if (text == nullptr) {
    reader.ReportWrongType(key, *node, "a duration string, e.g. \"30s\"");
    return std::nullopt;
  }
  Result<milliseconds> duration = ParseDuration(text->get());
  if (!duration) {
    reader.Report(key, "invalid duration: " + duration.error().message());
    return std::nullopt;
  }
  if (*duration < minimum) {
    reader.Report(key, std::string(too_small));
    return std::nullopt;
  }
  return *duration;
}

std::optional<uint64_t> ReadByteSize(TableReader& reader, std::string_view key, uint64_t maximum,
                                     std::string_view too_large) {
  const toml::node* node = reader.Get(key, Need::kOptional);
  if (node == nullptr) return std::nullopt;
  uint64_t bytes = 0;
  if (const toml::value<int64_t>* integer = node->as_integer()) {
    if (integer->get() <= 0) {
      reader.Report(key, "must be greater than 0");
      return std::nullopt;
    }
    bytes = static_cast<uint64_t>(integer->get());
  } else if (const toml::value<std::string>* text = node->as_string()) {
    Result<uint64_t> parsed = ParseByteSize(text->get());
    if (!parsed) {
      reader.Report(key, "invalid size: " + parsed.error().message());
      return std::nullopt;
    }
    if (*parsed == 0) {
      reader.Report(key, "must be greater than 0");
      return std::nullopt;
    }
    bytes = *parsed;
  } else {
    reader.ReportWrongType(key, *node,
                           "a size string, e.g. \"5MiB\", or an integer number of bytes");
    return std::nullopt;
  }
  if (bytes > maximum) {
    reader.Report(key, std::string(too_large));
    return std::nullopt;
  }
  return bytes;
}

}  // namespace kc::config

namespace kc {

std::string ConfigProblem::ToString(const std::string& source) const {
  std::string out = source;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

}  // namespace kc
