#include "sinks/kinesis/config.h"

#include <array>
#include <string_view>

#include "clients/aws/aws_context.h"
#include "clients/aws/endpoint.h"
#include "clients/kinesis/kinesis_factory.h"
#include "component/probes.h"
#include "config/reader.h"
#include "sinks/kinesis/kinesis_emitter.h"
#include "sinks/util/settings.h"

namespace kc::emitter {
namespace {

using config::Need;
using config::TableReader;

constexpr std::array<std::string_view, 3> kPartitionKeySources = {"source", "field", "constant"};

}  // namespace

// partition_key = "field" needs partition_key_field, "constant" needs
// partition_key_value; neither key goes with another choice.
std::unique_ptr<component::SinkConfig> ReadKinesisSink(TableReader& reader,
                                                       const component::SinkReadContext& context) {
  using KeySource = KinesisSettings::KeySource;
  auto sink = std::make_unique<KinesisSinkConfig>();
  KinesisSettings* emitter = &sink->records;
  ReadServiceLocation(reader, &sink->region, &sink->endpoint);
  config::ReadRole(reader, &sink->role);
  // A stream of the same name in another region or at another endpoint is
  // another stream: a copy of a stream into a second region keeps its name.
  const bool elsewhere = !sink->region.empty() || !sink->endpoint.empty();
  if (std::optional<std::string> stream = reader.NonEmptyString("stream", Need::kRequired)) {
    if (!config::IsStreamName(*stream)) {
      reader.Report("stream", config::kStreamNameRule);
    } else if (!elsewhere && *stream == context.stream) {
      // Each record put would be read back and put again, forever.
      reader.Report("stream",
                    "must differ from the pipeline's own stream: the pipeline would "
                    "read the records it puts back and put them again, without end");
    } else if (!elsewhere && *stream == context.dead_letter_stream) {
      reader.Report("stream",
                    "must differ from the dead-letter stream: dead letters and delivered "
                    "records would be mixed on one stream");
    } else {
      emitter->stream = *stream;
    }
  }
  if (std::optional<bool> ordered = reader.Bool("ordered", Need::kOptional)) {
    emitter->ordered = *ordered;
  }
  std::optional<std::string> source =
      reader.Choice("partition_key", Need::kOptional, "partition key source", kPartitionKeySources);
  if (reader.Has("partition_key") && !source) {
    // Reported; which of the keys below belong cannot be told.
    reader.Get("partition_key_field", Need::kOptional);
    reader.Get("partition_key_value", Need::kOptional);
    return sink;
  }
  if (source == "field") emitter->partition_key = KeySource::kField;
  if (source == "constant") emitter->partition_key = KeySource::kConstant;
  const bool field = emitter->partition_key == KeySource::kField;
  const bool constant = emitter->partition_key == KeySource::kConstant;
  if (field && !reader.Has("partition_key_field")) {
    reader.Report("partition_key_field",
                  "partition_key = \"field\" needs partition_key_field = \"user.id\", the dotted "
                  "path of the field of each JSON record that holds its partition key");
  }
  if (std::optional<std::string> path = reader.String("partition_key_field", Need::kOptional)) {
    if (!field) {
      reader.Report("partition_key_field",
                    "'partition_key_field' is only used with partition_key = \"field\"");
    } else if (Result<util::JsonPath> parsed = util::JsonPath::Parse(*path); !parsed) {
      reader.Report("partition_key_field", parsed.error().message());
    } else {
      emitter->partition_key_field = std::move(*parsed);
    }
  }
  if (constant && !reader.Has("partition_key_value")) {
    reader.Report("partition_key_value",
                  "partition_key = \"constant\" needs partition_key_value = \"...\", the "
                  "partition key of every record");
  }
  if (std::optional<std::string> value = reader.String("partition_key_value", Need::kOptional)) {
    const size_t length = kinesis::PartitionKeyLength(*value);
    if (!constant) {
      reader.Report("partition_key_value",
                    "'partition_key_value' is only used with partition_key = \"constant\"");
    } else if (length == 0 || length > kinesis::kMaxPartitionKeyLength) {
      reader.Report("partition_key_value",
                    "must have 1 to 256 characters, as Kinesis partition keys do");
    } else {
      emitter->partition_key_value = *value;
    }
  }
  return sink;
}

AwsConfig KinesisSinkConfig::Target(const AwsConfig& pipeline) const {
  return aws::WithRole(aws::MovedTo(pipeline, "kinesis", region, endpoint), role);
}

Result<std::shared_ptr<Emitter>> KinesisSinkConfig::Build(
    const component::SinkContext& context) const {
  auto sink = aws::MakeAwsContext(Target(context.aws));
  if (!sink) return Fail(sink.error());
  auto source = aws::MakeAwsContext(context.aws);
  if (!source) return Fail(source.error());
  // Named with its own region or endpoint, the target may still, once both
  // are resolved, be the stream the pipeline reads (the default region
  // written out, say): each record put would be read back and put again.
  if (records.stream == context.pipeline.stream) {
    const std::string from = aws::ServiceEndpoint(source->config, "kinesis", source->region);
    const std::string to = aws::ServiceEndpoint(sink->config, "kinesis", sink->region);
    if (from == to && source->region == sink->region) {
      return Fail(ErrorCode::kConfig,
                  "emitter.stream '" + records.stream + "' in " + sink->region + " at " + to +
                      " is the stream the pipeline reads; it would read the records it puts "
                      "back and put them again, without end. Name another stream, or another "
                      "region or endpoint");
    }
  }
  // One attempt per call: the emitter sends refused records and failed
  // calls again itself, and nested retries would multiply the waits.
  auto client = std::make_shared<kinesis::KinesisClient>(
      kinesis::MakeKinesisClient(*sink, RetryPolicy(RetryOptions{.max_attempts = 1})));
  auto emitter = KinesisEmitter::Create(records, std::move(client));
  if (!emitter) return Fail(emitter.error());
  return std::shared_ptr<Emitter>(std::move(*emitter));
}

component::Checks KinesisSinkConfig::Check(const component::CheckContext& context) const {
  auto aws = aws::MakeAwsContext(Target(context.aws));
  if (!aws) return {{"stream " + records.stream, Fail(aws.error())}};
  return {component::ProbeStream(*aws, context.retry, records.stream, component::Use::kWrite)};
}

}  // namespace kc::emitter
