#include "component/probes.h"

#include <unistd.h>

#include <system_error>

#include "clients/dynamodb/client.h"
#include "clients/kinesis/kinesis_factory.h"
#include "clients/pg/connection.h"
#include "clients/s3/s3_client.h"

namespace kc::component {
namespace {

bool Usable(const std::string& status) { return status == "ACTIVE" || status == "UPDATING"; }

std::string Plural(int n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

// `e` with what to do when it says the thing is not there or not allowed.
// (The services' own answers to a refused call name the credentials or the
// permission; S3's HEAD answer is only a status.)
Error WithFix(const Error& e, std::string_view missing, std::string_view denied = {}) {
  std::string_view fix;
  if (e.code() == ErrorCode::kNotFound) fix = missing;
  if (e.code() == ErrorCode::kAuth) fix = denied;
  if (fix.empty()) return e;
  std::string_view message = e.message();
  if (message.ends_with('.')) message.remove_suffix(1);
  return Error(e.code(), std::string(message) + "; " + std::string(fix));
}

}  // namespace

Checked ProbeBucket(const aws::AwsContext& aws, const RetryPolicy& retry,
                    const std::string& bucket) {
  Checked checked{"bucket " + bucket, ""};
  if (auto s = aws::MakeS3Client(aws, retry).HeadBucket(bucket); !s) {
    // A HEAD answer has no body to say more than its status.
    checked.found = Fail(WithFix(s.error(), "there is no such bucket: create it, or fix `bucket`",
                                 "the credentials are refused, or may not s3:ListBucket it"));
  } else {
    checked.found = "reachable";
  }
  return checked;
}

Checked ProbeStream(const aws::AwsContext& aws, const RetryPolicy& retry,
                    const std::string& stream) {
  Checked checked{"stream " + stream, ""};
  auto summary = kinesis::MakeKinesisClient(aws, retry).DescribeStreamSummary(stream);
  if (!summary) {
    checked.found = Fail(WithFix(summary.error(), "create the stream, or fix its name"));
  } else if (!Usable(summary->status)) {
    checked.found = Fail(ErrorCode::kUnavailable, "stream " + stream + " is " + summary->status +
                                                      ", not ACTIVE: it cannot be used now");
  } else {
    checked.found = summary->status + ", " + Plural(summary->open_shard_count, "open shard") +
                    ", " + std::to_string(summary->retention_hours) + " h retention";
  }
  return checked;
}

Checked ProbeDynamoTable(const aws::AwsContext& aws, const RetryPolicy& retry,
                         const std::string& table, std::string_view hash_key, IfMissing missing) {
  Checked checked{"table " + table, ""};
  const dynamodb::DynamoClient client = dynamodb::MakeDynamoClient(aws, retry);
  auto described = client.DescribeTable(table);
  if (!described) {
    if (described.error().code() == ErrorCode::kNotFound && missing == IfMissing::kCreated) {
      checked.found = "not there yet; it is created at the first load (dynamodb:CreateTable)";
    } else {
      checked.found = Fail(WithFix(described.error(), "create the table, or fix `table`"));
    }
  } else if (!Usable(described->status)) {
    checked.found = Fail(ErrorCode::kUnavailable, "table " + table + " of " + client.Describe() +
                                                      " is " + described->status +
                                                      ", not ACTIVE: it cannot be used now");
  } else if (!hash_key.empty() && described->hash_key != hash_key) {
    checked.found =
        Fail(ErrorCode::kConfig, "table " + table + " of " + client.Describe() + " has hash key '" +
                                     described->hash_key + "', not '" + std::string(hash_key) +
                                     "': it is another program's table; name another");
  } else {
    checked.found = described->status + ", hash key " + described->hash_key +
                    (described->range_key.empty() ? "" : ", range key " + described->range_key);
  }
  return checked;
}

Checked ProbeSqlTable(const std::string& url, const std::string& table,
                      std::span<const std::string> columns,
                      std::span<const std::string_view> privileges, IfMissing missing) {
  Checked checked{"table " + table, ""};
  pg::Connection conn(url, pg::ConnectOptions{.connect_timeout = std::chrono::seconds(5),
                                              .statement_timeout = std::chrono::seconds(10)});
  if (auto connected = conn.Connect(); !connected) {
    checked.found = Fail(connected.error());
    return checked;
  }
  const std::string quoted = pg::QuoteIdentifier(table);
  std::string select = "SELECT ";
  if (columns.empty()) select += "*";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) select += ", ";
    select += pg::QuoteIdentifier(columns[i]);
  }
  select += " FROM " + quoted + " LIMIT 0";
  if (auto selected = conn.Exec(select); !selected) {
    const Error& e = selected.error();
    if (pg::IsSqlState(e, "42P01") && missing == IfMissing::kCreated) {
      checked.found = "not there yet at " + conn.server() + "; it is created at the first load";
    } else if (pg::IsSqlState(e, "42P01")) {  // undefined table
      checked.found = Fail(e.code(), e.message() + "; create the table, or fix `table`");
    } else if (pg::IsSqlState(e, "42703")) {  // undefined column
      checked.found = Fail(e.code(), e.message() + "; add the column, or fix the column names");
    } else {
      checked.found = Fail(e);
    }
    return checked;
  }
  std::string may;
  for (std::string_view privilege : privileges) {
    auto granted =
        conn.Exec("SELECT has_table_privilege($1, $2)", {quoted, std::string(privilege)});
    if (!granted) {
      checked.found = Fail(granted.error());
      return checked;
    }
    if (granted->size() != 1 || granted->Get(0, 0) != "t") {
      checked.found = Fail(ErrorCode::kAuth, "PostgreSQL at " + conn.server() + ": table " + table +
                                                 ": the user may not " + std::string(privilege) +
                                                 " it; GRANT " + std::string(privilege) + " ON " +
                                                 quoted + " to the user of the url");
      return checked;
    }
    may += (may.empty() ? ", may " : " and ") + std::string(privilege);
  }
  checked.found = "there at " + conn.server() + may;
  return checked;
}

Checked ProbeDirectory(const std::filesystem::path& directory) {
  Checked checked{"directory " + directory.string(), ""};
  std::error_code ec;
  std::filesystem::path existing = directory;
  // The nearest directory that is there: the one the files go into, or the
  // one it is created in.
  while (!std::filesystem::exists(existing, ec)) {
    std::filesystem::path parent = existing.parent_path();
    if (parent.empty()) parent = ".";
    if (parent == existing) break;
    existing = std::move(parent);
  }
  if (!std::filesystem::is_directory(existing, ec)) {
    checked.found = Fail(ErrorCode::kConfig, existing.string() + " is not a directory; " +
                                                 "name a directory for the files");
    return checked;
  }
  if (::access(existing.c_str(), W_OK | X_OK) != 0) {
    checked.found =
        Fail(ErrorCode::kIo, "directory " + existing.string() + " is not writable by this user: " +
                                 std::error_code(errno, std::generic_category()).message());
    return checked;
  }
  if (existing == directory) {
    checked.found = "writable";
  } else {
    // Where it will be, whatever the working directory ("." is / for a
    // service).
    const std::filesystem::path where = std::filesystem::weakly_canonical(existing, ec);
    checked.found =
        "not there yet; it is created in " + (ec ? existing : where).string() + ", writable";
  }
  return checked;
}

}  // namespace kc::component
