#include "stores/dynamodb/config.h"

#include "clients/aws/aws_context.h"
#include "component/probes.h"
#include "config/reader.h"
#include "stores/dynamodb/dynamodb_checkpoint_store.h"
#include "stores/dynamodb/dynamodb_lease_table.h"

namespace kc::checkpoint {

std::unique_ptr<component::StoreConfig> ReadDynamoDbStore(
    config::TableReader& reader, const component::StoreReadContext& context) {
  using config::Need;
  auto store = std::make_unique<DynamoDbStoreConfig>();
  if (auto table = reader.String("table", Need::kOptional)) {
    if (auto problem = config::DynamoTableProblem(*table)) {
      reader.Report("table", *problem);
    } else {
      store->table = *table;
    }
  }
  if (reader.Has("url")) {
    reader.Get("url", Need::kOptional);
    reader.Report("url", "'url' is used by checkpoint stores 'redis' and 'postgres' only");
  }
  // The app names the table unless `table` does.
  if (!reader.Has("table") && reader.Has("app")) {
    if (auto not_a_table = config::DynamoTableProblem(context.app)) {
      reader.Report("app", "names the DynamoDB checkpoint table, so it " + *not_a_table +
                               "; or give the table its own name with table = \"...\"");
    }
  }
  return store;
}

Result<std::shared_ptr<CheckpointStore>> DynamoDbStoreConfig::Build(
    const component::StoreContext& context) const {
  auto aws = aws::MakeAwsContext(context.aws);
  if (!aws) return Fail(aws.error().With("checkpoint store dynamodb"));
  // One attempt per call: the pipeline retries checkpoint loads and saves.
  return std::make_shared<DynamoDbCheckpointStore>(
      dynamodb::MakeDynamoClient(*aws, RetryPolicy(RetryOptions{.max_attempts = 1})),
      table.empty() ? context.app : table);
}

Result<std::shared_ptr<LeaseTable>> DynamoDbStoreConfig::BuildLeases(
    const component::StoreContext& context, const std::string& lease_table,
    std::chrono::milliseconds call_timeout) const {
  // A renewal that hangs must not outlast the lease it renews.
  AwsConfig aws_config = context.aws;
  aws_config.request_timeout = std::min(aws_config.request_timeout, call_timeout);
  auto aws = aws::MakeAwsContext(aws_config);
  if (!aws) return Fail(aws.error().With("lease table " + lease_table));
  // One attempt per call: the lease coordinator and the pipeline retry.
  return std::make_shared<DynamoDbLeaseTable>(
      dynamodb::MakeDynamoClient(*aws, RetryPolicy(RetryOptions{.max_attempts = 1})), lease_table);
}

component::Checks DynamoDbStoreConfig::CheckLeases(const component::CheckContext& context,
                                                   const std::string& lease_table) const {
  auto aws = aws::MakeAwsContext(context.aws);
  if (!aws) return {{"lease table " + lease_table, Fail(aws.error())}};
  auto checked = component::ProbeDynamoTable(*aws, context.retry, lease_table,
                                             DynamoDbCheckpointStore::kHashKey, "",
                                             component::IfMissing::kCreated);
  checked.subject = "lease table " + lease_table;
  return {checked};
}

component::Checks DynamoDbStoreConfig::Check(const component::CheckContext& context) const {
  const std::string name = table.empty() ? std::string(context.app) : table;
  auto aws = aws::MakeAwsContext(context.aws);
  if (!aws) return {{"table " + name, Fail(aws.error())}};
  return {component::ProbeDynamoTable(*aws, context.retry, name, DynamoDbCheckpointStore::kHashKey,
                                      "", component::IfMissing::kCreated)};
}

}  // namespace kc::checkpoint
