// The one way each kind of thing a component reaches is checked online
// (component/check.h): read-only calls, each answer a Checked.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "clients/aws/aws_context.h"
#include "component/check.h"

namespace kc::component {

// Whether a table a component creates when it is missing may be missing.
enum class IfMissing { kFail, kCreated };

// What the component does there. A writer's credentials may lack the read
// permission the question needs (s3:ListBucket, kinesis:DescribeStream-
// Summary): a refusal then cannot tell, and is not a failure; a refused
// write shows at the first batch.
enum class Use { kRead, kWrite };

// HeadBucket: the bucket exists and these credentials reach it. Buckets
// are only written to (Use::kWrite).
Checked ProbeBucket(const aws::AwsContext& aws, const RetryPolicy& retry,
                    const std::string& bucket);

// DescribeStreamSummary: the stream exists and is ACTIVE (or UPDATING).
Checked ProbeStream(const aws::AwsContext& aws, const RetryPolicy& retry, const std::string& stream,
                    Use use);

// DescribeTable: the table exists and is ACTIVE (or UPDATING), with the
// key schema `hash_key` and `range_key` (empty: none) when `hash_key` is
// given.
Checked ProbeDynamoTable(const aws::AwsContext& aws, const RetryPolicy& retry,
                         const std::string& table, std::string_view hash_key,
                         std::string_view range_key, IfMissing missing);

// On the database at `url` (libpq connection string; shown only as
// host:port/db): the table's columns from the catalog (no grant on the
// table needed, no lock waited for), each of `columns` among them, then
// has_table_privilege for each of `privileges` ("INSERT", ...). A table
// that may be missing needs CREATE on its schema. PostgreSQL and Redshift
// both answer these.
Checked ProbeSqlTable(const std::string& url, const std::string& table,
                      std::span<const std::string> columns,
                      std::span<const std::string_view> privileges, IfMissing missing);

// A directory that files go into: there and writable, or missing under a
// writable directory (the component creates it). A relative path is taken
// from this process's working directory, and shown whole.
Checked ProbeDirectory(const std::filesystem::path& directory);

}  // namespace kc::component
