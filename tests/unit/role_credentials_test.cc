// Roles through STS (AssumeRole, AssumeRoleWithWebIdentity), profiles that
// assume them, and credential_process: against a scripted STS behind the
// HTTP transport, shared files in a temporary directory and real programs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "clients/aws/credentials.h"
#include "clients/aws/process_credentials.h"
#include "clients/aws/role_credentials.h"
#include "clients/aws/sigv4.h"
#include "clients/aws/sso_credentials.h"
#include "clients/aws/sts.h"
#include "support/fake_clock.h"
#include "support/fake_env.h"
#include "support/scripted_transport.h"
#include "support/temp_dir.h"

namespace kc::aws {
namespace {

namespace fs = std::filesystem;
using testing::FakeClock;
using testing::FakeEnv;
using testing::ScriptedTransport;
using testing::TempDir;

constexpr char kSourceSecret[] = "SourceSecretKeyThatMustNotLeak0000000000";
constexpr char kRoleSecret[] = "RoleSecretKeyThatMustNotLeak000000000000";
constexpr char kRoleToken[] = "IQoJb3JpZ2luX2VjRoleSessionTokenExample";
constexpr char kWebToken[] = "eyJhbGciOiJSUzI1NiJ9.WebIdentityTokenPayload.Signature";
constexpr char kRole[] = "arn:aws:iam::123456789012:role/reader";
constexpr char kStsEndpoint[] = "https://sts.eu-west-1.amazonaws.com";

std::string StsAnswer(const std::string& action, const std::string& key_id,
                      const std::string& expiration = "2026-12-07T15:00:00Z") {
  return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
         "Result><Credentials><AccessKeyId>" + key_id + "</AccessKeyId><SecretAccessKey>" +
         kRoleSecret + "</SecretAccessKey><SessionToken>" + kRoleToken +
         "</SessionToken><Expiration>" + expiration + "</Expiration></Credentials></" + action +
         "Result></" + action + "Response>";
}

AssumeRoleRequest Request(const std::string& role) {
  AssumeRoleRequest request;
  request.role_arn = role;
  return request;
}

std::string StsError(const std::string& code, const std::string& message) {
  return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender"
         "</Type><Code>" +
         code + "</Code><Message>" + message + "</Message></Error><RequestId>r</RequestId>" +
         "</ErrorResponse>";
}

// The value of form field `name` in `body`, decoded.
std::string FormField(const std::string& body, const std::string& name) {
  size_t at = 0;
  while (at < body.size()) {
    size_t end = body.find('&', at);
    if (end == std::string::npos) end = body.size();
    std::string pair = body.substr(at, end - at);
    if (pair.starts_with(name + "=")) return UriDecode(pair.substr(name.size() + 1));
    at = end + 1;
  }
  return "<absent>";
}

void ExpectNoSecrets(const std::string& text) {
  for (const char* secret : {kSourceSecret, kRoleSecret, kRoleToken, kWebToken}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
  }
}

class RoleTest : public ::testing::Test {
 protected:
  RoleTest() {
    clock_.SetUnixMillis(1'796'000'000'000);
    env_.Set("HOME", (fs::path(dir_.path()) / "home").string());
    fs::create_directories(fs::path(dir_.path()) / "home" / ".aws");
    sts_ = std::make_shared<StsClient>(kStsEndpoint, "eu-west-1", transport_, &clock_);
  }

  void Write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  fs::path Home() const { return fs::path(dir_.path()) / "home"; }
  fs::path ConfigFile() const { return Home() / ".aws" / "config"; }
  fs::path CredentialsFile() const { return Home() / ".aws" / "credentials"; }
  CredentialServices Services() {
    CredentialServices services;
    services.sts = sts_;
    services.clock = &clock_;
    return services;
  }
  CredentialsChainOptions ChainOptions() {
    CredentialsChainOptions options;
    options.getenv = env_.Fn();
    options.clock = &clock_;
    options.services = Services();
    return options;
  }

