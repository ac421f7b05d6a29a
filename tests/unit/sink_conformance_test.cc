// The sink conformance suite (support/sink_conformance.h) for the sinks
// that unit tests reach: files and standard output on the local file
// system, S3, S3 with a manifest stream and Kinesis against the fakes behind
// the HTTP transport seam. PostgreSQL, Redshift and DynamoDB run it against
// their stand-ins in tests/integration/sink_conformance_it.cc.
//
// Records are JSON objects {"n":<i>,"name":"r<i>"}; the sinks that format
// write CSV rows "<i>,r<i>", so a record that is not a JSON object is one
// they refuse.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "base/files.h"
#include "sinks/file/file_emitter.h"
#include "sinks/kinesis/kinesis_emitter.h"
#include "sinks/s3/s3_emitter.h"
#include "sinks/s3_manifest/s3_manifest_emitter.h"
#include "sinks/stdout/stdout_emitter.h"
#include "support/breakable_transport.h"
#include "support/fake_kinesis.h"
#include "support/fake_s3.h"
#include "support/sink_conformance.h"
#include "support/temp_dir.h"

namespace kc::testing {
namespace {

namespace fs = std::filesystem;

std::string JsonRecord(int i) {
  return R"({"n":)" + std::to_string(i) + R"(,"name":"r)" + std::to_string(i) + R"("})";
}

emitter::CsvColumns Columns() { return *emitter::CsvColumns::Parse({"n", "name"}, ','); }

// The record numbers of CSV text "<i>,r<i>\n..."; a body with no rows is
// reported as -1, so an empty file or object fails the suite's checks.
void AppendRows(const std::string& text, std::vector<int>& out) {
  if (text.empty()) {
    out.push_back(-1);
    return;
  }
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out.push_back(std::stoi(line));
}

std::string ReadFile(const fs::path& path) {
  auto text = util::ReadFile(path.string());
  EXPECT_TRUE(text) << text.error().ToString();
  return text ? *text : std::string();
}

std::shared_ptr<aws::CredentialsProvider> Credentials() {
  return std::make_shared<aws::StaticCredentialsProvider>(
      aws::Credentials{"AKIDEXAMPLE", "secret", ""});
}

// A Kinesis client over `transport`, making one attempt per call as the
// daemon builds it for sinks (the emitter retries).
std::shared_ptr<kinesis::KinesisClient> KinesisOver(std::shared_ptr<aws::HttpTransport> transport,
                                                    Clock* clock) {
  aws::AwsJsonClientOptions options{.endpoint = "http://fake.invalid",
                                    .region = "us-east-1",
                                    .service = "kinesis",
                                    .target_prefix = "Kinesis_20131202"};
  return std::make_shared<kinesis::KinesisClient>(
      aws::AwsJsonClient(options, std::move(transport), Credentials(),
                         RetryPolicy(RetryOptions{.max_attempts = 1}, clock), clock));
}

std::shared_ptr<aws::S3Client> S3Over(std::shared_ptr<aws::HttpTransport> transport,
                                      RetryPolicy retry, Clock* clock) {
  return std::make_shared<aws::S3Client>(aws::S3Options{"http://127.0.0.1:9", "us-east-1", true},
                                         std::move(transport), Credentials(), retry, clock);
}

// Unreachable for a passing outage; refusing every request with `status`
// and `body` for a final one.
void BreakWire(BreakableTransport& wire, Outage outage, long status, const char* body) {
  if (outage == Outage::kTransient) {
    wire.Unreachable();
  } else {
    wire.Refuse(status, body);
  }
}

constexpr char kS3Refusal[] =
    "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
constexpr char kKinesisRefusal[] =
    R"({"__type":"AccessDeniedException","message":"not authorized to perform kinesis:PutRecords"})";

// --- Files: one file per batch under a directory.
class FileHarness final : public SinkHarness {
 public:
  std::unique_ptr<Emitter> Open(RetryPolicy retry, Clock*) override {
    return std::make_unique<emitter::FileEmitter>(dir_.path(), FileFormat::kCsv, Compression::kNone,
                                                  retry, Columns(),
                                                  /*direct_io=*/false);
  }
  std::string DataFor(int i) override { return JsonRecord(i); }
  std::vector<int> Delivered() override {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir_.path())) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<int> out;
    for (const auto& f : files) AppendRows(ReadFile(f), out);
    return out;
  }
  std::optional<std::string> BadData() override { return "not json"; }
  bool Break(Outage) override { return false; }
  void Heal() override {}

 private:
  TempDir dir_{"kc-sink-conformance"};
};

// --- Standard output, here a file the emitter appends to.
class StdoutHarness final : public SinkHarness {
 public:
  StdoutHarness() {
    path_ = dir_.path() + "/out.csv";
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  }
  ~StdoutHarness() override { ::close(fd_); }
  std::unique_ptr<Emitter> Open(RetryPolicy, Clock*) override {
    return std::make_unique<emitter::StdoutEmitter>(FileFormat::kCsv, fd_, Columns());
  }
  std::string DataFor(int i) override { return JsonRecord(i); }
  std::vector<int> Delivered() override {
    std::vector<int> out;
    const std::string text = ReadFile(path_);
    if (!text.empty()) AppendRows(text, out);
    return out;
  }
  std::optional<std::string> BadData() override { return "not json"; }
  bool Break(Outage) override { return false; }
  void Heal() override {}

