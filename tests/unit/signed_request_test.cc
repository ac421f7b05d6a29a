// The signed-request routine the AWS clients share, against a scripted
// transport: what it sends (a signed request, re-signed on every attempt),
// how it reports credentials problems, transport failures and error answers,
// and that no secret of the request ever shows up in an error.
#include "clients/aws/signed_request.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "clients/aws/aws_json_client.h"
#include "clients/aws/errors.h"
#include "clients/s3/s3_client.h"
#include "support/fake_clock.h"
#include "support/scripted_transport.h"

namespace kc::aws {
namespace {

using namespace std::chrono_literals;

constexpr char kSecret[] = "signed-request-secret-do-not-print";
constexpr char kToken[] = "session-token-do-not-print-either";

using testing::ScriptedTransport;

class FailingCredentials final : public CredentialsProvider {
 public:
  explicit FailingCredentials(Error error) : error_(std::move(error)) {}
  Result<Credentials> Get() override {
    ++calls;
    return kc::unexpected(error_);
  }
  std::string Describe() const override { return "nowhere"; }
  int calls = 0;

 private:
  Error error_;
};

// Hands out `first` until invalidated, then `second`.
class RenewingCredentials final : public CredentialsProvider {
 public:
  RenewingCredentials(Credentials first, Credentials second)
      : first_(std::move(first)), second_(std::move(second)) {}
  Result<Credentials> Get() override { return invalidations > 0 ? second_ : first_; }
  std::string Describe() const override { return "renewing"; }
  void Invalidate(const Credentials&) override { ++invalidations; }
  int invalidations = 0;

 private:
  Credentials first_, second_;
};

size_t Count(std::string_view text, std::string_view part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

SigningOptions JsonSigning() {
  SigningOptions signing;
  signing.region = "us-east-1";
  signing.service = "kinesis";
  return signing;
}

SigningOptions S3Signing() {
  SigningOptions signing;
  signing.region = "us-east-1";
  signing.service = "s3";
  signing.double_uri_encode = false;
  signing.add_content_sha256_header = true;
  return signing;
}

HttpRequest Post() {
  HttpRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:4567/";
  request.body = R"({"StreamName":"s"})";
  request.SetHeader("Content-Type", "application/x-amz-json-1.1");
  request.SetHeader("X-Amz-Target", "Kinesis_20131202.ListShards");
  return request;
}

class SignedSenderTest : public ::testing::Test {
 protected:
  SignedSender Sender(SigningOptions signing = JsonSigning(),
                      ErrorClassifier classify = ClassifyAwsError) {
    return SignedSender(std::move(signing), classify, transport_, credentials_, &clock_);
  }

  std::shared_ptr<ScriptedTransport> transport_ = std::make_shared<ScriptedTransport>();
  std::shared_ptr<CredentialsProvider> credentials_ =
      std::make_shared<StaticCredentialsProvider>(Credentials{"AKIDEXAMPLE", kSecret, kToken});
  testing::FakeClock clock_;
};

TEST_F(SignedSenderTest, SendsTheRequestSignedAndReturnsA2xxAnswer) {
  transport_->Answer(200, R"({"Shards":[]})");
  HttpRequest request = Post();
  auto r = Sender().Send("ListShards", request);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->body, R"({"Shards":[]})");
  ASSERT_EQ(transport_->requests().size(), 1u);
  const HttpRequest sent = transport_->requests()[0];
  ASSERT_NE(sent.Header("Authorization"), nullptr);
  EXPECT_TRUE(sent.Header("Authorization")
                  ->starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/"
                                "kinesis/aws4_request, SignedHeaders="))
      << *sent.Header("Authorization");
  EXPECT_NE(sent.Header("X-Amz-Date"), nullptr);
  EXPECT_EQ(*sent.Header("X-Amz-Security-Token"), kToken);
  // The JSON protocol does not send the payload hash; S3 does.
  EXPECT_EQ(sent.Header("x-amz-content-sha256"), nullptr);
  // The same signature as SignRequest gives, at the injected clock's time.
  HttpRequest expected = Post();
  ASSERT_TRUE(SignRequest(expected, Credentials{"AKIDEXAMPLE", kSecret, kToken}, JsonSigning(),
                          clock_.UnixMillis()));
  EXPECT_EQ(*sent.Header("Authorization"), *expected.Header("Authorization"));
}

TEST_F(SignedSenderTest, S3SigningSendsThePayloadHash) {
  HttpRequest request;
  request.method = "PUT";
  request.url = "http://127.0.0.1:4569/bucket/a%20key";
  request.body = "data";
  ASSERT_TRUE(Sender(S3Signing(), ClassifyS3Error).Send("PutObject", request));
  const HttpRequest sent = transport_->requests().at(0);
  ASSERT_NE(sent.Header("x-amz-content-sha256"), nullptr);
  EXPECT_EQ(sent.Header("x-amz-content-sha256")->size(), 64u);
  EXPECT_NE(sent.Header("Authorization")->find("/s3/aws4_request"), std::string::npos);
}

TEST_F(SignedSenderTest, SendingAgainSignsAgainWithOneAuthorizationHeader) {
  HttpRequest request = Post();
  SignedSender sender = Sender();
  ASSERT_TRUE(sender.Send("ListShards", request));
  clock_.Advance(90s);
  ASSERT_TRUE(sender.Send("ListShards", request));
  const auto sent = transport_->requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(*sent[0].Header("X-Amz-Date"), *sent[1].Header("X-Amz-Date"));
  EXPECT_NE(*sent[0].Header("Authorization"), *sent[1].Header("Authorization"));
  EXPECT_EQ(std::count_if(sent[1].headers.begin(), sent[1].headers.end(),
                          [](const HttpHeader& h) { return h.name == "Authorization"; }),
            1);
}

TEST_F(SignedSenderTest, ACredentialsErrorIsReportedOnceWithTheHintAndNothingIsSent) {
  auto failing = std::make_shared<FailingCredentials>(
      Error(ErrorCode::kAuth, "no AWS credentials found. Tried, in order: 1) the environment."));
  credentials_ = failing;
  HttpRequest request = Post();
  auto r = Sender().Send("ListShards", request);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kAuth);
  EXPECT_FALSE(r.error().retriable());
  const std::string& m = r.error().message();
  EXPECT_TRUE(m.starts_with("ListShards: no AWS credentials found")) << m;
  EXPECT_EQ(Count(m, "ListShards"), 1u) << m;
  EXPECT_EQ(Count(m, kCredentialsHint), 1u) << m;
  EXPECT_EQ(failing->calls, 1);
  EXPECT_TRUE(transport_->requests().empty());

