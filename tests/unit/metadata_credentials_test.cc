// The container credentials endpoint and EC2 instance metadata (IMDSv2),
// against a scripted transport.
#include "clients/aws/metadata_credentials.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "support/fake_clock.h"
#include "support/fake_env.h"
#include "support/scripted_transport.h"
#include "support/temp_dir.h"

namespace kc::aws {
namespace {

using testing::FakeClock;
using testing::FakeEnv;
using testing::ScriptedTransport;
using testing::TempDir;

constexpr char kSecret[] = "MetadataSecretKeyThatMustNotLeak00000000";
constexpr char kToken[] = "MetadataSessionTokenThatMustNotLeak0000";

std::string CredentialsJson(const std::string& key_id, const std::string& expiration) {
  return R"({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": ")" + key_id +
         R"(", "SecretAccessKey": ")" + kSecret + R"(", "Token": ")" + kToken +
         R"(", "Expiration": ")" + expiration + R"("})";
}

class MetadataTest : public ::testing::Test {
 protected:
  MetadataTest() { clock_.SetUnixMillis(1'796'000'000'000); }
  FakeEnv env_;
  FakeClock clock_;
  std::shared_ptr<ScriptedTransport> transport_ = std::make_shared<ScriptedTransport>();
};

TEST(ContainerUrlTest, OnlyHttpsOrAddressesThatStayOnTheMachine) {
  EXPECT_TRUE(IsAllowedContainerUrl("https://creds.example/v1"));
  EXPECT_TRUE(IsAllowedContainerUrl("http://127.0.0.1:8080/creds"));
  EXPECT_TRUE(IsAllowedContainerUrl("http://localhost/creds"));
  EXPECT_TRUE(IsAllowedContainerUrl("http://[::1]:9/c"));
  EXPECT_TRUE(IsAllowedContainerUrl("http://169.254.170.2/v2/x"));
  EXPECT_TRUE(IsAllowedContainerUrl("http://169.254.170.23/v1/credentials"));
  EXPECT_TRUE(IsAllowedContainerUrl("http://[fd00:ec2::23]/v1/credentials"));
  EXPECT_FALSE(IsAllowedContainerUrl("http://10.0.0.5/creds"));
  EXPECT_FALSE(IsAllowedContainerUrl("http://127.0.0.1.example.com/creds"));
  // Not addresses but names a resolver would look up.
  EXPECT_FALSE(IsAllowedContainerUrl("http://127.0.0.1.1/creds"));
  EXPECT_FALSE(IsAllowedContainerUrl("http://127..1/creds"));
  EXPECT_FALSE(IsAllowedContainerUrl("http://127.999.1.1/creds"));
  EXPECT_FALSE(IsAllowedContainerUrl("http://[::2]/creds"));
  EXPECT_TRUE(IsAllowedContainerUrl("http://127.5.6.7/creds"));
  EXPECT_FALSE(IsAllowedContainerUrl("ftp://127.0.0.1/creds"));
  EXPECT_FALSE(IsAllowedContainerUrl("not a url"));
}

TEST_F(MetadataTest, ContainerRelativeUriGoesToTheEcsAgent) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
  transport_->Answer(200, CredentialsJson("ASIAECS", "2026-12-07T15:00:00Z"));
  ContainerCredentialsProvider provider(env_.Fn(), transport_, &clock_);
  auto c = provider.Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIAECS");
  EXPECT_EQ(c->session_token, kToken);
  EXPECT_EQ(c->expiration_ms, 1'796'655'600'000);
  EXPECT_EQ(transport_->last().url, "http://169.254.170.2/v2/credentials/abc");
  EXPECT_EQ(transport_->last().method, "GET");
  EXPECT_EQ(transport_->last().Header("Authorization"), nullptr);
}

TEST_F(MetadataTest, ContainerFullUriSendsTheTokenFromItsFileReadEachTime) {
  TempDir dir("kc-container-test");
  const std::string file = dir.path() + "/token";
  std::ofstream(file) << "first-token\n";
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials")
      .Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file)
      .Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-a-file-is-named");
  ContainerCredentialsProvider provider(env_.Fn(), transport_, &clock_);
  transport_->Answer(200, CredentialsJson("ASIAPOD1", "2026-12-07T15:00:00Z"));
  ASSERT_TRUE(provider.Get());
  ASSERT_NE(transport_->last().Header("Authorization"), nullptr);
  EXPECT_EQ(*transport_->last().Header("Authorization"), "first-token");

  std::ofstream(file) << "second-token";
  transport_->Answer(200, CredentialsJson("ASIAPOD2", "2026-12-07T15:00:00Z"));
  auto c = provider.Get();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "ASIAPOD2");
  EXPECT_EQ(*transport_->last().Header("Authorization"), "second-token");

  env_.Unset("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  transport_->Answer(200, CredentialsJson("ASIAPOD3", "2026-12-07T15:00:00Z"));
  ASSERT_TRUE(provider.Get());
  EXPECT_EQ(*transport_->last().Header("Authorization"), "ignored-when-a-file-is-named");
}

