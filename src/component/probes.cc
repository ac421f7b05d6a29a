#include "component/probes.h"

#include <unistd.h>

#include <set>
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

// `e` with what to do, when it says the thing is not there.
Error WithFix(const Error& e, std::string_view fix) {
  if (e.code() != ErrorCode::kNotFound) return e;
  std::string_view message = e.message();
  if (message.ends_with('.')) message.remove_suffix(1);
  return Error(e.code(), std::string(message) + "; " + std::string(fix));
}

// The line of a writer whose credentials may not ask (see Use).
std::string CannotTell(const Error& e, std::string_view permission) {
  return "cannot tell: " + e.message() + " (writing does not need " + std::string(permission) +
         "; a refused write shows at the first batch)";
}

}  // namespace

Checked ProbeBucket(const aws::AwsContext& aws, const RetryPolicy& retry,
                    const std::string& bucket) {
  Checked checked{"bucket " + bucket, ""};
  if (auto s = aws::MakeS3Client(aws, retry).HeadBucket(bucket); !s) {
    // A HEAD answer is only a status: a 403 may be credentials without
    // s3:ListBucket, which writers do not need.
    if (s.error().code() == ErrorCode::kAuth) {
      checked.found = CannotTell(s.error(), "s3:ListBucket");
    } else {
      checked.found =
          Fail(WithFix(s.error(), "there is no such bucket: create it, or fix `bucket`"));
    }
  } else {
    checked.found = "reachable";
  }
  return checked;
}

Checked ProbeStream(const aws::AwsContext& aws, const RetryPolicy& retry, const std::string& stream,
                    Use use) {
  Checked checked{"stream " + stream, ""};
  auto summary = kinesis::MakeKinesisClient(aws, retry).DescribeStreamSummary(stream);
  if (!summary) {
    const Error& e = summary.error();
    // Only a refused permission; a bad signature or key fails as it would
    // for the writes.
    if (use == Use::kWrite && e.code() == ErrorCode::kAuth &&
        e.message().find("AccessDenied") != std::string::npos) {
      checked.found = CannotTell(e, "kinesis:DescribeStreamSummary");
    } else {
      checked.found = Fail(WithFix(e, "create the stream, or fix its name"));
    }
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
                         const std::string& table, std::string_view hash_key,
                         std::string_view range_key, IfMissing missing) {
  Checked checked{"table " + table, ""};
  const dynamodb::DynamoClient client = dynamodb::MakeDynamoClient(aws, retry);
  auto described = client.DescribeTable(table);
  auto key_text = [](std::string_view hash, std::string_view range) {
    return "hash key " + std::string(hash) +
           (range.empty() ? std::string() : ", range key " + std::string(range));
  };
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
  } else if (!hash_key.empty() &&
             (described->hash_key != hash_key || described->range_key != range_key)) {
    checked.found =
        Fail(ErrorCode::kConfig, "table " + table + " of " + client.Describe() + " has " +
                                     key_text(described->hash_key, described->range_key) +
                                     ", not " + key_text(hash_key, range_key) +
                                     ": fix hash_key and range_key, or name the table they fit");
  } else {
    checked.found = described->status + ", " + key_text(described->hash_key, described->range_key);
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
  const std::string at = "PostgreSQL at " + conn.server() + ": table " + table;
  const std::string quoted = pg::QuoteIdentifier(table);
  // The catalog answers without a grant on the table and without waiting
  // for its locks (and, on Redshift, on the leader node alone).
  auto found = conn.Exec(
      "SELECT attname FROM pg_catalog.pg_attribute"
      " WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped",
      {quoted});
  if (!found) {
    const Error& e = found.error();
    if (!pg::IsSqlState(e, "42P01") && !pg::IsSqlState(e, "3F000")) {
      checked.found = Fail(e);
    } else if (missing == IfMissing::kFail || pg::IsSqlState(e, "3F000")) {
      checked.found = Fail(ErrorCode::kNotFound,
                           e.message() + "; create it, or fix `table` (schema.table names both)");
    } else {
      // Created at the first load: the user needs CREATE on its schema.
      const size_t dot = table.find('.');
      std::optional<std::string> schema;
      if (dot != std::string::npos) schema = table.substr(0, dot);
      auto may = conn.Exec(
          "SELECT has_schema_privilege(COALESCE($1::text, current_schema()), 'CREATE')", {schema});
      if (!may) {
        checked.found = Fail(may.error());
      } else if (may->size() != 1 || may->Get(0, 0) != "t") {
        checked.found =
            Fail(ErrorCode::kAuth,
                 at + ": not there, and the user may not create it; " + "GRANT CREATE ON SCHEMA " +
                     (schema ? pg::QuoteIdentifier(*schema) : std::string("<its schema>")) +
                     " to the user of the url, or create the table");
      } else {
        checked.found = "not there yet at " + conn.server() + "; it is created at the first load";
      }
    }
    return checked;
  }
  std::set<std::string, std::less<>> names;
  for (int i = 0; i < found->size(); ++i) names.emplace(found->Get(i, 0));
  for (const std::string& column : columns) {
    if (names.contains(column)) continue;
    std::string has;
    for (const std::string& name : names) has += (has.empty() ? "" : ", ") + name;
    checked.found =
        Fail(ErrorCode::kConfig, at + " has no column \"" + column + "\" (it has " + has +
                                     "); add the column, or fix the column names");
    return checked;
  }
  std::string may;
  for (std::string_view privilege : privileges) {
    auto granted = conn.Exec("SELECT has_table_privilege($1::text, $2::text)",
                             {quoted, std::string(privilege)});
    if (!granted) {
      checked.found = Fail(granted.error());
      return checked;
    }
    if (granted->size() != 1 || granted->Get(0, 0) != "t") {
      checked.found = Fail(ErrorCode::kAuth, at + ": the user may not " + std::string(privilege) +
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
  // one it is created in. Any answer but "not there" ends the climb.
  while (!std::filesystem::exists(existing, ec)) {
    if (ec) break;
    std::filesystem::path parent = existing.parent_path();
    if (parent.empty()) parent = ".";
    if (parent == existing) break;
    existing = std::move(parent);
  }
  if (ec) {
    checked.found = Fail(ErrorCode::kIo, existing.string() + ": " + ec.message());
    return checked;
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
  // A relative path is shown whole: the working directory of a service
  // (its state directory) may not be this one's.
  const std::filesystem::path whole = std::filesystem::weakly_canonical(existing, ec);
  const std::string where = (ec ? existing : whole).string();
  if (existing == directory) {
    checked.found = directory.is_relative() ? "writable, at " + where : std::string("writable");
  } else {
    checked.found = "not there yet; it is created in " + where + ", writable";
  }
  return checked;
}

}  // namespace kc::component