 private:
  TempDir dir_{"kc-sink-conformance"};
  std::string path_;
  int fd_ = -1;
};

// --- S3: one object per batch.
class S3Harness : public SinkHarness {
 public:
  std::unique_ptr<Emitter> Open(RetryPolicy retry, Clock* clock) override {
    return std::make_unique<emitter::S3Emitter>(S3Over(s3_wire_, retry, clock), Settings());
  }
  std::string DataFor(int i) override { return JsonRecord(i); }
  std::vector<int> Delivered() override {
    std::vector<int> out;
    std::lock_guard lock(s3_->mu_);
    for (const auto& [url, body] : s3_->objects) AppendRows(body, out);
    return out;
  }
  std::optional<std::string> BadData() override { return "not json"; }
  bool Break(Outage outage) override {
    BreakWire(*s3_wire_, outage, 403, kS3Refusal);
    return true;
  }
  void Heal() override { s3_wire_->Heal(); }

 protected:
  static emitter::S3Settings Settings() {
    emitter::S3Settings settings;
    settings.bucket = "bkt";
    settings.prefix = "conformance";
    settings.format = FileFormat::kCsv;
    settings.csv = Columns();
    return settings;
  }

  std::shared_ptr<FakeS3> s3_ = std::make_shared<FakeS3>();
  std::shared_ptr<BreakableTransport> s3_wire_ = std::make_shared<BreakableTransport>(s3_);
};

// --- S3 objects whose keys go on a manifest stream: what the stream's
// reader loads is the objects its records name, in their order.
class S3ManifestHarness final : public S3Harness {
 public:
  S3ManifestHarness() { kinesis_->AddShard("shardId-000000000000"); }
  std::unique_ptr<Emitter> Open(RetryPolicy retry, Clock* clock) override {
    return std::make_unique<emitter::S3ManifestEmitter>(
        std::make_unique<emitter::S3Emitter>(S3Over(s3_wire_, retry, clock), Settings()),
        KinesisOver(kinesis_wire_, clock), "manifest", "", retry);
  }
  std::vector<int> Delivered() override {
    std::vector<int> out;
    for (const Record& r : kinesis_->Records("shardId-000000000000")) {
      std::lock_guard lock(s3_->mu_);
      auto object = s3_->objects.find("http://127.0.0.1:9/bkt/" + r.data);
      if (object == s3_->objects.end()) {
        ADD_FAILURE() << "the manifest names " << r.data << ", which is not in the bucket";
        continue;
      }
      AppendRows(object->second, out);
    }
    return out;
  }
  bool Break(Outage outage) override {
    S3Harness::Break(outage);
    BreakWire(*kinesis_wire_, outage, 400, kKinesisRefusal);
    return true;
  }
  void Heal() override {
    S3Harness::Heal();
    kinesis_wire_->Heal();
  }

 private:
  std::shared_ptr<FakeKinesis> kinesis_ = std::make_shared<FakeKinesis>();
  std::shared_ptr<BreakableTransport> kinesis_wire_ =
      std::make_shared<BreakableTransport>(kinesis_);
};

// --- Kinesis: records put on another stream, keyed by a field.
class KinesisHarness final : public SinkHarness {
 public:
  KinesisHarness() { kinesis_->AddShard("shardId-000000000000"); }
  std::unique_ptr<Emitter> Open(RetryPolicy retry, Clock* clock) override {
    emitter::KinesisSettings settings;
    settings.stream = "copy";
    settings.partition_key = emitter::KinesisSettings::KeySource::kField;
    settings.partition_key_field = *util::JsonPath::Parse("name");
    auto e = emitter::KinesisEmitter::Create(settings, KinesisOver(wire_, clock), retry, clock);
    EXPECT_TRUE(e) << e.error().ToString();
    return e ? std::move(*e) : nullptr;
  }
  std::string DataFor(int i) override { return JsonRecord(i); }
  std::vector<int> Delivered() override {
    std::vector<int> out;
    for (const Record& r : kinesis_->Records("shardId-000000000000")) {
      if (r.data != JsonRecord(std::stoi(r.data.substr(5)))) {
        ADD_FAILURE() << "landed as " << r.data;
      }
      out.push_back(std::stoi(r.data.substr(5)));  // after {"n":
    }
    return out;
  }
  std::optional<std::string> BadData() override { return "not json"; }
  bool Break(Outage outage) override {
    BreakWire(*wire_, outage, 400, kKinesisRefusal);
    return true;
  }
  void Heal() override { wire_->Heal(); }

 private:
  std::shared_ptr<FakeKinesis> kinesis_ = std::make_shared<FakeKinesis>();
  std::shared_ptr<BreakableTransport> wire_ = std::make_shared<BreakableTransport>(kinesis_);
};

template <typename Harness>
SinkFactory Sink(std::string name, bool exactly_once) {
  return SinkFactory{.name = std::move(name), .exactly_once = exactly_once, .make = [] {
                       return std::unique_ptr<SinkHarness>(new Harness);
                     }};
}

INSTANTIATE_TEST_SUITE_P(Sinks, SinkConformance,
                         ::testing::Values(Sink<FileHarness>("file", true),
                                           Sink<StdoutHarness>("stdout", false),
                                           Sink<S3Harness>("s3", true),
                                           Sink<S3ManifestHarness>("s3_manifest", false),
                                           Sink<KinesisHarness>("kinesis", false)),
                         PrintSinkName);

}  // namespace
}  // namespace kc::testing
