// The credentials chain and region lookup, with an injected environment and
// shared files written to a temporary directory.
#include "clients/aws/credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "support/fake_clock.h"
#include "support/fake_env.h"

namespace kc::aws {
namespace {

namespace fs = std::filesystem;
using testing::FakeClock;
using testing::FakeEnv;

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kOtherSecret[] = "OtherSecretKeyThatMustNotLeak000000000000";
constexpr char kToken[] = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "kc-credentials-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    home_ = dir_ / "home";
    fs::create_directories(home_ / ".aws");
    env_.Set("HOME", home_.string());
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }

  void WriteFile(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  fs::path CredentialsFile() const { return home_ / ".aws" / "credentials"; }
  fs::path ConfigFile() const { return home_ / ".aws" / "config"; }

  fs::path dir_;
  fs::path home_;
  FakeEnv env_;
};

void ExpectNoSecrets(const std::string& text) {
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
  EXPECT_EQ(text.find(kOtherSecret), std::string::npos) << text;
  EXPECT_EQ(text.find(kToken), std::string::npos) << text;
}

// --- ParseIni ------------------------------------------------------------------

TEST(IniTest, ParsesTheAwsDialect) {
  auto ini = ParseIni(
      "\xEF\xBB\xBF# leading comment\n"
      "; another\n"
      "[default]\n"
      "AWS_Access_Key_ID = AKID1   \r\n"
      "aws_secret_access_key=abc/def+ghi\n"
      "region : eu-west-1 # inline comment\n"
      "endpoint_url = http://host/#frag\n"
      "   \n"
      "  [ profile  dev ]  \n"
      "  aws_access_key_id = AKID2\n"
      "  s3 =\n"
      "    addressing_style = path\n"
      "    max_concurrent_requests = 10 ; why\n"
      "  region = us-west-2\n"
      "[default]\n"
      "output = json\n"
      "empty =\n",
      "config");
  ASSERT_TRUE(ini) << ini.error().ToString();
  EXPECT_EQ(*ini->Find("default", "aws_access_key_id"), "AKID1");
  EXPECT_EQ(*ini->Find("default", "aws_secret_access_key"), "abc/def+ghi");
  EXPECT_EQ(*ini->Find("default", "region"), "eu-west-1");
  EXPECT_EQ(*ini->Find("default", "endpoint_url"), "http://host/#frag");
  EXPECT_EQ(*ini->Find("default", "output"), "json");  // a repeated section merges
  EXPECT_EQ(*ini->Find("default", "empty"), "");
  EXPECT_EQ(*ini->Find("profile  dev", "aws_access_key_id"), "AKID2");
  EXPECT_EQ(*ini->Find("profile  dev", "s3"),
            "\naddressing_style = path\nmax_concurrent_requests = 10");
  EXPECT_EQ(*ini->Find("profile  dev", "region"), "us-west-2");
  EXPECT_EQ(ini->Find("profile  dev", "addressing_style"), nullptr);
  EXPECT_EQ(ini->Find("nope", "region"), nullptr);
}

TEST(IniTest, ErrorsNameTheLineButNeverQuoteIt) {
  struct Case {
    const char* text;
    const char* where;
  };
  for (const Case& c : {
           Case{"[default]\naws_secret_access_key SuperSecretValue\n", "creds:2:"},
           Case{"aws_secret_access_key = SuperSecretValue\n", "creds:1:"},
           Case{"[default\nx = SuperSecretValue\n", "creds:1:"},
           Case{"[]\n", "creds:1:"},
           Case{"[a]\n= SuperSecretValue\n", "creds:2:"},
       }) {
    auto ini = ParseIni(c.text, "creds");
    ASSERT_FALSE(ini) << c.text;
    EXPECT_EQ(ini.error().code(), ErrorCode::kConfig);
    EXPECT_TRUE(ini.error().message().starts_with(c.where)) << ini.error().message();
    EXPECT_EQ(ini.error().message().find("SuperSecretValue"), std::string::npos);
  }
}

// --- EnvironmentCredentialsProvider --------------------------------------------------

TEST(EnvironmentProviderTest, ReadsKeysAndToken) {
  FakeEnv env;
  env.Set("AWS_ACCESS_KEY_ID", "AKID").Set("AWS_SECRET_ACCESS_KEY", kSecret);
  EnvironmentCredentialsProvider provider(env.Fn());
  auto c = provider.Get();
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, "");