  // A message that already carries the hint does not get it twice.
  credentials_ = std::make_shared<FailingCredentials>(
      Error(ErrorCode::kAuth, "expired" + std::string(kCredentialsHint)));
  r = Sender().Send("ListShards", request);
  ASSERT_FALSE(r);
  EXPECT_EQ(Count(r.error().message(), kCredentialsHint), 1u) << r.error().message();
}

TEST_F(SignedSenderTest, AnswersAreClassifiedForTheRetryPolicy) {
  struct Case {
    long status;
    std::string body;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {500, R"({"__type":"InternalFailure","message":"boom"})", ErrorCode::kUnavailable},
      {502, "<html>bad gateway</html>", ErrorCode::kUnavailable},
      {503, "", ErrorCode::kThrottled},
      {400, R"({"__type":"ProvisionedThroughputExceededException"})", ErrorCode::kThrottled},
      {400, R"({"__type":"ResourceNotFoundException"})", ErrorCode::kNotFound},
      {400, R"({"__type":"ValidationException","message":"bad"})", ErrorCode::kInvalidArgument},
      {403, "", ErrorCode::kAuth},
      {404, "", ErrorCode::kNotFound},
  };
  for (const Case& c : cases) {
    transport_->Answer(c.status, c.body);
    HttpRequest request = Post();
    auto r = Sender().Send("ListShards", request);
    ASSERT_FALSE(r) << c.status;
    EXPECT_EQ(r.error().code(), c.code) << c.status << " " << c.body;
    EXPECT_TRUE(r.error().message().starts_with("ListShards: ")) << r.error().message();
    EXPECT_EQ(r.error().retriable(),
              c.code == ErrorCode::kUnavailable || c.code == ErrorCode::kThrottled);
    if (c.code == ErrorCode::kAuth) {
      EXPECT_EQ(Count(r.error().message(), kCredentialsHint), 1u) << r.error().message();
    }
  }
  // A dropped connection is the transport's retriable error, named.
  transport_->Drop("connection reset by peer");
  HttpRequest request = Post();
  auto r = Sender().Send("ListShards", request);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kConnection);
  EXPECT_TRUE(r.error().retriable());
  EXPECT_EQ(r.error().message(), "ListShards: connection reset by peer");
}

