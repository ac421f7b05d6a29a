#include "clients/aws/credentials.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "base/time_format.h"
#include "clients/aws/credentials_cache.h"

namespace kc::aws {
namespace {

constexpr char kAccessKeyVar[] = "AWS_ACCESS_KEY_ID";
constexpr char kSecretKeyVar[] = "AWS_SECRET_ACCESS_KEY";
constexpr char kSessionTokenVar[] = "AWS_SESSION_TOKEN";
constexpr char kLegacyTokenVar[] = "AWS_SECURITY_TOKEN";

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Cuts a comment that starts at the beginning or after whitespace.
std::string_view StripInlineComment(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if ((s[i] == '#' || s[i] == ';') && (i == 0 || IsBlank(s[i - 1]))) return s.substr(0, i);
  }
  return s;
}

// A variable that is set and not empty.
std::optional<std::string> NonEmptyEnv(const GetEnvFn& getenv, const std::string& name) {
  auto value = getenv(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// The profile name and why it is the one in use, for messages.
struct ProfileChoice {
  std::string name;
  std::string origin;  // "set in the configuration", "from AWS_PROFILE", "the default"
  bool configured = false;
};

ProfileChoice ChooseProfile(const std::string& configured, const GetEnvFn& getenv) {
  if (!configured.empty()) return {configured, "set in the configuration", true};
  if (auto env = NonEmptyEnv(getenv, "AWS_PROFILE")) return {*env, "from AWS_PROFILE", false};
  return {"default", "the default", false};
}

// Where the shared files are. A path is empty when it would be under the
// home directory and HOME is not set.
struct SharedFiles {
  std::string credentials;
  std::string config;
};

std::string ExpandHome(const std::string& path, const GetEnvFn& getenv) {
  if (path != "~" && !path.starts_with("~/")) return path;
  auto home = NonEmptyEnv(getenv, "HOME");
  if (!home) return {};
  return *home + path.substr(1);
}

SharedFiles LocateSharedFiles(const GetEnvFn& getenv) {
  SharedFiles files;
  auto credentials = NonEmptyEnv(getenv, "AWS_SHARED_CREDENTIALS_FILE");
  files.credentials = ExpandHome(credentials.value_or("~/.aws/credentials"), getenv);
  auto config = NonEmptyEnv(getenv, "AWS_CONFIG_FILE");
  files.config = ExpandHome(config.value_or("~/.aws/config"), getenv);
  return files;
}

std::string DescribePath(const std::string& path, const char* default_name) {
  if (path.empty()) return std::string(default_name) + " (HOME is not set)";
  return path;
}

// A shared file: nullopt when it does not exist (which is normal).
Result<std::optional<IniFile>> LoadIni(const std::string& path) {
  if (path.empty()) return std::optional<IniFile>();
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<IniFile>();
    return Fail(ErrorCode::kIo, "cannot read " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  int read_errno = errno;
  std::fclose(f);
  if (failed) {
    return Fail(ErrorCode::kIo, "cannot read " + path + ": " + std::strerror(read_errno));
  }
  auto ini = ParseIni(text, path);
  if (!ini) return Fail(ini.error());
  return std::optional<IniFile>(std::move(*ini));
}

// The config file's section for `profile`: "[profile NAME]", or for the
// default profile also "[default]". nullptr when absent.
const std::map<std::string, std::string>* ConfigSection(const IniFile& ini,
                                                        const std::string& profile) {
  for (const auto& [name, keys] : ini.sections) {
    std::string_view n = name;
    if (n.starts_with("profile") && n.size() > 7 && IsBlank(n[7])) {
      if (Trim(n.substr(7)) == profile) return &keys;
    }
  }
  if (profile == "default") {
    if (auto it = ini.sections.find("default"); it != ini.sections.end()) return &it->second;
  }
  return nullptr;
}

const std::string* Key(const std::map<std::string, std::string>& section, const char* key) {
  auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return nullptr;
  return &it->second;
}

// Credentials in one profile section. kNotFound when it has no keys at all.
Result<Credentials> CredentialsFromSection(const std::map<std::string, std::string>& section,
                                           const std::string& where) {
  const std::string* id = Key(section, "aws_access_key_id");
  const std::string* secret = Key(section, "aws_secret_access_key");
  if (id != nullptr && secret != nullptr) {
    Credentials c{*id, *secret, {}};
    if (const std::string* token = Key(section, "aws_session_token")) {
      c.session_token = *token;
    } else if (const std::string* legacy = Key(section, "aws_security_token")) {
      c.session_token = *legacy;
    }
    return c;
  }
  if (id != nullptr || secret != nullptr) {
    return Fail(ErrorCode::kAuth,
                where + " has " + (id ? "aws_access_key_id" : "aws_secret_access_key") +
                    " but no " + (id ? "aws_secret_access_key" : "aws_access_key_id") +
                    "; add the missing one or remove both");
  }
  for (const char* other : {"role_arn", "credential_process", "sso_start_url", "sso_session",
                            "web_identity_token_file"}) {
    if (Key(section, other) != nullptr) {
      return Fail(ErrorCode::kAuth,
                  where + " gets its credentials through " + other +
                      ", which kinesis-connect does not support yet; give the profile "
                      "aws_access_key_id and aws_secret_access_key, or export " +
                      kAccessKeyVar + " and " + kSecretKeyVar +
                      " (e.g. from `aws configure export-credentials --format env`)");
    }
  }
  return Fail(ErrorCode::kNotFound, where + " has no aws_access_key_id");
}

}  // namespace

std::optional<std::string> RealGetEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// --- IniFile ---------------------------------------------------------------

const std::string* IniFile::Find(const std::string& section, const std::string& key) const {
  auto s = sections.find(section);
  if (s == sections.end()) return nullptr;
  auto k = s->second.find(key);
  return k == s->second.end() ? nullptr : &k->second;
}

Result<IniFile> ParseIni(std::string_view text, const std::string& source) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte order mark
  IniFile ini;
  std::map<std::string, std::string>* section = nullptr;
  std::string* value = nullptr;  // the last key's value, for continuations
  size_t value_indent = 0;
  int line_no = 0;
  auto error = [&](const std::string& what) {
    return Fail(ErrorCode::kConfig, source + ":" + std::to_string(line_no) + ": " + what);
  };

  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;

    size_t indent = 0;
    while (indent < line.size() && IsBlank(line[indent])) ++indent;
    std::string_view body = Trim(line);
    if (body.empty()) {
      value = nullptr;
      continue;
    }
    if (body[0] == '#' || body[0] == ';') continue;
    if (value != nullptr && indent > value_indent) {
      std::string_view more = Trim(StripInlineComment(body));
      if (!more.empty()) {
        value->push_back('\n');
        value->append(more);
      }
      continue;
    }
    value = nullptr;

    if (body[0] == '[') {
      std::string_view header = Trim(StripInlineComment(body));
      if (!header.ends_with(']')) return error("a section header must end with ']'");
      std::string_view name = Trim(header.substr(1, header.size() - 2));
      if (name.empty()) return error("empty section name");
      section = &ini.sections[std::string(name)];
      continue;
    }

    size_t delim = body.find_first_of("=:");
    if (delim == std::string_view::npos) {
      return error("expected 'key = value' or '[section]'");
    }
    std::string key = Lower(Trim(body.substr(0, delim)));
    if (key.empty()) return error("a setting has no key");
    if (section == nullptr) return error("a setting comes before any [section]");
    std::string& slot = (*section)[key];
    slot = std::string(Trim(StripInlineComment(body.substr(delim + 1))));
    value = &slot;
    value_indent = indent;
  }
  return ini;
}

// --- EnvironmentCredentialsProvider -----------------------------------------

Result<Credentials> EnvironmentCredentialsProvider::Get() {
  auto id = NonEmptyEnv(getenv_, kAccessKeyVar);
  auto secret = NonEmptyEnv(getenv_, kSecretKeyVar);
  if (id && secret) {
    Credentials c{std::move(*id), std::move(*secret), {}};
    if (auto token = NonEmptyEnv(getenv_, kSessionTokenVar)) {
      c.session_token = std::move(*token);
    } else if (auto legacy = NonEmptyEnv(getenv_, kLegacyTokenVar)) {
      c.session_token = std::move(*legacy);
    }
    return c;
  }
  if (id || secret) {
    const char* set = id ? kAccessKeyVar : kSecretKeyVar;
    const char* unset = id ? kSecretKeyVar : kAccessKeyVar;
    return Fail(ErrorCode::kAuth, std::string("the environment variable ") + set + " is set but " +
                                      unset + " is not; set both or neither");
  }
  return Fail(ErrorCode::kNotFound, std::string("environment variables ") + kAccessKeyVar +
                                        " and " + kSecretKeyVar + " are not set");
}

std::string EnvironmentCredentialsProvider::Describe() const {
  return std::string("environment variables ") + kAccessKeyVar + ", " + kSecretKeyVar + ", " +
         kSessionTokenVar;
}

// --- ProfileCredentialsProvider ---------------------------------------------

Result<Credentials> ProfileCredentialsProvider::Get() {
  ProfileChoice profile = ChooseProfile(profile_, getenv_);
  SharedFiles files = LocateSharedFiles(getenv_);
  std::string name = "profile " + Quote(profile.name) + " (" + profile.origin + ")";

  // Why each file did not help, for the final message.
  std::string credentials_note;
  std::string config_note;

  auto credentials_ini = LoadIni(files.credentials);
  if (!credentials_ini) return Fail(credentials_ini.error());
  if (!*credentials_ini) {
    credentials_note = "no such file";
  } else if (auto it = (*credentials_ini)->sections.find(profile.name);
             it == (*credentials_ini)->sections.end()) {
    credentials_note = "no [" + profile.name + "] section";
  } else {
    auto found = CredentialsFromSection(it->second, name + " in " + files.credentials);
    if (found || found.error().code() != ErrorCode::kNotFound) return found;
    credentials_note = "no aws_access_key_id in [" + profile.name + "]";
  }

  auto config_ini = LoadIni(files.config);
  if (!config_ini) return Fail(config_ini.error());
  std::string config_section =
      profile.name == "default" ? "[default]" : "[profile " + profile.name + "]";
  if (!*config_ini) {
    config_note = "no such file";
  } else if (const auto* section = ConfigSection(**config_ini, profile.name); section == nullptr) {
    config_note = "no " + config_section + " section";
  } else {
    auto found = CredentialsFromSection(*section, name + " in " + files.config);
    if (found || found.error().code() != ErrorCode::kNotFound) return found;
    config_note = "no aws_access_key_id in " + config_section;
  }

  return Fail(ErrorCode::kNotFound, name + " has no keys in the shared credentials file " +
                                        DescribePath(files.credentials, "~/.aws/credentials") +
                                        " (" + credentials_note + ") or the config file " +
                                        DescribePath(files.config, "~/.aws/config") + " (" +
                                        config_note + ")");
}

std::string ProfileCredentialsProvider::Describe() const {
  ProfileChoice profile = ChooseProfile(profile_, getenv_);
  SharedFiles files = LocateSharedFiles(getenv_);
  return "profile " + Quote(profile.name) + " in " +
         DescribePath(files.credentials, "~/.aws/credentials") + " or " +
         DescribePath(files.config, "~/.aws/config");
}

// --- CredentialsChain ---------------------------------------------------------

CredentialsChain::CredentialsChain(std::vector<std::unique_ptr<CredentialsProvider>> providers,
                                   std::string fix_hint)
    : providers_(std::move(providers)), fix_hint_(std::move(fix_hint)) {}

Result<Credentials> CredentialsChain::Get() {
  std::string tried;
  int n = 0;
  for (const auto& provider : providers_) {
    auto credentials = provider->Get();
    if (credentials) {
      std::lock_guard lock(mu_);
      last_source_ = provider->Describe();
      return credentials;
    }
    if (credentials.error().code() != ErrorCode::kNotFound) return credentials;
    if (n > 0) tried += "; ";
    tried += std::to_string(++n) + ") " + credentials.error().message();
  }
  std::string message = "no AWS credentials found. Tried, in order: " + tried + ".";
  if (!fix_hint_.empty()) message += " " + fix_hint_;
  return Fail(ErrorCode::kAuth, std::move(message));
}

std::string CredentialsChain::Describe() const {
  std::string out;
  for (const auto& provider : providers_) {
    if (!out.empty()) out += ", then ";
    out += provider->Describe();
  }
  return out;
}

std::string CredentialsChain::LastSource() const {
  std::lock_guard lock(mu_);
  return last_source_;
}

// --- DefaultCredentialsChain --------------------------------------------------

namespace {

std::vector<std::unique_ptr<CredentialsProvider>> DefaultProviders(const std::string& profile,
                                                                   const GetEnvFn& getenv) {
  std::vector<std::unique_ptr<CredentialsProvider>> providers;
  if (profile.empty())
    providers.push_back(std::make_unique<EnvironmentCredentialsProvider>(getenv));
  providers.push_back(std::make_unique<ProfileCredentialsProvider>(profile, getenv));
  return providers;
}

std::string DefaultFixHint(const std::string& configured_profile, const GetEnvFn& getenv) {
  ProfileChoice profile = ChooseProfile(configured_profile, getenv);
  SharedFiles files = LocateSharedFiles(getenv);
  std::string hint = "To fix: ";
  if (profile.configured) {
    hint += "the environment was not consulted because the configuration names profile " +
            Quote(profile.name) + "; ";
  } else {
    hint += std::string("export ") + kAccessKeyVar + " and " + kSecretKeyVar + " (plus " +
            kSessionTokenVar + " for temporary credentials), or ";
  }
  hint += "add aws_access_key_id and aws_secret_access_key to the [" + profile.name +
          "] section of " + DescribePath(files.credentials, "~/.aws/credentials") +
          " (`aws configure" + (profile.name == "default" ? "" : " --profile " + profile.name) +
          "` writes it)" +
          (profile.configured ? ", or set `profile` under [aws] to a profile that has keys."
                              : ", or choose another profile with `profile` under [aws] or "
                                "AWS_PROFILE.");
  return hint;
}

}  // namespace

DefaultCredentialsChain::DefaultCredentialsChain(std::string profile, GetEnvFn getenv, Clock* clock,
                                                 Clock::Duration refresh_interval) {
  auto chain = std::make_unique<CredentialsChain>(DefaultProviders(profile, getenv),
                                                  DefaultFixHint(profile, getenv));
  chain_ = chain.get();
  cache_ = std::make_unique<CachedCredentials>(std::move(chain), clock, refresh_interval);
}

DefaultCredentialsChain::~DefaultCredentialsChain() = default;

Result<Credentials> DefaultCredentialsChain::Get() { return cache_->Get(); }

void DefaultCredentialsChain::Invalidate(const Credentials& used) { cache_->Invalidate(used); }

std::string DefaultCredentialsChain::Describe() const {
  std::string out = "default credentials chain: " + chain_->Describe();
  if (std::string source = chain_->LastSource(); !source.empty()) {
    out += " (using " + source;
    if (std::optional<int64_t> expires = cache_->Expiration()) {
      out += ", expiring at " + util::FormatRfc3339Millis(*expires);
    }
    out += ")";
  }
  return out;
}

// --- ResolveRegion ------------------------------------------------------------

Result<std::string> ResolveRegion(const std::string& configured_region, const std::string& profile,
                                  const GetEnvFn& getenv) {
  if (!configured_region.empty()) return configured_region;
  if (auto region = NonEmptyEnv(getenv, "AWS_REGION")) return *region;
  if (auto region = NonEmptyEnv(getenv, "AWS_DEFAULT_REGION")) return *region;

  ProfileChoice choice = ChooseProfile(profile, getenv);
  SharedFiles files = LocateSharedFiles(getenv);
  auto config = LoadIni(files.config);
  if (!config) return Fail(config.error().With("looking for the AWS region"));
  std::string note;
  if (!*config) {
    note = "no such file";
  } else if (const auto* section = ConfigSection(**config, choice.name); section == nullptr) {
    note = "no section for the profile";
  } else if (const std::string* region = Key(*section, "region"); region == nullptr) {
    note = "the profile has no region";
  } else {
    return *region;
  }
  return Fail(ErrorCode::kConfig,
              "no AWS region set. Looked at: `region` under [aws] in the configuration, the "
              "environment variables AWS_REGION and AWS_DEFAULT_REGION, and `region` of profile " +
                  Quote(choice.name) + " (" + choice.origin + ") in the config file " +
                  DescribePath(files.config, "~/.aws/config") + " (" + note +
                  "). Set one of them, e.g. region = \"us-east-1\" under [aws].");
}

}  // namespace kc::aws