  env.Set("AWS_SECURITY_TOKEN", "legacy");
  EXPECT_EQ(provider.Get()->session_token, "legacy");
  env.Set("AWS_SESSION_TOKEN", kToken);
  EXPECT_EQ(provider.Get()->session_token, kToken);
  ExpectNoSecrets(provider.Describe());
}

TEST(EnvironmentProviderTest, NothingSetIsNotFound) {
  FakeEnv env;
  env.Set("AWS_ACCESS_KEY_ID", "").Set("AWS_SECRET_ACCESS_KEY", "");  // empty counts as unset
  auto c = EnvironmentCredentialsProvider(env.Fn()).Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_NE(c.error().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(EnvironmentProviderTest, HalfAPairIsAnError) {
  FakeEnv env;
  env.Set("AWS_SECRET_ACCESS_KEY", kSecret);
  auto c = EnvironmentCredentialsProvider(env.Fn()).Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kAuth);
  EXPECT_NE(c.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  ExpectNoSecrets(c.error().message());
}

// --- ProfileCredentialsProvider --------------------------------------------------------

TEST_F(CredentialsTest, DefaultProfileFromTheCredentialsFile) {
  WriteFile(CredentialsFile(), std::string("[default]\naws_access_key_id = AKIDDEFAULT\n") +
                                   "aws_secret_access_key = " + kSecret + "\n" +
                                   "aws_session_token = " + kToken + "\n");
  auto c = ProfileCredentialsProvider({}, env_.Fn()).Get();
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, kToken);
}

TEST_F(CredentialsTest, ProfileFromAwsProfileAndTheConfigFile) {
  WriteFile(CredentialsFile(), std::string("[default]\naws_access_key_id = AKIDDEFAULT\n") +
                                   "aws_secret_access_key = " + kOtherSecret + "\n");
  WriteFile(ConfigFile(), std::string("[default]\nregion = us-east-1\n") +
                              "[profile dev]\nregion = eu-west-1\naws_access_key_id = AKIDDEV\n" +
                              "aws_secret_access_key = " + kSecret + "\n");
  env_.Set("AWS_PROFILE", "dev");
  auto c = ProfileCredentialsProvider({}, env_.Fn()).Get();
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDDEV");

  // A configured profile wins over AWS_PROFILE.
  auto d = ProfileCredentialsProvider("default", env_.Fn()).Get();
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->access_key_id, "AKIDDEFAULT");
}

TEST_F(CredentialsTest, CredentialsFileWinsOverConfigFile) {
  WriteFile(CredentialsFile(), std::string("[prod]\naws_access_key_id = FROMCREDS\n") +
                                   "aws_secret_access_key = " + kSecret + "\n");
  WriteFile(ConfigFile(), std::string("[profile prod]\naws_access_key_id = FROMCONFIG\n") +
                              "aws_secret_access_key = " + kOtherSecret + "\n");
  auto c = ProfileCredentialsProvider("prod", env_.Fn()).Get();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "FROMCREDS");
}

TEST_F(CredentialsTest, ConfigFileSectionNames) {
  // In the config file a named profile is "[profile NAME]"; "[NAME]" is not it.
  WriteFile(ConfigFile(), std::string("[prod]\naws_access_key_id = WRONG\n") +
                              "aws_secret_access_key = " + kOtherSecret + "\n" +
                              "[profile default]\naws_access_key_id = DEFAULTPROFILE\n" +
                              "aws_secret_access_key = " + kSecret + "\n");
  auto prod = ProfileCredentialsProvider("prod", env_.Fn()).Get();
  ASSERT_FALSE(prod);
  // Asked for by name and missing: an error, not "nothing here".
  EXPECT_EQ(prod.error().code(), ErrorCode::kAuth);
  EXPECT_NE(prod.error().message().find("[profile prod]"), std::string::npos);
  ExpectNoSecrets(prod.error().message());

  auto def = ProfileCredentialsProvider({}, env_.Fn()).Get();
  ASSERT_TRUE(def) << def.error().ToString();
  EXPECT_EQ(def->access_key_id, "DEFAULTPROFILE");
}

