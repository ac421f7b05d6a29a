// A program that assembles its own pipeline from the library: a custom
// transformer that wraps each record in a JSON object with its partition key,
// and a custom filter that drops heartbeat records (data "heartbeat..."), feeding the built-in file
// emitter and file checkpoint store.
//
//   custom_pipeline STREAM OUTPUT_DIR [ENDPOINT]
//
// Reads until every shard is caught up, then exits. Credentials and region
// come from the standard AWS chain (environment, shared files).
#include <cstdio>
#include <string>

#include "kc/builtins.h"
#include "kc/pipeline.h"

namespace {

// bytes → {"key": "<partition key>", "body": "<data>"} (data must be text).
class KeyedJsonTransformer final : public kc::Transformer {
 public:
  kc::Status Transform(kc::Record& record) override {
    for (unsigned char c : record.data) {
      if (c < 0x20 || c == '"' || c == '\\') {
        return kc::Fail(kc::ErrorCode::kParse, "this example accepts plain text only");
      }
    }
    record.data = "{\"key\":\"" + record.partition_key + "\",\"body\":\"" + record.data + "\"}";
    return kc::Ok();
  }
};

// Drops heartbeats. Filters see records after the transformer, so this
// looks at the body the transformer wrapped.
class NoHeartbeats final : public kc::Filter {
 public:
  kc::Result<bool> Keep(const kc::Record& record) override {
    return record.data.find(",\"body\":\"heartbeat") == std::string::npos;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s STREAM OUTPUT_DIR [ENDPOINT]\n", argv[0]);
    return 2;
  }
  kc::AwsConfig aws;
  if (argc > 3) aws.endpoint = argv[3];

  kc::PipelineOptions options;
  options.name = "custom";
  options.stream = argv[1];
  options.buffer.max_records = 100;

  kc::PipelineParts parts;
  parts.transformer = std::make_shared<KeyedJsonTransformer>();
  parts.filter = std::make_shared<NoHeartbeats>();
  parts.emitter = kc::MakeFileEmitter(argv[2], kc::FileFormat::kLines);
  parts.checkpoints = kc::MakeFileCheckpointStore(std::string(argv[2]) + "/.checkpoints", "custom");

  auto pipeline = kc::Pipeline::Create(aws, options, std::move(parts), /*once=*/true);
  if (!pipeline) {
    std::fprintf(stderr, "%s\n", pipeline.error().message().c_str());
    return 1;
  }
  auto status = (*pipeline)->Run({}, {});
  if (!status) {
    std::fprintf(stderr, "%s\n", status.error().message().c_str());
    return 1;
  }
  auto stats = (*pipeline)->stats();
  std::printf("%llu records read, %llu written, %llu dropped\n",
              static_cast<unsigned long long>(stats.records_read),
              static_cast<unsigned long long>(stats.records_emitted),
              static_cast<unsigned long long>(stats.records_filtered));
  return 0;
}