  TempDir dir_{"kc-role-test"};
  FakeEnv env_;
  FakeClock clock_;
  std::shared_ptr<ScriptedTransport> transport_ = std::make_shared<ScriptedTransport>();
  std::shared_ptr<StsClient> sts_;
};

// --- STS answers ---------------------------------------------------------------------------

TEST(StsParseTest, ReadsTheCredentialsAndTheirExpiry) {
  auto c = ParseStsCredentials(StsAnswer("AssumeRole", "ASIAROLE"), "AssumeRole");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIAROLE");
  EXPECT_EQ(c->secret_access_key, kRoleSecret);
  EXPECT_EQ(c->session_token, kRoleToken);
  ASSERT_TRUE(c->expiration_ms);
  EXPECT_EQ(*c->expiration_ms, 1'796'655'600'000);  // 2026-12-07T15:00:00Z
}

TEST(StsParseTest, RefusesIncompleteAnswersWithoutQuotingThem) {
  const std::string good = StsAnswer("AssumeRole", "ASIAROLE");
  struct Case {
    std::string body;
    std::string says;
  };
  std::string no_token = good;
  no_token.replace(no_token.find("<SessionToken>"),
                   no_token.find("</SessionToken>") + 15 - no_token.find("<SessionToken>"), "");
  std::string bad_time = good;
  bad_time.replace(bad_time.find("2026-12-07T15:00:00Z"), 20, "tomorrow");
  for (const Case& c : {Case{"", "not XML"}, Case{"<oops", "not XML"},
                        Case{StsAnswer("AssumeRoleWithWebIdentity", "A"), "no AssumeRoleResponse"},
                        Case{no_token, "SessionToken"}, Case{bad_time, "Expiration"}}) {
    auto parsed = ParseStsCredentials(c.body, "AssumeRole");
    ASSERT_FALSE(parsed) << c.body;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kParse);
    EXPECT_NE(parsed.error().message().find(c.says), std::string::npos) << parsed.error().message();
    ExpectNoSecrets(parsed.error().message());
  }
}

TEST(StsParseTest, ClassifiesErrors) {
  EXPECT_EQ(ClassifyStsError(400, StsError("InvalidIdentityToken", "bad"), "w").code(),
            ErrorCode::kAuth);
  EXPECT_EQ(ClassifyStsError(400, StsError("ExpiredTokenException", "old"), "w").code(),
            ErrorCode::kAuth);
  EXPECT_EQ(ClassifyStsError(403, StsError("AccessDenied", "no"), "w").code(), ErrorCode::kAuth);
  EXPECT_EQ(ClassifyStsError(400, StsError("Throttling", "slow"), "w").code(),
            ErrorCode::kThrottled);
  EXPECT_EQ(ClassifyStsError(400, StsError("IDPCommunicationError", "idp"), "w").code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(ClassifyStsError(503, "<html>", "w").code(), ErrorCode::kThrottled);
  EXPECT_EQ(ClassifyStsError(500, "", "w").code(), ErrorCode::kUnavailable);
  const Error e = ClassifyStsError(403,
                                   StsError("AccessDenied",
                                            "not\x01"
                                            "allowed"),
                                   "STS x");
  EXPECT_EQ(e.message(), "STS x: AccessDenied: not allowed");
}

// --- AssumeRole ------------------------------------------------------------------------------

TEST_F(RoleTest, AssumeRoleSendsASignedFormAndReadsTheAnswer) {
  transport_->Answer(200, StsAnswer("AssumeRole", "ASIAROLE"));
  AssumeRoleProvider provider(
      AssumeRoleRequest{.role_arn = kRole,
                        .session_name = "s1",
                        .external_id = "ext-9",
                        .duration_seconds = 1800},
      std::make_shared<StaticCredentialsProvider>(Credentials{"AKIASOURCE", kSourceSecret, {}}),
      sts_);
  auto c = provider.Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIAROLE");
  const HttpRequest sent = transport_->last();
  EXPECT_EQ(sent.url, std::string(kStsEndpoint) + "/");
  EXPECT_EQ(FormField(sent.body, "Action"), "AssumeRole");
  EXPECT_EQ(FormField(sent.body, "Version"), "2011-06-15");
  EXPECT_EQ(FormField(sent.body, "RoleArn"), kRole);
  EXPECT_EQ(FormField(sent.body, "RoleSessionName"), "s1");
  EXPECT_EQ(FormField(sent.body, "ExternalId"), "ext-9");
  EXPECT_EQ(FormField(sent.body, "DurationSeconds"), "1800");
  const std::string* auth = sent.Header("Authorization");
  ASSERT_NE(auth, nullptr);
  EXPECT_NE(auth->find("Credential=AKIASOURCE/"), std::string::npos) << *auth;
  EXPECT_NE(auth->find("/eu-west-1/sts/aws4_request"), std::string::npos) << *auth;
  EXPECT_NE(provider.Describe().find(kRole), std::string::npos);
}

TEST_F(RoleTest, AssumeRoleRefusalNamesTheRoleAndHidesEchoedSecrets) {
  // A server that quotes the request's signature and token back.
  transport_->Answer(403, StsError("AccessDenied", "denied for {auth} {token}"));
  AssumeRoleProvider provider(Request(kRole),
                              std::make_shared<StaticCredentialsProvider>(Credentials{
                                  "AKIASOURCE", kSourceSecret, "SourceSessionTokenValue123"}),
                              sts_);
  auto c = provider.Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kAuth);
  EXPECT_NE(c.error().message().find(kRole), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("AccessDenied"), std::string::npos);
  EXPECT_EQ(c.error().message().find("SourceSessionTokenValue123"), std::string::npos)
      << c.error().message();
  EXPECT_EQ(c.error().message().find("Signature="), std::string::npos) << c.error().message();
  ExpectNoSecrets(c.error().message());
}

TEST_F(RoleTest, APassingStsFailureIsTriedAgain) {
  transport_->Answer(503, "");
  transport_->Drop();
  transport_->Answer(200, StsAnswer("AssumeRole", "ASIAROLE"));
  AssumeRoleProvider provider(
      Request(kRole),
      std::make_shared<StaticCredentialsProvider>(Credentials{"AKIASOURCE", kSourceSecret, {}}),
      sts_);
  auto c = provider.Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(transport_->requests().size(), 3u);
  EXPECT_EQ(FormField(transport_->last().body, "RoleSessionName"), "kinesis-connect-1796000000");
}

// --- Web identity --------------------------------------------------------------------------

TEST_F(RoleTest, WebIdentityFromTheEnvironmentIsUnsignedAndRereadsItsToken) {
  const fs::path token = fs::path(dir_.path()) / "token";
  Write(token, std::string(kWebToken) + "\n");
  env_.Set("AWS_WEB_IDENTITY_TOKEN_FILE", token.string())
      .Set("AWS_ROLE_ARN", kRole)
      .Set("AWS_ROLE_SESSION_NAME", "pod-7");
  auto provider = WebIdentityProvider::FromEnvironment(env_.Fn(), sts_);
  transport_->Answer(200, StsAnswer("AssumeRoleWithWebIdentity", "ASIAWEB1"));
  auto first = provider->Get();
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->access_key_id, "ASIAWEB1");
  HttpRequest sent = transport_->last();
  EXPECT_EQ(sent.Header("Authorization"), nullptr);
  EXPECT_EQ(FormField(sent.body, "Action"), "AssumeRoleWithWebIdentity");
  EXPECT_EQ(FormField(sent.body, "WebIdentityToken"), kWebToken);
  EXPECT_EQ(FormField(sent.body, "RoleSessionName"), "pod-7");
  EXPECT_EQ(FormField(sent.body, "RoleArn"), kRole);