TEST_F(CredentialsTest, FileLocationsFromTheEnvironment) {
  fs::path creds = dir_ / "elsewhere" / "creds.ini";
  WriteFile(creds, std::string("[default]\naws_access_key_id = CUSTOM\n") +
                       "aws_secret_access_key = " + kSecret + "\n");
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", creds.string());
  auto c = ProfileCredentialsProvider({}, env_.Fn()).Get();
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "CUSTOM");

  // "~/" is expanded with HOME.
  WriteFile(home_ / "my-config", std::string("[profile x]\naws_access_key_id = TILDE\n") +
                                     "aws_secret_access_key = " + kSecret + "\n");
  env_.Set("AWS_CONFIG_FILE", "~/my-config");
  auto x = ProfileCredentialsProvider("x", env_.Fn()).Get();
  ASSERT_TRUE(x) << x.error().ToString();
  EXPECT_EQ(x->access_key_id, "TILDE");
}

TEST_F(CredentialsTest, HalfAPairInAProfileIsAnError) {
  WriteFile(CredentialsFile(), std::string("[default]\naws_secret_access_key = ") + kSecret + "\n");
  auto c = ProfileCredentialsProvider({}, env_.Fn()).Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kAuth);
  EXPECT_NE(c.error().message().find("aws_access_key_id"), std::string::npos);
  EXPECT_NE(c.error().message().find(CredentialsFile().string()), std::string::npos);
  ExpectNoSecrets(c.error().message());
}

TEST_F(CredentialsTest, AnSsoProfileWithoutThePortalSaysSo) {
  WriteFile(ConfigFile(),
            "[profile sso]\nsso_start_url = https://d.awsapps.com/start\n"
            "sso_region = eu-west-1\nsso_account_id = 1\nsso_role_name = R\n");
  auto c = ProfileCredentialsProvider("sso", env_.Fn()).Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kAuth);
  EXPECT_NE(c.error().message().find("SSO portal"), std::string::npos);
}

TEST_F(CredentialsTest, ARoleWithoutStsSaysSo) {
  WriteFile(ConfigFile(),
            "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
            "credential_source = Environment\n");
  auto c = ProfileCredentialsProvider("role", env_.Fn()).Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kAuth);
  EXPECT_NE(c.error().message().find("STS"), std::string::npos);
}

TEST_F(CredentialsTest, BrokenFilesAreReported) {
  WriteFile(CredentialsFile(),
            std::string("[default]\naws_access_key_id = A\n") + kSecret + "\n");  // no '='
  auto c = ProfileCredentialsProvider({}, env_.Fn()).Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kConfig);
  EXPECT_NE(c.error().message().find(CredentialsFile().string() + ":3:"), std::string::npos);
  ExpectNoSecrets(c.error().message());

  fs::remove(CredentialsFile());
  fs::create_directories(CredentialsFile());  // a directory cannot be read as a file
  auto d = ProfileCredentialsProvider({}, env_.Fn()).Get();
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ErrorCode::kIo);
  EXPECT_NE(d.error().message().find(CredentialsFile().string()), std::string::npos);
}

TEST_F(CredentialsTest, NoHomeDirectory) {
  env_.Unset("HOME");
  auto c = ProfileCredentialsProvider({}, env_.Fn()).Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.error().message().find("HOME is not set"), std::string::npos);
}

// --- DefaultCredentialsChain ------------------------------------------------------------

TEST_F(CredentialsTest, ChainPrefersTheEnvironment) {
  WriteFile(CredentialsFile(), std::string("[default]\naws_access_key_id = FROMFILE\n") +
                                   "aws_secret_access_key = " + kOtherSecret + "\n");
  env_.Set("AWS_ACCESS_KEY_ID", "FROMENV").Set("AWS_SECRET_ACCESS_KEY", kSecret);
  FakeClock clock;
  DefaultCredentialsChain chain({}, env_.Fn(), &clock);
  auto c = chain.Get();
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "FROMENV");
  EXPECT_NE(chain.Describe().find("using environment variables"), std::string::npos)
      << chain.Describe();
  ExpectNoSecrets(chain.Describe());

  // AWS_PROFILE does not override exported keys (as in the AWS CLI).
  env_.Set("AWS_PROFILE", "default");
  DefaultCredentialsChain with_env_profile({}, env_.Fn(), &clock);
  EXPECT_EQ(with_env_profile.Get()->access_key_id, "FROMENV");
}

