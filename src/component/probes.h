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

// HeadBucket: the bucket exists and these credentials reach it.
Checked ProbeBucket(const aws::AwsContext& aws, const RetryPolicy& retry,
                    const std::string& bucket);

// DescribeStreamSummary: the stream exists and is ACTIVE (or UPDATING).
Checked ProbeStream(const aws::AwsContext& aws, const RetryPolicy& retry,
                    const std::string& stream);

// DescribeTable: the table exists and is ACTIVE (or UPDATING), and its hash
// key is `hash_key` when one is given.
Checked ProbeDynamoTable(const aws::AwsContext& aws, const RetryPolicy& retry,
                         const std::string& table, std::string_view hash_key, IfMissing missing);

// On the database at `url` (libpq connection string; never shown but
// redacted): `SELECT <columns> FROM <table> LIMIT 0` (every column when
// none are named), then has_table_privilege for each of `privileges`
// ("INSERT", ...). Both PostgreSQL and Redshift answer these.
Checked ProbeSqlTable(const std::string& url, const std::string& table,
                      std::span<const std::string> columns,
                      std::span<const std::string_view> privileges, IfMissing missing);

// A directory that files go into: there and writable, or missing under a
// writable directory (the component creates it).
Checked ProbeDirectory(const std::filesystem::path& directory);

}  // namespace kc::component
