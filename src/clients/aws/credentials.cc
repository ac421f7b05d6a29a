#include "clients/aws/credentials.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "base/files.h"
#include "base/time_format.h"
#include "clients/aws/credentials_cache.h"
#include "clients/aws/process_credentials.h"
#include "clients/aws/role_credentials.h"
#include "clients/aws/sso_credentials.h"
#include "clients/aws/sts.h"

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

// The shared files are a few KiB; a path such as /dev/zero must not make
// us read for ever.
constexpr size_t kMaxSharedFileBytes = 1 << 20;

// A shared file: nullopt when it does not exist (which is normal).
Result<std::optional<IniFile>> LoadIni(const std::string& path) {
  if (path.empty()) return std::optional<IniFile>();
  auto text = util::ReadFile(path, kMaxSharedFileBytes);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) return std::optional<IniFile>();
    return Fail(ErrorCode::kIo, "cannot read " + path + ": " + text.error().message());
  }
  auto ini = ParseIni(*text, path);
  if (!ini) return Fail(ini.error());
  return std::optional<IniFile>(std::move(*ini));
}

// The config file's "[KIND NAME]" section (KIND "profile", "sso-session"),
// or nullptr.
const std::map<std::string, std::string>* NamedSection(const IniFile& ini, std::string_view kind,
                                                       const std::string& name) {
  for (const auto& [header, keys] : ini.sections) {
    std::string_view n = header;
    if (n.starts_with(kind) && n.size() > kind.size() && IsBlank(n[kind.size()]) &&
        Trim(n.substr(kind.size())) == name) {
      return &keys;
    }
  }
  return nullptr;
}

// The config file's section for `profile`: "[profile NAME]", or for the
// default profile also "[default]". nullptr when absent.
const std::map<std::string, std::string>* ConfigSection(const IniFile& ini,
                                                        const std::string& profile) {
  if (const auto* section = NamedSection(ini, "profile", profile)) return section;
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
  return Fail(ErrorCode::kNotFound, where + " has no aws_access_key_id");
}

}  // namespace