TEST_F(CredentialsTest, ChainFallsBackToTheFiles) {
  WriteFile(CredentialsFile(), std::string("[default]\naws_access_key_id = FROMFILE\n") +
                                   "aws_secret_access_key = " + kSecret + "\n");
  FakeClock clock;
  DefaultCredentialsChain chain({}, env_.Fn(), &clock);
  auto c = chain.Get();
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "FROMFILE");
  EXPECT_NE(chain.Describe().find("using profile 'default'"), std::string::npos)
      << chain.Describe();
}

TEST_F(CredentialsTest, ConfiguredProfileSkipsTheEnvironment) {
  WriteFile(CredentialsFile(), std::string("[prod]\naws_access_key_id = PROD\n") +
                                   "aws_secret_access_key = " + kSecret + "\n");
  env_.Set("AWS_ACCESS_KEY_ID", "FROMENV").Set("AWS_SECRET_ACCESS_KEY", kOtherSecret);
  FakeClock clock;
  DefaultCredentialsChain chain("prod", env_.Fn(), &clock);
  auto c = chain.Get();
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "PROD");

  DefaultCredentialsChain missing("staging", env_.Fn(), &clock);
  auto m = missing.Get();
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::kAuth);
  EXPECT_NE(m.error().message().find("'staging'"), std::string::npos);
  EXPECT_NE(m.error().message().find("is in neither"), std::string::npos);
  ExpectNoSecrets(m.error().message());
}

TEST_F(CredentialsTest, NothingFoundNamesEverythingTriedAndTheFix) {
  WriteFile(ConfigFile(), std::string("[profile other]\naws_access_key_id = OTHER\n") +
                              "aws_secret_access_key = " + kOtherSecret + "\n");
  FakeClock clock;
  DefaultCredentialsChain chain({}, env_.Fn(), &clock);
  auto c = chain.Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kAuth);
  const std::string& m = c.error().message();
  for (const std::string& needle :
       {std::string("AWS_ACCESS_KEY_ID"), std::string("AWS_SECRET_ACCESS_KEY"),
        std::string("AWS_SESSION_TOKEN"), std::string("AWS_PROFILE"),
        std::string("profile 'default'"), CredentialsFile().string(), ConfigFile().string(),
        std::string("no such file"), std::string("no [default] section"), std::string("To fix")}) {
    EXPECT_NE(m.find(needle), std::string::npos) << "missing '" << needle << "' in: " << m;
  }
  ExpectNoSecrets(m);
}

TEST_F(CredentialsTest, ChainStopsAtAMisconfiguredSource) {
  // Half a pair in the environment must not fall through to the file's keys.
  WriteFile(CredentialsFile(), std::string("[default]\naws_access_key_id = FROMFILE\n") +
                                   "aws_secret_access_key = " + kSecret + "\n");
  env_.Set("AWS_ACCESS_KEY_ID", "HALF");
  FakeClock clock;
  DefaultCredentialsChain chain({}, env_.Fn(), &clock);
  auto c = chain.Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kAuth);
}