TEST_F(SignedSenderTest, AnExpiredTokenAnswerRenewsTheCredentialsAndSendsOnceMore) {
  auto renewing = std::make_shared<RenewingCredentials>(
      Credentials{"ASIAOLD", kSecret, "old-token"}, Credentials{"ASIANEW", kSecret, "new-token"});
  credentials_ = renewing;
  transport_->Answer(400, R"({"__type":"ExpiredTokenException","message":"expired"})");
  transport_->Answer(200, R"({"Shards":[]})");
  HttpRequest request = Post();
  auto r = Sender().Send("ListShards", request);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(renewing->invalidations, 1);
  ASSERT_EQ(transport_->requests().size(), 2u);
  EXPECT_EQ(*transport_->requests()[0].Header("X-Amz-Security-Token"), "old-token");
  EXPECT_EQ(*transport_->requests()[1].Header("X-Amz-Security-Token"), "new-token");
  EXPECT_NE(transport_->requests()[1].Header("Authorization")->find("Credential=ASIANEW/"),
            std::string::npos);

  // S3's XML code too; and a second expiry in a row is the caller's error.
  transport_->Answer(403, "<Error><Code>ExpiredToken</Code></Error>");
  HttpRequest again = Post();
  auto failed = Sender(S3Signing(), ClassifyS3Error).Send("GetObject", again);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kAuth);
  EXPECT_EQ(transport_->requests().size(), 3u);  // the same ones back: not sent again
}

TEST_F(SignedSenderTest, LongTermKeysAreNotRenewedOnAnExpiredTokenAnswer) {
  auto renewing = std::make_shared<RenewingCredentials>(Credentials{"AKIDOLD", kSecret, ""},
                                                        Credentials{"AKIDNEW", kSecret, ""});
  credentials_ = renewing;
  transport_->Answer(400, R"({"__type":"ExpiredTokenException"})");
  HttpRequest request = Post();
  EXPECT_FALSE(Sender().Send("ListShards", request));
  EXPECT_EQ(renewing->invalidations, 0);
  EXPECT_EQ(transport_->requests().size(), 1u);
}

TEST_F(SignedSenderTest, A404IsAnAnswerOnlyWhenAskedFor) {
  transport_->Answer(404, "");
  HttpRequest request;
  request.method = "HEAD";
  request.url = "http://127.0.0.1:4569/bucket/key";
  auto r = Sender(S3Signing(), ClassifyS3Error).Send("HeadObject", request, true);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 404);
}

TEST_F(SignedSenderTest, NoSecretOfTheRequestEverAppearsInAnError) {
  // A server that quotes the Authorization header and the token back.
  transport_->Answer(403, R"({"__type":"InvalidSignatureException","message":"got {auth} and )"
                          R"({token}"})");
  transport_->Answer(500, "<Error><Code>InternalError</Code><Message>{auth}</Message></Error>");
  transport_->Drop("proxy said: {auth}");
  std::vector<std::pair<SignedSender, std::string>> senders = {
      {Sender(), "json"}, {Sender(S3Signing(), ClassifyS3Error), "s3"}, {Sender(), "transport"}};
  for (auto& [sender, name] : senders) {
    HttpRequest request = Post();
    auto r = sender.Send("Op", request);
    ASSERT_FALSE(r) << name;
    const HttpRequest sent = transport_->requests().back();
    const std::string& auth = *sent.Header("Authorization");
    const std::string signature = auth.substr(auth.find("Signature=") + 10);
    const std::string& m = r.error().message();
    EXPECT_EQ(m.find(auth), std::string::npos) << name << ": " << m;
    EXPECT_EQ(m.find(signature), std::string::npos) << name << ": " << m;
    EXPECT_EQ(m.find(kToken), std::string::npos) << name << ": " << m;
    EXPECT_EQ(m.find(kSecret), std::string::npos) << name << ": " << m;
    EXPECT_NE(m.find("***"), std::string::npos) << name << ": what was there is marked: " << m;
  }
}

}  // namespace
}  // namespace kc::aws