  // Kubernetes rotates the token: the next renewal sends the new one.
  Write(token, "rotated.token.value");
  transport_->Answer(200, StsAnswer("AssumeRoleWithWebIdentity", "ASIAWEB2"));
  auto second = provider->Get();
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->access_key_id, "ASIAWEB2");
  EXPECT_EQ(FormField(transport_->last().body, "WebIdentityToken"), "rotated.token.value");
}

TEST_F(RoleTest, WebIdentityProblemsAreClear) {
  auto provider = WebIdentityProvider::FromEnvironment(env_.Fn(), sts_);
  auto unset = provider->Get();
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().code(), ErrorCode::kNotFound);

  const fs::path token = fs::path(dir_.path()) / "token";
  env_.Set("AWS_WEB_IDENTITY_TOKEN_FILE", token.string());
  auto no_role = provider->Get();
  ASSERT_FALSE(no_role);
  EXPECT_EQ(no_role.error().code(), ErrorCode::kAuth);
  EXPECT_NE(no_role.error().message().find("AWS_ROLE_ARN"), std::string::npos);

  env_.Set("AWS_ROLE_ARN", kRole);
  auto missing = provider->Get();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kAuth);
  EXPECT_NE(missing.error().message().find(token.string()), std::string::npos);

  Write(token, " \n");
  auto empty = provider->Get();
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("is empty"), std::string::npos);

  Write(token, kWebToken);
  transport_->Answer(400, StsError("InvalidIdentityToken", std::string("bad token ") + kWebToken));
  auto refused = provider->Get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kAuth);
  EXPECT_NE(refused.error().message().find("InvalidIdentityToken"), std::string::npos);
  ExpectNoSecrets(refused.error().message());

  transport_->Answer(200, "<AssumeRoleWithWebIdentityResponse><nothing/>");
  auto garbled = provider->Get();
  ASSERT_FALSE(garbled);
  EXPECT_EQ(garbled.error().code(), ErrorCode::kParse);
}

