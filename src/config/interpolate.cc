#include "config/interpolate.h"

#include "config/reader.h"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace kc::config {
namespace {

bool NameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }

// Key names that say their value is secret.
bool SecretKey(std::string_view key) {
  std::string lower(key);
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
  static constexpr std::array<std::string_view, 4> kWords = {"password", "secret", "token",
                                                             "credential"};
  return std::ranges::any_of(
      kWords, [&](std::string_view w) { return lower.find(w) != std::string::npos; });
}

// The password of a URL (scheme://user:password@host/...); empty if none.
std::string_view UrlPassword(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return {};
  const std::string_view userinfo = authority.substr(0, at);
  const size_t colon = userinfo.find(':');
  return colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1);
}

// `text` with $$ as $.
std::string Dollars(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') ++i;
  }
  return out;
}

class Walker {
 public:
  Walker(const EnvLookup& env, std::vector<ConfigProblem>* problems)
      : env_(env), problems_(problems) {}

  void Table(toml::table& table, const std::string& path) {
    for (auto&& [key, node] : table) {
      const std::string name =
          path.empty() ? KeySegment(key.str()) : path + "." + KeySegment(key.str());
      Node(node, name, key.str());
    }
  }

  std::vector<std::string> Secrets() { return std::move(secrets_); }

 private:
  void Node(toml::node& node, const std::string& path, std::string_view key) {
    if (toml::table* t = node.as_table()) {
      Table(*t, path);
    } else if (toml::array* a = node.as_array()) {
      // Tables by their place ("pipeline[1]"), as the readers name them;
      // strings by the array's key.
      for (size_t i = 0; i < a->size(); ++i) {
        toml::node& element = *a->get(i);
        Node(element, element.is_table() ? path + "[" + std::to_string(i) + "]" : path, key);
      }
    } else if (toml::value<std::string>* s = node.as_string()) {
      if (s->get().find('$') == std::string::npos) return;
      std::string problem;
      Interpolated out = Interpolate(s->get(), env_, &problem);
      if (!problem.empty()) {
        problems_->push_back(
            ConfigProblem{static_cast<int>(node.source().begin.line), path, problem});
        return;
      }
      // Secret: what the environment gave a key named as secret, and a
      // URL's password that came from it (whole, or in part); the rest of
      // a URL (host, port, database) is not.
      const std::string_view password = UrlPassword(out.value);
      for (std::string& v : out.from_env) {
        if (v.empty()) continue;
        if (SecretKey(key)) {
          secrets_.push_back(std::move(v));
        } else if (!password.empty() && (password.find(v) != std::string_view::npos ||
                                         v.find(password) != std::string::npos)) {
          secrets_.emplace_back(password);
        }
      }
      s->get() = std::move(out.value);
    }
  }

  const EnvLookup& env_;
  std::vector<ConfigProblem>* problems_;
  std::vector<std::string> secrets_;
};

}  // namespace

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Interpolated Interpolate(std::string_view text, const EnvLookup& env, std::string* problem) {
  Interpolated out;
  out.value.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '$' || i + 1 == text.size()) {
      out.value += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out.value += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out.value += c;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      *problem =
          "has a '${' without its '}'; write ${NAME} or ${NAME:-default}, or $$ for a "
          "literal '$'";
      return {};
    }
    const std::string_view inside = text.substr(i + 2, close - i - 2);
    const size_t dash = inside.find(":-");
    const std::string_view name = inside.substr(0, dash);
    if (dash != std::string_view::npos && (inside.find('{', dash) != std::string_view::npos ||
                                           text.substr(close + 1).starts_with('}'))) {
      *problem = "the default of ${" + std::string(name) +
                 ":-...} holds a brace; a default is plain text, with $$ for a literal '$'";
      return {};
    }
    if (name.empty() || !NameStart(name.front()) || !std::ranges::all_of(name, NameChar)) {
      *problem = "'${" + std::string(name) +
                 "}' does not name an environment variable (letters, digits and '_', not "
                 "starting with a digit); write $$ for a literal '$'";
      return {};
    }
    std::optional<std::string> value = env(std::string(name));
    if (dash != std::string_view::npos && (!value || value->empty())) {
      out.value += Dollars(inside.substr(dash + 2));
    } else if (!value) {
      *problem = "the environment variable " + std::string(name) +
                 " is not set; set it, or give a default: ${" + std::string(name) + ":-default}";
      return {};
    } else {
      out.value += *value;
      out.from_env.push_back(std::move(*value));
    }
    i = close;
  }
  return out;
}

std::vector<std::string> InterpolateTree(toml::table& root, const EnvLookup& env,
                                         std::vector<ConfigProblem>* problems) {
  Walker walker(env, problems);
  walker.Table(root, "");
  return walker.Secrets();
}

}  // namespace kc::config