TEST_F(CredentialsTest, ChainCachesAndRefreshes) {
  auto write = [&](const std::string& id) {
    WriteFile(CredentialsFile(), "[default]\naws_access_key_id = " + id +
                                     "\naws_secret_access_key = " + kSecret + "\n");
  };
  write("FIRST");
  FakeClock clock;
  DefaultCredentialsChain chain({}, env_.Fn(), &clock, std::chrono::minutes(5));
  EXPECT_EQ(chain.Get()->access_key_id, "FIRST");

  write("SECOND");
  clock.Advance(std::chrono::minutes(4));
  EXPECT_EQ(chain.Get()->access_key_id, "FIRST");  // cached
  clock.Advance(std::chrono::minutes(2));
  EXPECT_EQ(chain.Get()->access_key_id, "SECOND");  // rotated keys picked up

  // A file caught half written: keep the good credentials, look again later.
  WriteFile(CredentialsFile(), "[default]\naws_access_key_id = THIRD\n");
  clock.Advance(std::chrono::minutes(6));
  auto kept = chain.Get();
  ASSERT_TRUE(kept) << kept.error().ToString();
  EXPECT_EQ(kept->access_key_id, "SECOND");
  write("THIRD");
  clock.Advance(std::chrono::milliseconds(900));  // within the first backoff, 1 s
  EXPECT_EQ(chain.Get()->access_key_id, "SECOND");
  clock.Advance(std::chrono::milliseconds(100));
  EXPECT_EQ(chain.Get()->access_key_id, "THIRD");
}

TEST_F(CredentialsTest, FailureWithNothingCachedIsAskedAgainAfterABackoff) {
  FakeClock clock;
  DefaultCredentialsChain chain({}, env_.Fn(), &clock);
  EXPECT_FALSE(chain.Get());
  WriteFile(CredentialsFile(), std::string("[default]\naws_access_key_id = LATE\n") +
                                   "aws_secret_access_key = " + kSecret + "\n");
  // The same error at once, without reading the files again: every client
  // asks for every request, and a source such as STS must not be asked as
  // often.
  auto again = chain.Get();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAuth);
  clock.Advance(std::chrono::seconds(1));
  auto c = chain.Get();
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "LATE");
}

TEST(CredentialsChainTest, GenericChainOrderAndErrors) {
  std::vector<std::unique_ptr<CredentialsProvider>> providers;
  FakeEnv empty;
  providers.push_back(std::make_unique<EnvironmentCredentialsProvider>(empty.Fn()));
  providers.push_back(
      std::make_unique<StaticCredentialsProvider>(Credentials{"STATIC", kSecret, ""}));
  CredentialsChain chain(std::move(providers));
  EXPECT_EQ(chain.LastSource(), "");
  auto c = chain.Get();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "STATIC");
  EXPECT_EQ(chain.LastSource(), "static credentials");
  EXPECT_NE(chain.Describe().find("environment variables"), std::string::npos);
}

// --- ResolveRegion -------------------------------------------------------------------

TEST_F(CredentialsTest, RegionPrecedence) {
  WriteFile(ConfigFile(), "[default]\nregion = ap-south-1\n[profile dev]\nregion = eu-north-1\n");
  auto fn = env_.Fn();
  EXPECT_EQ(*ResolveRegion("", "", fn), "ap-south-1");
  EXPECT_EQ(*ResolveRegion("", "dev", fn), "eu-north-1");
  env_.Set("AWS_PROFILE", "dev");
  EXPECT_EQ(*ResolveRegion("", "", fn), "eu-north-1");
  env_.Set("AWS_DEFAULT_REGION", "us-west-1");
  EXPECT_EQ(*ResolveRegion("", "", fn), "us-west-1");
  env_.Set("AWS_REGION", "us-east-2");
  EXPECT_EQ(*ResolveRegion("", "", fn), "us-east-2");
  EXPECT_EQ(*ResolveRegion("ca-central-1", "", fn), "ca-central-1");
}

TEST_F(CredentialsTest, NoRegionNamesEveryPlace) {
  WriteFile(ConfigFile(), "[default]\noutput = json\n");
  auto r = ResolveRegion("", "", env_.Fn());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  const std::string& m = r.error().message();
  for (const std::string& needle :
       {std::string("[aws]"), std::string("AWS_REGION"), std::string("AWS_DEFAULT_REGION"),
        std::string("profile 'default'"), ConfigFile().string(),
        std::string("the profile has no region")}) {
    EXPECT_NE(m.find(needle), std::string::npos) << "missing '" << needle << "' in: " << m;
  }

  fs::remove(ConfigFile());
  auto missing = ResolveRegion("", "dev", env_.Fn());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("no such file"), std::string::npos);
  EXPECT_NE(missing.error().message().find("profile 'dev'"), std::string::npos);
}

}  // namespace
}  // namespace kc::aws