// --- Profiles with roles -------------------------------------------------------------------

TEST_F(RoleTest, SourceProfileChainsAreFollowed) {
  Write(CredentialsFile(), std::string("[base]\naws_access_key_id = AKIABASE\n"
                                       "aws_secret_access_key = ") +
                               kSourceSecret + "\n");
  Write(ConfigFile(),
        "[profile middle]\nrole_arn = arn:aws:iam::1:role/middle\nsource_profile = base\n"
        "[profile top]\nrole_arn = " +
            std::string(kRole) +
            "\nsource_profile = middle\nexternal_id = x-1\nrole_session_name = top-s\n"
            "duration_seconds = 1200\n");
  transport_->Answer(200, StsAnswer("AssumeRole", "ASIAMIDDLE"));
  transport_->Answer(200, StsAnswer("AssumeRole", "ASIATOP"));
  ProfileCredentialsProvider provider("top", env_.Fn(), Services());
  auto c = provider.Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIATOP");
  const auto sent = transport_->requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(FormField(sent[0].body, "RoleArn"), "arn:aws:iam::1:role/middle");
  EXPECT_NE(sent[0].Header("Authorization")->find("Credential=AKIABASE/"), std::string::npos);
  EXPECT_EQ(FormField(sent[1].body, "RoleArn"), kRole);
  EXPECT_EQ(FormField(sent[1].body, "ExternalId"), "x-1");
  EXPECT_EQ(FormField(sent[1].body, "RoleSessionName"), "top-s");
  EXPECT_EQ(FormField(sent[1].body, "DurationSeconds"), "1200");
  EXPECT_NE(sent[1].Header("Authorization")->find("Credential=ASIAMIDDLE/"), std::string::npos);
  EXPECT_NE(provider.Describe().find("profile 'middle'"), std::string::npos) << provider.Describe();
}

TEST_F(RoleTest, ASourceProfileWithKeysUsesThemEvenWithARole) {
  Write(ConfigFile(), std::string("[profile base]\nrole_arn = arn:aws:iam::1:role/unused\n"
                                  "source_profile = base\naws_access_key_id = AKIABASE\n"
                                  "aws_secret_access_key = ") +
                          kSourceSecret + "\n[profile top]\nrole_arn = " + kRole +
                          "\nsource_profile = base\n");
  transport_->Answer(200, StsAnswer("AssumeRole", "ASIATOP"));
  auto c = ProfileCredentialsProvider("top", env_.Fn(), Services()).Get();
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_EQ(transport_->requests().size(), 1u);
  EXPECT_EQ(FormField(transport_->last().body, "RoleArn"), kRole);

  // A profile whose source is itself assumes its role with its own keys.
  transport_->Answer(200, StsAnswer("AssumeRole", "ASIASELF"));
  auto self = ProfileCredentialsProvider("base", env_.Fn(), Services()).Get();
  ASSERT_TRUE(self) << self.error().message();
  EXPECT_EQ(self->access_key_id, "ASIASELF");
  EXPECT_EQ(FormField(transport_->last().body, "RoleArn"), "arn:aws:iam::1:role/unused");
}

