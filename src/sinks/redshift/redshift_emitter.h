// RedshiftEmitter: the second half of the S3 → Redshift flow. It reads a
// manifest stream (written by the s3_manifest emitter): each record names an
// S3 object, and each batch of them is loaded into a table with COPY.
//
// Exactly once per object: the emitter keeps a table of loaded object URLs
// (`file_table`, created if missing) and, in one transaction per batch,
//   1. locks that table (two loaders never load the same object),
//   2. drops the objects it already lists (a replayed batch, or a key the
//      manifest stream carries twice, loads nothing again),
//   3. mode "manifest": writes a Redshift manifest of the rest to
//      s3://<bucket>/<manifest_prefix><stream>/<shard>/<first>-<last>.manifest
//      (the same key when a batch is replayed),
//   4. inserts the rest into the file table and COPYs them (one COPY ...
//      MANIFEST; or, mode "basic", one COPY per object),
//   5. commits. The rows and the record of their objects commit together.
//
// load_target "postgres" runs the same flow against PostgreSQL, which
// cannot read S3: the emitter reads the manifest back, fetches each object,
// decompresses it and sends it with COPY ... FROM STDIN.
//
// Credentials for COPY: IAM_ROLE when configured, else the keys of the AWS
// credential chain at COPY time. Statements carrying keys never reach a log
// or an error message: those show a redacted rendering.
//
// Failures: connection losses, serialization failures and S3 unavailability
// roll back and retry the whole transaction with the retry policy; other
// errors (a missing object, a row COPY rejects) are final. A record that
// cannot name an object (empty, not UTF-8, control characters) is a bad
// record, an error naming it, and nothing of its batch is loaded.
//
// Thread-safety: Emit may be called concurrently for different shards.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/retry.h"
#include "clients/aws/credentials.h"
#include "clients/pg/connection.h"
#include "clients/s3/s3_client.h"
#include "kc/emitter.h"
#include "sinks/redshift/config.h"

namespace kc::emitter {

class RedshiftEmitter final : public Emitter {
 public:
  // REQUIRES: validated settings. `credentials`
  // are used for COPY when no iam_role is configured (the S3 client's own).
  RedshiftEmitter(const RedshiftSettings& config, std::shared_ptr<aws::S3Client> s3,
                  std::shared_ptr<aws::CredentialsProvider> credentials,
                  RetryPolicy retry = RetryPolicy());

  Status Emit(const Batch& batch, std::stop_token stop) override;
  std::string Describe() const override;

  // Where the objects a record names may be: keys of `bucket` (under
  // `key_prefix` when set) and any key of `allowed_buckets`.
  struct ObjectScope {
    std::string bucket;
    std::vector<std::string> allowed_buckets;
    std::string key_prefix;
  };
  // The object URLs a batch names, in order, repeats dropped. A record that
  // cannot name an object, or names one outside `scope`, is a
  // kInvalidArgument error naming its shard and sequence number (a bad
  // record: the pipeline sets it apart).
  static Result<std::vector<std::string>> ObjectUrls(const Batch& batch, const ObjectScope& scope);

 private:
  const ObjectScope& Scope() const { return scope_; }
  Status Attempt(const Batch& batch, const std::vector<std::string>& urls, std::stop_token stop);
  Status EnsureFileTable(pg::Connection& conn);
  Result<std::vector<std::string>> NotLoaded(pg::Connection& conn,
                                             const std::vector<std::string>& urls);
  Status MarkLoaded(pg::Connection& conn, std::span<const std::string> urls);
  Status CopyFromS3(pg::Connection& conn, const std::string& source_url, bool manifest);
  Status CopyObject(pg::Connection& conn, const std::string& url, std::stop_token stop);

  RedshiftSettings config_;
  std::shared_ptr<aws::S3Client> s3_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  RetryPolicy retry_;
  pg::Pool pool_;
  std::string file_table_;     // quoted
  std::string postgres_copy_;  // for load_target "postgres"
  ObjectScope scope_;
  std::mutex file_table_mu_;
  bool file_table_ready_ = false;  // guarded by file_table_mu_
};

}  // namespace kc::emitter