std::optional<std::string> NonEmptyEnv(const GetEnvFn& getenv, const std::string& name) {
  auto value = getenv(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::string_view TrimWhitespace(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

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

namespace {

// The shared files, read once per lookup.
struct ProfileFiles {
  SharedFiles paths;
  std::optional<IniFile> credentials;
  std::optional<IniFile> config;
};

Result<ProfileFiles> LoadProfileFiles(const GetEnvFn& getenv) {
  ProfileFiles files;
  files.paths = LocateSharedFiles(getenv);
  auto credentials = LoadIni(files.paths.credentials);
  if (!credentials) return Fail(credentials.error());
  files.credentials = std::move(*credentials);
  auto config = LoadIni(files.paths.config);
  if (!config) return Fail(config.error());
  files.config = std::move(*config);
  return files;
}

// One profile's sections; the credentials file's keys win, as in the CLI.
struct ProfileSections {
  const std::map<std::string, std::string>* credentials = nullptr;
  const std::map<std::string, std::string>* config = nullptr;

  bool Exists() const { return credentials != nullptr || config != nullptr; }
  const std::string* Get(const char* key) const {
    if (credentials != nullptr) {
      if (const std::string* v = Key(*credentials, key)) return v;
    }
    return config != nullptr ? Key(*config, key) : nullptr;
  }
  bool HasStaticKeys() const { return Get("aws_access_key_id") != nullptr; }
};

ProfileSections SectionsOf(const ProfileFiles& files, const std::string& profile) {
  ProfileSections out;
  if (files.credentials) {
    if (auto it = files.credentials->sections.find(profile);
        it != files.credentials->sections.end())
      out.credentials = &it->second;
  }
  if (files.config) out.config = ConfigSection(*files.config, profile);
  return out;
}

constexpr int kMinRoleSeconds = 900;
constexpr int kMaxRoleSeconds = 43'200;

// Resolves profiles, following source_profile chains. `how` collects how
// the credentials were found, for Describe.
class ProfileResolver {
 public:
  ProfileResolver(const ProfileFiles& files, const GetEnvFn& getenv,
                  const CredentialServices& services)
      : files_(files), getenv_(getenv), services_(services) {}

  // The profile's credentials; `use_role` false skips its role_arn (a
  // source profile with keys of its own). kNotFound: the profile has none.
  Result<Credentials> Resolve(const std::string& name, std::vector<std::string>& visiting,
                              bool use_role, std::string* how) {
    const ProfileSections sections = SectionsOf(files_, name);
    const std::string label = "profile " + Quote(name);
    if (use_role && sections.Get("role_arn") != nullptr) {
      return AssumeRole(name, sections, visiting, how);
    }
    if (sections.Get("web_identity_token_file") != nullptr) {
      return Fail(ErrorCode::kConfig, label +
                                          " has web_identity_token_file but no role_arn; "
                                          "add the ARN of the role the token is for");
    }
    if (sections.Get("sso_session") != nullptr || sections.Get("sso_start_url") != nullptr ||
        sections.Get("sso_account_id") != nullptr) {
      auto settings = SsoSettingsOf(name, sections);
      if (!settings) return Fail(settings.error());
      if (!services_.sso_transport) {
        return Fail(ErrorCode::kAuth, label +
                                          " uses SSO, and this program was not given a way "
                                          "to reach the SSO portal");
      }
      const std::string cache = ExpandHome("~/.aws/sso/cache", getenv_);
      if (cache.empty()) {
        return Fail(ErrorCode::kAuth, label +
                                          " uses SSO, whose token is cached under "
                                          "~/.aws/sso/cache, and HOME is not set");
      }
      SsoCredentialsProvider provider(std::move(*settings), cache, services_.sso_endpoint,
                                      services_.sso_transport, services_.clock);
      *how = provider.Describe();
      return provider.Get();
    }
    if (sections.credentials != nullptr) {
      auto found =
          CredentialsFromSection(*sections.credentials, label + " in " + files_.paths.credentials);
      if (found) {
        *how = label + ": keys in " + files_.paths.credentials;
        return found;
      }
      if (found.error().code() != ErrorCode::kNotFound) return found;
    }
    if (const std::string* process = sections.Get("credential_process")) {
      ProcessCredentialsProvider provider(*process, "credential_process of " + label);
      *how = provider.Describe();
      return provider.Get();
    }
    if (sections.config != nullptr) {
      auto found = CredentialsFromSection(*sections.config, label + " in " + files_.paths.config);
      if (found) *how = label + ": keys in " + files_.paths.config;
      return found;
    }
    return Fail(ErrorCode::kNotFound, label + " has no credentials");
  }

 private:
  Result<Credentials> AssumeRole(const std::string& name, const ProfileSections& sections,
                                 std::vector<std::string>& visiting, std::string* how) {
    const std::string label = "profile " + Quote(name);
    AssumeRoleRequest request;
    request.role_arn = *sections.Get("role_arn");
    if (sections.Get("mfa_serial") != nullptr) {
      return Fail(ErrorCode::kAuth,
                  label + " needs an MFA code (mfa_serial) to assume " + request.role_arn +
                      ", and kinesis-connect runs with no one to type it; use a role without "
                      "MFA for the service, or export temporary credentials with `aws "
                      "configure export-credentials --profile " +
                      name + " --format env`");
    }
    if (const std::string* session = sections.Get("role_session_name")) {
      request.session_name = *session;
    }
    if (const std::string* external = sections.Get("external_id")) {
      request.external_id = *external;
    }
    if (const std::string* duration = sections.Get("duration_seconds")) {
      int seconds = 0;
      auto [end, ec] =
          std::from_chars(duration->data(), duration->data() + duration->size(), seconds);
      if (ec != std::errc() || end != duration->data() + duration->size() ||
          seconds < kMinRoleSeconds || seconds > kMaxRoleSeconds) {
        return Fail(ErrorCode::kConfig,
                    label + ": duration_seconds must be a whole number of seconds from " +
                        std::to_string(kMinRoleSeconds) + " to " + std::to_string(kMaxRoleSeconds));
      }
      request.duration_seconds = seconds;
    }
    const std::string* source_profile = sections.Get("source_profile");
    const std::string* credential_source = sections.Get("credential_source");
    const std::string* token_file = sections.Get("web_identity_token_file");
    if (source_profile != nullptr && credential_source != nullptr) {
      return Fail(ErrorCode::kConfig, label +
                                          " has both source_profile and credential_source; "
                                          "keep the one whose credentials assume the role");
    }
    if (source_profile == nullptr && credential_source == nullptr && token_file == nullptr) {
      return Fail(ErrorCode::kConfig,
                  label +
                      " has role_arn but no source_profile, credential_source or "
                      "web_identity_token_file; add the one that says which credentials "
                      "assume the role");
    }
    if (!services_.sts) {
      return Fail(ErrorCode::kAuth, label +
                                        " assumes a role, which needs STS, and this program "
                                        "was not given a way to reach it");
    }
    if (source_profile == nullptr && credential_source == nullptr) {
      const std::string path = ExpandHome(*token_file, getenv_);
      WebIdentityProvider provider(path, request, label, services_.sts);
      *how = label + ": " + provider.Describe();
      return provider.Get();
    }

    Result<Credentials> source = Fail(ErrorCode::kInternal, "unset");
    std::string source_how;
    if (source_profile != nullptr) {
      const std::string& src = *source_profile;
      if (src == name) {
        // A profile may hold the keys that assume its own role.
        if (!sections.HasStaticKeys()) {
          return Fail(ErrorCode::kConfig, label +
                                              " names itself as source_profile but has no "
                                              "aws_access_key_id of its own");
        }
        source = Resolve(name, visiting, /*use_role=*/false, &source_how);
      } else if (std::find(visiting.begin(), visiting.end(), src) != visiting.end()) {
        std::string loop;
        for (const std::string& p : visiting) loop += Quote(p) + " -> ";
        return Fail(ErrorCode::kConfig, "the source_profile settings form a loop: " + loop +
                                            Quote(name) + " -> " + Quote(src) +
                                            "; end the chain at a profile with keys");
      } else {
        const ProfileSections src_sections = SectionsOf(files_, src);
        if (!src_sections.Exists()) {
          return Fail(ErrorCode::kConfig,
                      label + " names source_profile " + Quote(src) + ", which is in neither " +
                          DescribePath(files_.paths.credentials, "~/.aws/credentials") + " nor " +
                          DescribePath(files_.paths.config, "~/.aws/config"));
        }
        visiting.push_back(name);
        // As in the CLI: a source profile with keys of its own uses them,
        // even if it also names a role.
        source = Resolve(src, visiting, !src_sections.HasStaticKeys(), &source_how);
        visiting.pop_back();
      }
    } else {
      std::shared_ptr<CredentialsProvider> provider;
      if (*credential_source == "Environment") {
        provider = std::make_shared<EnvironmentCredentialsProvider>(getenv_);
      } else if (*credential_source == "EcsContainer") {
        provider = services_.container;
      } else if (*credential_source == "Ec2InstanceMetadata") {
        provider = services_.instance_metadata;
      } else {
        return Fail(ErrorCode::kConfig,
                    label + ": credential_source " + Quote(*credential_source) +
                        " is not one of Environment, EcsContainer or Ec2InstanceMetadata");
      }
      if (!provider) {
        return Fail(ErrorCode::kAuth, label + ": credential_source " + *credential_source +
                                          " is not available to this program");
      }
      source = provider->Get();
      source_how = provider->Describe();
    }
    if (!source) {
      const Error& e = source.error();
      const ErrorCode code = e.code() == ErrorCode::kNotFound ? ErrorCode::kAuth : e.code();
      return Fail(Error(code, label + " has no credentials to assume " + request.role_arn +
                                  " with: " + e.message()));
    }
    *how = label + ": role " + request.role_arn + " through STS at " + services_.sts->endpoint() +
           ", assumed with " + source_how;
    return services_.sts->AssumeRole(request, *source);
  }

  // The SSO settings of profile `name`, from its sso_session's section or
  // its own legacy keys.
  Result<SsoSettings> SsoSettingsOf(const std::string& name, const ProfileSections& sections) {
    const std::string label = "profile " + Quote(name);
    SsoSettings out;
    out.origin = label;
    out.login_hint = "aws sso login --profile " + name;
    const std::string* session = sections.Get("sso_session");
    const std::string* start_url = sections.Get("sso_start_url");
    const std::string* region = sections.Get("sso_region");
    if (session != nullptr) {
      const std::map<std::string, std::string>* section =
          files_.config ? NamedSection(*files_.config, "sso-session", *session) : nullptr;
      if (section == nullptr) {
        return Fail(ErrorCode::kConfig, label + " names sso_session " + Quote(*session) + ", and " +
                                            DescribePath(files_.paths.config, "~/.aws/config") +
                                            " has no [sso-session " + *session + "] section");
      }
      const std::string* session_url = Key(*section, "sso_start_url");
      const std::string* session_region = Key(*section, "sso_region");
      if (session_url == nullptr || session_region == nullptr) {
        return Fail(ErrorCode::kConfig,
                    "[sso-session " + *session + "] needs sso_start_url and sso_region");
      }
      if ((start_url != nullptr && *start_url != *session_url) ||
          (region != nullptr && *region != *session_region)) {
        return Fail(ErrorCode::kConfig,
                    label + " sets sso_start_url or sso_region differently from its sso_session " +
                        Quote(*session) + "; keep them in the [sso-session] section only");
      }
      out.start_url = *session_url;
      out.region = *session_region;
      out.cache_key = *session;
    } else {
      if (start_url == nullptr || region == nullptr) {
        return Fail(ErrorCode::kConfig, label +
                                            " uses SSO and needs sso_start_url and "
                                            "sso_region (or an sso_session)");
      }
      out.start_url = *start_url;
      out.region = *region;
      out.cache_key = *start_url;
    }
    const std::string* account = sections.Get("sso_account_id");
    const std::string* role = sections.Get("sso_role_name");
    if (account == nullptr || role == nullptr) {
      return Fail(ErrorCode::kConfig, label +
                                          " uses SSO and needs sso_account_id and "
                                          "sso_role_name: the account and role to sign in to");
    }
    out.account_id = *account;
    out.role_name = *role;
    return out;
  }

  const ProfileFiles& files_;
  const GetEnvFn& getenv_;
  const CredentialServices& services_;
};

}  // namespace

ProfileCredentialsProvider::ProfileCredentialsProvider(std::string profile, GetEnvFn getenv,
                                                       CredentialServices services, Part part)
    : profile_(std::move(profile)),
      getenv_(std::move(getenv)),
      services_(std::move(services)),
      part_(part) {}

ProfileCredentialsProvider::~ProfileCredentialsProvider() = default;

Result<Credentials> ProfileCredentialsProvider::Get() {
  ProfileChoice profile = ChooseProfile(profile_, getenv_);
  auto files = LoadProfileFiles(getenv_);
  if (!files) return Fail(files.error());
  const std::string name = "profile " + Quote(profile.name) + " (" + profile.origin + ")";

  const ProfileSections sections = SectionsOf(*files, profile.name);
  if (part_ == Part::kRoleWithSource &&
      (sections.Get("role_arn") == nullptr || (sections.Get("source_profile") == nullptr &&
                                               sections.Get("credential_source") == nullptr))) {
    return Fail(ErrorCode::kNotFound,
                name + " assumes no role with source_profile or credential_source");
  }
  if (!sections.Exists() && profile.name != "default") {
    // A profile asked for by name and missing is a mistake to report, not a
    // reason to go on to the container's or the instance's identity.
    return Fail(ErrorCode::kAuth, name + " is in neither the shared credentials file " +
                                      DescribePath(files->paths.credentials, "~/.aws/credentials") +
                                      " nor the config file " +
                                      DescribePath(files->paths.config, "~/.aws/config") +
                                      " (as [" + profile.name + "] and [profile " + profile.name +
                                      "]); add it (`aws configure --profile " + profile.name +
                                      "`), or name a profile that exists");
  }
  if (sections.Exists()) {
    std::vector<std::string> visiting;
    std::string how;
    auto found = ProfileResolver(*files, getenv_, services_)
                     .Resolve(profile.name, visiting, /*use_role=*/true, &how);
    if (found) {
      std::lock_guard lock(mu_);
      route_ = std::move(how);
      return found;
    }
    if (found.error().code() != ErrorCode::kNotFound) return found;
  }

  // Why each file did not help, for the final message.
  std::string config_section =
      profile.name == "default" ? "[default]" : "[profile " + profile.name + "]";
  std::string credentials_note = !files->credentials ? "no such file"
                                 : sections.credentials == nullptr
                                     ? "no [" + profile.name + "] section"
                                     : "no aws_access_key_id in [" + profile.name + "]";
  std::string config_note = !files->config ? "no such file"
                            : sections.config == nullptr
                                ? "no " + config_section + " section"
                                : "no aws_access_key_id in " + config_section;
  return Fail(ErrorCode::kNotFound,
              name + " has no keys in the shared credentials file " +
                  DescribePath(files->paths.credentials, "~/.aws/credentials") + " (" +
                  credentials_note + ") or the config file " +
                  DescribePath(files->paths.config, "~/.aws/config") + " (" + config_note + ")");
}

std::string ProfileCredentialsProvider::Describe() const {
  {
    std::lock_guard lock(mu_);
    if (!route_.empty()) return route_;
  }
  ProfileChoice profile = ChooseProfile(profile_, getenv_);
  SharedFiles files = LocateSharedFiles(getenv_);
  return std::string(part_ == Part::kRoleWithSource ? "the role of " : "") + "profile " +
         Quote(profile.name) + " in " + DescribePath(files.credentials, "~/.aws/credentials") +
         " or " + DescribePath(files.config, "~/.aws/config");
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

// A provider held elsewhere too, as one link of a chain.
class SharedProvider final : public CredentialsProvider {
 public:
  explicit SharedProvider(std::shared_ptr<CredentialsProvider> inner) : inner_(std::move(inner)) {}
  Result<Credentials> Get() override { return inner_->Get(); }
  std::string Describe() const override { return inner_->Describe(); }
  void Invalidate(const Credentials& used) override { inner_->Invalidate(used); }

 private:
  const std::shared_ptr<CredentialsProvider> inner_;
};

std::vector<std::unique_ptr<CredentialsProvider>> DefaultProviders(
    CredentialsChainOptions options) {
  options.services.clock = options.clock;
  std::vector<std::unique_ptr<CredentialsProvider>> providers;
  if (options.profile.empty()) {
    providers.push_back(std::make_unique<EnvironmentCredentialsProvider>(options.getenv));
    providers.push_back(std::make_unique<ProfileCredentialsProvider>(
        options.profile, options.getenv, options.services,
        ProfileCredentialsProvider::Part::kRoleWithSource));
    if (options.services.sts) {
      providers.push_back(
          WebIdentityProvider::FromEnvironment(options.getenv, options.services.sts));
    }
  }
  providers.push_back(std::make_unique<ProfileCredentialsProvider>(options.profile, options.getenv,
                                                                   options.services));
  // Shared with credential_source, so held through a forwarding provider.
  for (const auto& shared : {options.services.container, options.services.instance_metadata}) {
    if (shared) providers.push_back(std::make_unique<SharedProvider>(shared));
  }
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

DefaultCredentialsChain::DefaultCredentialsChain(CredentialsChainOptions options) {
  auto chain = std::make_unique<CredentialsChain>(DefaultProviders(options),
                                                  DefaultFixHint(options.profile, options.getenv));
  chain_ = chain.get();
  std::unique_ptr<CredentialsProvider> top = std::move(chain);
  if (!options.role_arn.empty()) {
    role_ = options.role_arn;
    top = std::make_unique<AssumeRoleProvider>(
        AssumeRoleRequest{.role_arn = options.role_arn,
                          .session_name = options.role_session_name,
                          .external_id = options.external_id,
                          .duration_seconds = std::nullopt},
        std::shared_ptr<CredentialsProvider>(std::move(top)), options.services.sts);
  }
  cache_ =
      std::make_unique<CachedCredentials>(std::move(top), options.clock, options.refresh_interval);
}

DefaultCredentialsChain::DefaultCredentialsChain(std::string profile, GetEnvFn getenv, Clock* clock,
                                                 Clock::Duration refresh_interval)
    : DefaultCredentialsChain(CredentialsChainOptions{.profile = std::move(profile),
                                                      .getenv = std::move(getenv),
                                                      .clock = clock,
                                                      .refresh_interval = refresh_interval,
                                                      .services = {},
                                                      .role_arn = {},
                                                      .external_id = {},
                                                      .role_session_name = {}}) {}

DefaultCredentialsChain::~DefaultCredentialsChain() = default;

Result<Credentials> DefaultCredentialsChain::Get() { return cache_->Get(); }

void DefaultCredentialsChain::Invalidate(const Credentials& used) { cache_->Invalidate(used); }

std::optional<int64_t> DefaultCredentialsChain::Expiration() const { return cache_->Expiration(); }

std::string DefaultCredentialsChain::Describe() const {
  std::string out = "default credentials chain: " + chain_->Describe();
  if (std::string source = chain_->LastSource(); !source.empty()) {
    out += " (using ";
    if (!role_.empty()) out += "role " + role_ + " assumed with ";
    out += source;
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