TEST_F(RoleTest, ProfileMistakesAreNamed) {
  Write(ConfigFile(),
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
        "[profile mfa]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = a\n"
        "mfa_serial = arn:aws:iam::1:mfa/me\n"
        "[profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = a\n"
        "credential_source = Environment\n"
        "[profile neither]\nrole_arn = arn:aws:iam::1:role/x\n"
        "[profile ghost]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = nobody\n"
        "[profile odd]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Laptop\n"
        "[profile long]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\n"
        "duration_seconds = 99999\n"
        "[profile tokenless]\nweb_identity_token_file = /t\n");
  struct Case {
    const char* profile;
    ErrorCode code;
    const char* says;
  };
  for (const Case& c : {Case{"a", ErrorCode::kConfig, "loop: 'a' -> 'b' -> 'a'"},
                        Case{"mfa", ErrorCode::kAuth, "mfa_serial"},
                        Case{"both", ErrorCode::kConfig, "both source_profile and"},
                        Case{"neither", ErrorCode::kConfig, "no source_profile"},
                        Case{"ghost", ErrorCode::kConfig, "'nobody', which is in neither"},
                        Case{"odd", ErrorCode::kConfig, "'Laptop' is not one of"},
                        Case{"long", ErrorCode::kConfig, "duration_seconds"},
                        Case{"tokenless", ErrorCode::kConfig, "no role_arn"}}) {
    auto got = ProfileCredentialsProvider(c.profile, env_.Fn(), Services()).Get();
    ASSERT_FALSE(got) << c.profile;
    EXPECT_EQ(got.error().code(), c.code) << c.profile << ": " << got.error().message();
    EXPECT_NE(got.error().message().find(c.says), std::string::npos)
        << c.profile << ": " << got.error().message();
  }
  EXPECT_TRUE(transport_->requests().empty());
}

TEST_F(RoleTest, CredentialSourceEnvironmentAndAProfileWebIdentity) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV").Set("AWS_SECRET_ACCESS_KEY", kSourceSecret);
  const fs::path token = fs::path(dir_.path()) / "web";
  Write(token, kWebToken);
  Write(ConfigFile(), "[profile env]\nrole_arn = " + std::string(kRole) +
                          "\ncredential_source = Environment\n"
                          "[profile web]\nrole_arn = " +
                          kRole + "\nweb_identity_token_file = " + token.string() + "\n");
  transport_->Answer(200, StsAnswer("AssumeRole", "ASIAENVROLE"));
  auto env_role = ProfileCredentialsProvider("env", env_.Fn(), Services()).Get();
  ASSERT_TRUE(env_role) << env_role.error().message();
  EXPECT_NE(transport_->last().Header("Authorization")->find("Credential=AKIAENV/"),
            std::string::npos);

  transport_->Answer(200, StsAnswer("AssumeRoleWithWebIdentity", "ASIAWEB"));
  auto web = ProfileCredentialsProvider("web", env_.Fn(), Services()).Get();
  ASSERT_TRUE(web) << web.error().message();
  EXPECT_EQ(web->access_key_id, "ASIAWEB");
  EXPECT_EQ(FormField(transport_->last().body, "WebIdentityToken"), kWebToken);
}

TEST_F(RoleTest, TheChainAssumesTheConfiguredRoleOnceForEveryCaller) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV").Set("AWS_SECRET_ACCESS_KEY", kSourceSecret);
  transport_->Answer(200, StsAnswer("AssumeRole", "ASIATOPROLE", "2026-12-07T15:00:00Z"));
  CredentialsChainOptions options = ChainOptions();
  options.role_arn = kRole;
  options.external_id = "e-2";
  options.role_session_name = "app";
  DefaultCredentialsChain chain(std::move(options));
  for (int i = 0; i < 5; ++i) {
    auto c = chain.Get();
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->access_key_id, "ASIATOPROLE");
  }
  ASSERT_EQ(transport_->requests().size(), 1u);
  EXPECT_EQ(FormField(transport_->last().body, "ExternalId"), "e-2");
  EXPECT_NE(chain.Describe().find("role " + std::string(kRole) + " assumed with"),
            std::string::npos)
      << chain.Describe();
  EXPECT_NE(chain.Describe().find("expiring at 2026-12-07T15:00:00.000Z"), std::string::npos);
}

TEST_F(RoleTest, TheChainTriesWebIdentityAfterTheEnvironmentKeys) {
  const fs::path token = fs::path(dir_.path()) / "token";
  Write(token, kWebToken);
  env_.Set("AWS_WEB_IDENTITY_TOKEN_FILE", token.string()).Set("AWS_ROLE_ARN", kRole);
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV").Set("AWS_SECRET_ACCESS_KEY", kSourceSecret);
  {
    DefaultCredentialsChain keys_first(ChainOptions());
    auto c = keys_first.Get();
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->access_key_id, "AKIAENV");
    EXPECT_TRUE(transport_->requests().empty());
  }
  env_.Unset("AWS_ACCESS_KEY_ID");
  env_.Unset("AWS_SECRET_ACCESS_KEY");
  transport_->Answer(200, StsAnswer("AssumeRoleWithWebIdentity", "ASIAPOD"));
  DefaultCredentialsChain chain(ChainOptions());
  auto c = chain.Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIAPOD");
  EXPECT_NE(chain.Describe().find("web identity"), std::string::npos) << chain.Describe();
}