TEST_F(MetadataTest, ContainerProblemsAreClear) {
  ContainerCredentialsProvider provider(env_.Fn(), transport_, &clock_);
  auto unset = provider.Get();
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().code(), ErrorCode::kNotFound);

  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds");
  auto remote = provider.Get();
  ASSERT_FALSE(remote);
  EXPECT_EQ(remote.error().code(), ErrorCode::kConfig);
  EXPECT_NE(remote.error().message().find("https://"), std::string::npos);
  EXPECT_TRUE(transport_->requests().empty());

  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds")
      .Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "bad\r\nX-Injected: 1");
  auto injected = provider.Get();
  ASSERT_FALSE(injected);
  EXPECT_EQ(injected.error().code(), ErrorCode::kAuth);
  EXPECT_TRUE(transport_->requests().empty());

  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "good");
  transport_->Answer(403, R"({"message": "denied"})");
  auto denied = provider.Get();
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), ErrorCode::kAuth);
  EXPECT_NE(denied.error().message().find("127.0.0.1:9"), std::string::npos)
      << denied.error().message();

  // An answer, even a 404, is an error to report: never "no credentials
  // here", which would move the chain on to the instance's identity.
  transport_->Answer(404, "");
  auto wrong_path = provider.Get();
  ASSERT_FALSE(wrong_path);
  EXPECT_NE(wrong_path.error().code(), ErrorCode::kNotFound);

  transport_->Answer(
      200, std::string("{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"") + kSecret + "\"}");
  auto incomplete = provider.Get();
  ASSERT_FALSE(incomplete);
  EXPECT_EQ(incomplete.error().code(), ErrorCode::kParse);
  EXPECT_NE(incomplete.error().message().find("\"Token\""), std::string::npos);
  EXPECT_EQ(incomplete.error().message().find(kSecret), std::string::npos);
}

TEST_F(MetadataTest, ImdsV2AsksForATokenOnceThenTheRoleAndItsCredentials) {
  env_.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/");
  InstanceMetadataProvider provider(env_.Fn(), transport_, &clock_);
  transport_->Answer(200, "session-token-1");
  transport_->Answer(200, "reader-role\n");
  transport_->Answer(200, CredentialsJson("ASIAEC2", "2026-12-07T15:00:00Z"));
  auto c = provider.Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIAEC2");
  auto sent = transport_->requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].method, "PUT");
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:1338/latest/api/token");
  EXPECT_EQ(*sent[0].Header("X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(sent[1].url, "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(*sent[1].Header("X-aws-ec2-metadata-token"), "session-token-1");
  EXPECT_EQ(sent[2].url,
            "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/reader-role");

  // The token is reused while it lasts.
  transport_->Answer(200, "reader-role");
  transport_->Answer(200, CredentialsJson("ASIAEC3", "2026-12-07T16:00:00Z"));
  ASSERT_TRUE(provider.Get());
  EXPECT_EQ(transport_->requests().size(), 5u);
  EXPECT_EQ(*transport_->last().Header("X-aws-ec2-metadata-token"), "session-token-1");
}

TEST_F(MetadataTest, ImdsRefusingAnExpiredTokenIsAskedWithANewOne) {
  InstanceMetadataProvider provider(env_.Fn(), transport_, &clock_);
  transport_->Answer(200, "token-1");
  transport_->Answer(200, "role");
  transport_->Answer(200, CredentialsJson("ASIA1", "2026-12-07T15:00:00Z"));
  ASSERT_TRUE(provider.Get());
  // The service restarted: the cached token is refused once.
  transport_->Answer(401, "");
  transport_->Answer(200, "token-2");
  transport_->Answer(200, "role");
  transport_->Answer(200, CredentialsJson("ASIA2", "2026-12-07T15:00:00Z"));
  auto c = provider.Get();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIA2");
  auto sent = transport_->requests();
  ASSERT_EQ(sent.size(), 7u);
  EXPECT_EQ(sent[4].method, "PUT");
  EXPECT_EQ(*sent[6].Header("X-aws-ec2-metadata-token"), "token-2");
}

TEST_F(MetadataTest, ImdsThatDoesNotAnswerFallsThroughAtOnce) {
  InstanceMetadataProvider provider(env_.Fn(), transport_, &clock_);
  transport_->Drop("connection timed out");
  auto c = provider.Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.error().message().find("169.254.169.254"), std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 1u);

  // Something at the address that will not hand out a session token.
  transport_->Answer(403, "Forbidden");
  auto refused = provider.Get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(refused.error().message().find("HTTP 403"), std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 2u);

  env_.Set("AWS_EC2_METADATA_DISABLED", "TRUE");
  auto off = provider.Get();
  ASSERT_FALSE(off);
  EXPECT_EQ(off.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(off.error().message().find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 2u);
}

TEST_F(MetadataTest, ImdsProblemsAreClear) {
  env_.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6");
  InstanceMetadataProvider provider(env_.Fn(), transport_, &clock_);
  transport_->Answer(200, "tok");
  transport_->Answer(404, "");
  auto no_role = provider.Get();
  ASSERT_FALSE(no_role);
  EXPECT_EQ(no_role.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(no_role.error().message().find("no IAM role"), std::string::npos);
  EXPECT_EQ(transport_->requests()[0].url, "http://[fd00:ec2::254]/latest/api/token");

  transport_->Answer(200, "../../etc");
  auto odd = provider.Get();
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code(), ErrorCode::kParse);

  transport_->Answer(200, "role");
  transport_->Answer(200, R"({"Code": "AssumeRoleUnauthorizedAccess", "Message": "x"})");
  auto refused = provider.Get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kAuth);
  EXPECT_NE(refused.error().message().find("AssumeRoleUnauthorizedAccess"), std::string::npos);

  transport_->Answer(200, "role");
  transport_->Answer(200, "garbage");
  auto garbled = provider.Get();
  ASSERT_FALSE(garbled);
  EXPECT_EQ(garbled.error().code(), ErrorCode::kParse);
}

}  // namespace
}  // namespace kc::aws