// --- SSO -----------------------------------------------------------------------------------

TEST(SsoParseTest, ReadsTheCacheAndTheAnswer) {
  auto token = ParseSsoCacheFile(
      R"({"startUrl": "https://d-1.awsapps.com/start", "region": "eu-west-1",
          "accessToken": "tok", "expiresAt": "2026-12-07T15:00:00UTC"})");
  ASSERT_TRUE(token) << token.error().message();
  EXPECT_EQ(token->access_token, "tok");
  EXPECT_EQ(token->expires_at_ms, 1'796'655'600'000);
  EXPECT_FALSE(ParseSsoCacheFile(R"({"accessToken": "tok"})"));
  EXPECT_FALSE(ParseSsoCacheFile("[]"));

  auto c = ParseSsoRoleCredentials(
      R"({"roleCredentials": {"accessKeyId": "ASIASSO", "secretAccessKey": "s",
          "sessionToken": "t", "expiration": 1796655600000}})");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIASSO");
  EXPECT_EQ(c->expiration_ms, 1'796'655'600'000);
  EXPECT_FALSE(ParseSsoRoleCredentials(
      R"({"roleCredentials": {"accessKeyId": "A", "secretAccessKey": "s", "sessionToken": "t",
          "expiration": "tomorrow"}})"));
  EXPECT_FALSE(ParseSsoRoleCredentials(R"({"roleCredentials": {}})"));
}

class SsoTest : public RoleTest {
 protected:
  CredentialServices SsoServices() {
    CredentialServices services = Services();
    services.sso_transport = transport_;
    services.sso_endpoint = "http://127.0.0.1:9/";
    return services;
  }
  void CacheToken(const std::string& key, const std::string& token, const std::string& expires) {
    Write(SsoCredentialsProvider::CacheFile((Home() / ".aws" / "sso" / "cache").string(), key),
          R"({"accessToken": ")" + token + R"(", "expiresAt": ")" + expires + R"("})");
  }
};

TEST_F(SsoTest, AnSsoSessionProfileTradesTheCachedTokenForRoleCredentials) {
  Write(ConfigFile(),
        "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\n"
        "sso_region = eu-west-1\n"
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n"
        "sso_role_name = Reader\n");
  CacheToken("corp", "cached-access-token", "2026-12-07T16:00:00Z");
  transport_->Answer(200, R"({"roleCredentials": {"accessKeyId": "ASIASSO", "secretAccessKey": ")" +
                              std::string(kRoleSecret) + R"(", "sessionToken": ")" + kRoleToken +
                              R"(", "expiration": 1796655600000}})");
  ProfileCredentialsProvider provider("dev", env_.Fn(), SsoServices());
  auto c = provider.Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIASSO");
  const HttpRequest sent = transport_->last();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.url,
            "http://127.0.0.1:9/federation/credentials?account_id=111122223333&role_name=Reader");
  EXPECT_EQ(*sent.Header("x-amz-sso_bearer_token"), "cached-access-token");
  EXPECT_NE(provider.Describe().find("SSO role Reader in account 111122223333"), std::string::npos)
      << provider.Describe();
}

TEST_F(SsoTest, ALegacyProfileIsKeyedByItsStartUrl) {
  Write(ConfigFile(),
        "[profile old]\nsso_start_url = https://d-2.awsapps.com/start\n"
        "sso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n");
  CacheToken("https://d-2.awsapps.com/start", "legacy-token", "2026-12-07T16:00:00Z");
  transport_->Answer(200, R"({"roleCredentials": {"accessKeyId": "ASIAOLD", "secretAccessKey": "s",
                              "sessionToken": "t", "expiration": 1796655600000}})");
  auto c = ProfileCredentialsProvider("old", env_.Fn(), SsoServices()).Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(*transport_->last().Header("x-amz-sso_bearer_token"), "legacy-token");
}

TEST_F(SsoTest, AnExpiredMissingOrRefusedTokenSaysToSignInAgain) {
  Write(ConfigFile(),
        "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\n"
        "sso_region = eu-west-1\n"
        "[profile dev]\nsso_session = corp\nsso_account_id = 1\n"
        "sso_role_name = Reader\n"
        "[profile half]\nsso_session = corp\n"
        "[profile lost]\nsso_session = elsewhere\nsso_account_id = 1\n"
        "sso_role_name = R\n");
  auto missing = ProfileCredentialsProvider("dev", env_.Fn(), SsoServices()).Get();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kAuth);
  EXPECT_NE(missing.error().message().find("aws sso login --profile dev"), std::string::npos)
      << missing.error().message();

  CacheToken("corp", "old-access-token", "2026-01-01T00:00:00Z");
  auto expired = ProfileCredentialsProvider("dev", env_.Fn(), SsoServices()).Get();
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message().find("expired at 2026-01-01T00:00:00.000Z"),
            std::string::npos)
      << expired.error().message();
  EXPECT_NE(expired.error().message().find("aws sso login --profile dev"), std::string::npos);
  EXPECT_EQ(expired.error().message().find("old-access-token"), std::string::npos);
  EXPECT_TRUE(transport_->requests().empty());

  CacheToken("corp", "revoked-access-token", "2026-12-07T16:00:00Z");
  transport_->Answer(401, R"({"message": "Session token not found or invalid"})");
  auto refused = ProfileCredentialsProvider("dev", env_.Fn(), SsoServices()).Get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kAuth);
  EXPECT_NE(refused.error().message().find("refused the cached token"), std::string::npos);
  EXPECT_EQ(refused.error().message().find("revoked-access-token"), std::string::npos);

  auto half = ProfileCredentialsProvider("half", env_.Fn(), SsoServices()).Get();
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().code(), ErrorCode::kConfig);
  EXPECT_NE(half.error().message().find("sso_account_id and sso_role_name"), std::string::npos);
  auto lost = ProfileCredentialsProvider("lost", env_.Fn(), SsoServices()).Get();
  ASSERT_FALSE(lost);
  EXPECT_NE(lost.error().message().find("no [sso-session elsewhere] section"), std::string::npos);
}

TEST_F(RoleTest, AProfileRoleWithASourceComesBeforeWebIdentityFromTheEnvironment) {
  // As in the SDKs: a pod with a service account, told to use a profile
  // that assumes a role in another account, gets that role.
  const fs::path token = fs::path(dir_.path()) / "token";
  Write(token, kWebToken);
  Write(ConfigFile(),
        "[profile cross]\nrole_arn = arn:aws:iam::2:role/cross\n"
        "credential_source = Environment\n");
  env_.Set("AWS_WEB_IDENTITY_TOKEN_FILE", token.string())
      .Set("AWS_ROLE_ARN", kRole)
      .Set("AWS_PROFILE", "cross");
  // credential_source Environment with no keys exported: its error stops
  // the chain rather than falling to web identity.
  DefaultCredentialsChain chain(ChainOptions());
  auto refused = chain.Get();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("profile 'cross'"), std::string::npos)
      << refused.error().message();
  EXPECT_TRUE(transport_->requests().empty());
}

// --- credential_process --------------------------------------------------------------------

TEST(SplitCommandLineTest, SplitsAsTheShellDoesWithoutExpanding) {
  auto words = SplitCommandLine(R"(helper --name 'a b' "c \"d\" $HOME" e\ f '' x"y"z)");
  ASSERT_TRUE(words) << words.error().message();
  EXPECT_EQ(*words, (std::vector<std::string>{"helper", "--name", "a b", "c \"d\" $HOME", "e f", "",
                                              "xyz"}));
  EXPECT_FALSE(SplitCommandLine("helper 'open"));
  EXPECT_FALSE(SplitCommandLine("helper \"open"));
  EXPECT_FALSE(SplitCommandLine("   "));
}

TEST(ProcessParseTest, ReadsVersionOne) {
  auto c = ParseProcessCredentials(
      R"({"Version": 1, "AccessKeyId": "ASIAP", "SecretAccessKey": "s", "SessionToken": "t",
          "Expiration": "2026-12-07T15:00:00Z"})");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIAP");
  EXPECT_EQ(c->session_token, "t");
  EXPECT_EQ(c->expiration_ms, 1'796'655'600'000);
  auto long_term =
      ParseProcessCredentials(R"({"Version": 1, "AccessKeyId": "AKIAP", "SecretAccessKey": "s"})");
  ASSERT_TRUE(long_term);
  EXPECT_FALSE(long_term->expiration_ms);
  for (const char* bad :
       {"", "not json", "[]", R"({"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "s"})",
        R"({"AccessKeyId": "A", "SecretAccessKey": "s"})",
        R"({"Version": 1, "SecretAccessKey": "s"})",
        R"({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "s", "Expiration": "soon"})"}) {
    auto parsed = ParseProcessCredentials(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kParse);
  }
}

class ProcessTest : public ::testing::Test {
 protected:
  // A shell script at a path, to be named by credential_process.
  std::string Script(const std::string& name, const std::string& body) {
    const fs::path path = fs::path(dir_.path()) / name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(path, fs::perms::owner_all);
    return path.string();
  }
  TempDir dir_{"kc-process-test"};
};

TEST_F(ProcessTest, RunsTheProgramWithItsArgumentsAndNoShell) {
  const std::string script =
      Script("ok", R"(echo "a secret diagnostic" >&2
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "s3cr3tS3cr3tS3cr3t", )"
                   R"("SessionToken": "tok", "Expiration": "2030-01-01T00:00:00Z"}' "$1")");
  ProcessCredentialsProvider provider(script + " 'AKIA $NOT_EXPANDED'", "credential_process");
  auto c = provider.Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "AKIA $NOT_EXPANDED");
  EXPECT_EQ(c->session_token, "tok");
  EXPECT_TRUE(c->expiration_ms);
  EXPECT_NE(provider.Describe().find(script), std::string::npos);
}

TEST_F(ProcessTest, FailuresNameTheProgramAndShowNothingItPrinted) {
  struct Case {
    std::string script;
    const char* says;
  };
  for (const Case& c :
       {Case{Script("fails", "echo 's3cr3tS3cr3tS3cr3t' >&2; exit 3"), "exited with status 3"},
        Case{Script("garbage", "echo 's3cr3tS3cr3tS3cr3t is not json'"), "not a JSON object"},
        Case{Script("hangs", "exec sleep 30"), "did not finish"},
        // Closes its output and goes on running: stopped all the same.
        Case{Script("lingers", "exec >&- 2>&-; exec sleep 30"), "did not finish"},
        // Leaves its output to a child that goes on running.
        Case{Script("forks", "sleep 30 &"), "did not finish"},
        Case{(fs::path(dir_.path()) / "absent").string(), "cannot be started"}}) {
    ProcessCredentialsProvider provider(c.script + " --password s3cr3tArgument",
                                        "credential_process of profile 'p'",
                                        std::chrono::milliseconds(300));
    const auto started = std::chrono::steady_clock::now();
    auto got = provider.Get();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << c.script;
    ASSERT_FALSE(got) << c.script;
    EXPECT_EQ(got.error().code(), ErrorCode::kAuth);
    EXPECT_NE(got.error().message().find(c.says), std::string::npos) << got.error().message();
    EXPECT_NE(got.error().message().find("profile 'p'"), std::string::npos);
    EXPECT_EQ(got.error().message().find("s3cr3t"), std::string::npos) << got.error().message();
  }
}

TEST_F(ProcessTest, TheProgramGetsNoneOfOurDescriptors) {
  // A descriptor of ours that is not close-on-exec, as some libraries'
  // sockets are.
  const int fd = ::dup2(1, 77);
  ASSERT_EQ(fd, 77);
  const std::string script =
      Script("fds", R"(if [ -e /proc/$$/fd/77 ]; then k=LEAKED; else k=CLEAN; fi
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "s3cr3tS3cr3tS3cr3t"}' "$k")");
  auto c = ProcessCredentialsProvider(script, "credential_process").Get();
  ::close(fd);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "CLEAN");
}

TEST_F(ProcessTest, AProfileRunsItsCredentialProcess) {
  FakeEnv env;
  const fs::path home = fs::path(dir_.path()) / "home";
  env.Set("HOME", home.string());
  const std::string script =
      Script("helper", R"(echo '{"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": )"
                       R"("s3cr3tS3cr3tS3cr3t"}')");
  fs::create_directories(home / ".aws");
  std::ofstream(home / ".aws" / "config")
      << "[profile tool]\ncredential_process = " << script << "\n";
  auto c = ProfileCredentialsProvider("tool", env.Fn()).Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "AKIAPROC");
}

}  // namespace
}  // namespace kc::aws
