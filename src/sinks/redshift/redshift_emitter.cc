#include "sinks/redshift/redshift_emitter.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <string_view>
#include <vector>

#include "base/compression.h"
#include "base/json_writer.h"
#include "base/time_format.h"
#include "kc/clock.h"
#include "sinks/redshift/redshift_sql.h"
#include "sinks/util/format.h"

namespace kc::emitter {
namespace {

// A manifest lists the objects of one batch: a few hundred bytes each.
constexpr uint64_t kMaxManifestBytes = 16ull << 20;

// Parameters per statement when listing files: well under the servers'
// limits on bind parameters and statement size.
constexpr size_t kChunk = 1000;

// "$1, $2, ..." for `n` parameters, each wrapped as `open`$i`close`.
std::string Placeholders(size_t n, std::string_view open, std::string_view close) {
  std::string out;
  for (size_t i = 1; i <= n; ++i) {
    if (i > 1) out += ", ";
    out += open;
    out += "$" + std::to_string(i);
    out += close;
  }
  return out;
}

std::vector<std::optional<std::string>> Params(std::span<const std::string> values) {
  return {values.begin(), values.end()};
}

// What keeps a record from naming an object, or "".
std::string KeyProblem(std::string_view data) {
  if (data.empty()) return "is empty";
  if (!simdjson::validate_utf8(data.data(), data.size())) return "is not valid UTF-8";
  for (char c : data) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return "contains a control character";
  }
  if (data.starts_with("s3://") && !ParseS3Url(data)) {
    return "is an s3:// URL without a bucket and a key";
  }
  return "";
}

// Why the loader does not read objects of `bucket`, or "".
// Why the object `key` of `bucket` is outside `scope`, or "".
std::string ScopeRefusal(std::string_view bucket, std::string_view key,
                         const RedshiftEmitter::ObjectScope& scope) {
  if (bucket == scope.bucket) {
    if (key.starts_with(scope.key_prefix)) return "";
    std::string shown;  // the record chose these bytes
    util::AppendJsonString(shown, key.substr(0, 128));
    return "names the key " + shown + ", and this loader reads only keys of bucket " +
           scope.bucket + " that begin with key_prefix \"" + scope.key_prefix + "\"";
  }
  const auto& allowed = scope.allowed_buckets;
  if (std::find(allowed.begin(), allowed.end(), bucket) != allowed.end()) return "";
  std::string shown;
  util::AppendJsonString(shown, bucket.substr(0, 64));
  return "names an object in bucket " + shown + ", and this loader reads only bucket " +
         scope.bucket + (allowed.empty() ? std::string() : " and those of allowed_buckets") +
         "; add the bucket to allowed_buckets to load from it";
}

}  // namespace

RedshiftEmitter::RedshiftEmitter(const RedshiftSettings& config, std::shared_ptr<aws::S3Client> s3,
                                 std::shared_ptr<aws::CredentialsProvider> credentials,
                                 RetryPolicy retry)
    : config_(config),
      s3_(std::move(s3)),
      credentials_(std::move(credentials)),
      retry_(retry),
      pool_(config.url),
      file_table_(pg::QuoteIdentifier(config.file_table)),
      postgres_copy_(PostgresCopySql(config)),
      scope_{.bucket = config.bucket,
             .allowed_buckets = config.allowed_buckets,
             .key_prefix = config.key_prefix} {}

Result<std::vector<std::string>> RedshiftEmitter::ObjectUrls(const Batch& batch,
                                                             const ObjectScope& scope) {
  std::vector<std::string> urls;
  std::set<std::string> seen;
  for (const Record& r : batch.records) {
    const std::string where = "bad record in stream " + batch.stream + " shard " + batch.shard_id +
                              " at sequence number " + PositionName(r.position()) + ": ";
    if (std::string problem = KeyProblem(r.data); !problem.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  where + "its data " + problem +
                      ", and the redshift emitter reads each record as the key of an S3 object "
                      "(or an s3:// URL); read a stream that the s3_manifest emitter writes");
    }
    auto named = ParseS3Url(r.data);
    const std::string_view object_bucket = named ? std::string_view(named->bucket) : scope.bucket;
    const std::string_view key = named ? std::string_view(named->key) : std::string_view(r.data);
    if (std::string refused = ScopeRefusal(object_bucket, key, scope); !refused.empty()) {
      return Fail(ErrorCode::kInvalidArgument, where + "it " + refused);
    }
    std::string url = ObjectUrl(scope.bucket, r.data);
    if (seen.insert(url).second) urls.push_back(std::move(url));
  }
  return urls;
}

Status RedshiftEmitter::EnsureFileTable(pg::Connection& conn) {
  std::lock_guard lock(file_table_mu_);
  if (file_table_ready_) return Ok();
  // varchar, not text: Redshift's text is varchar(256), and a URL can be
  // longer. No DEFAULT for loaded_at: the functions differ between Redshift
  // and PostgreSQL, so the loader sends the time.
  const std::string create = "CREATE TABLE IF NOT EXISTS " + file_table_ +
                             " (file varchar(2048) PRIMARY KEY, loaded_at timestamptz)";
  auto created = conn.Exec(create);
  // Two loaders creating the table at the same instant: one of them fails
  // (PostgreSQL reports a duplicate type), and asking again finds it there.
  if (!created) created = conn.Exec(create);
  if (!created) return Fail(created.error().With("creating file table " + config_.file_table));
  file_table_ready_ = true;
  return Ok();
}

Result<std::vector<std::string>> RedshiftEmitter::NotLoaded(pg::Connection& conn,
                                                            const std::vector<std::string>& urls) {
  std::set<std::string> loaded;
  for (size_t at = 0; at < urls.size(); at += kChunk) {
    std::span<const std::string> chunk(urls.data() + at, std::min(kChunk, urls.size() - at));
    auto rows = conn.Exec("SELECT file FROM " + file_table_ + " WHERE file IN (" +
                              Placeholders(chunk.size(), "", "") + ")",
                          Params(chunk));
    if (!rows) return Fail(rows.error().With("reading file table " + config_.file_table));
    for (int i = 0; i < rows->size(); ++i) loaded.emplace(rows->Get(i, 0));
  }
  std::vector<std::string> rest;
  for (const std::string& url : urls) {
    if (!loaded.contains(url)) rest.push_back(url);
  }
  return rest;
}

Status RedshiftEmitter::MarkLoaded(pg::Connection& conn, std::span<const std::string> urls) {
  const std::string now = util::FormatRfc3339Millis(Clock::Real().UnixMillis());
  for (size_t at = 0; at < urls.size(); at += kChunk) {
    std::span<const std::string> chunk = urls.subspan(at, std::min(kChunk, urls.size() - at));
    auto params = Params(chunk);
    params.emplace_back(now);
    const std::string time = ", $" + std::to_string(params.size()) + "::timestamptz)";
    auto inserted = conn.Exec("INSERT INTO " + file_table_ + " (file, loaded_at) VALUES " +
                                  Placeholders(chunk.size(), "(", time),
                              params);
    if (!inserted) return Fail(inserted.error().With("writing file table " + config_.file_table));
  }
  return Ok();
}

Status RedshiftEmitter::CopyFromS3(pg::Connection& conn, const std::string& source_url,
                                   bool manifest) {
  std::optional<aws::Credentials> keys;
  if (config_.iam_role.empty()) {
    auto got = credentials_->Get();
    if (!got) return Fail(got.error().With("credentials for COPY"));
    keys = std::move(*got);
  }
  const SqlText sql = RedshiftCopySql(config_, source_url, manifest, keys ? &*keys : nullptr);
  spdlog::debug("{}", sql.redacted);
  auto copied = conn.Exec(sql.text);
  if (copied) return Ok();
  // The server's message should not echo the statement; make sure no key does.
  std::string message = copied.error().message();
  if (keys) {
    for (const std::string* secret :
         {&keys->access_key_id, &keys->secret_access_key, &keys->session_token}) {
      if (secret->empty()) continue;
      for (size_t at = message.find(*secret); at != std::string::npos;
           at = message.find(*secret, at + 3)) {
        message.replace(at, secret->size(), "***");
      }
    }
  }
  return Fail(Error(copied.error().code(), message).With(sql.redacted));
}

Status RedshiftEmitter::CopyObject(pg::Connection& conn, const std::string& url,
                                   std::stop_token stop) {
  auto where = ParseS3Url(url);
  if (!where) return Fail(where.error().With(url));
  // Manifests are the loader's own, but what comes back from S3 is checked
  // as a record is: no object outside the allowed buckets is fetched.
  if (std::string refused = ScopeRefusal(where->bucket, where->key, Scope()); !refused.empty()) {
    std::string shown;
    util::AppendJsonString(shown, std::string_view(url).substr(0, 256));
    return Fail(ErrorCode::kInvalidArgument, "the manifest entry " + shown + " " + refused);
  }
  // Fetched, decompressed and sent as it arrives: the loader holds a piece
  // of the object at a time, whatever its size. Damaged or oversized data
  // ends the COPY, which then loads nothing. One attempt: Emit's retry
  // covers a download that failed on the way.
  auto copied =
      conn.CopyInFrom(postgres_copy_, [&](const pg::Connection::CopySend& send) -> Status {
        std::unique_ptr<util::Decompressor> decoder =
            util::MakeDecompressor(config_.compression, config_.max_loaded_size, send);
        std::optional<Error> decoding;  // the decoder's own, told apart from the download's
        auto fed =
            s3_->StreamObject(where->bucket, where->key, config_.max_object_size,
                              [&](std::string_view piece) -> Status {
                                if (stop.stop_requested()) {
                                  return Fail(ErrorCode::kCancelled, "stopped while loading");
                                }
                                Status s = decoder->Feed(piece);
                                if (!s) decoding = s.error();
                                return s;
                              });
        if (!fed && !decoding) return Fail(fed.error().With("reading " + url + " to load it"));
        if (fed) fed = decoder->Finish();
        if (!fed) {
          return Fail(fed.error().With(std::string("object ") + url + " (" +
                                       util::CompressionName(config_.compression) + ")"));
        }
        return Ok();
      });
  if (!copied) return Fail(copied.error().With("loading " + url + " into table " + config_.table));
  return Ok();
}

Status RedshiftEmitter::Attempt(const Batch& batch, const std::vector<std::string>& urls,
                                std::stop_token stop) {
  auto conn = pool_.Acquire();
  if (auto s = EnsureFileTable(*conn); !s) return s;
  auto tx = pg::Transaction::Begin(*conn);
  if (!tx) return Fail(tx.error());
  // Until COMMIT: no other loader reads or writes the file table, so no
  // object is loaded by two of them.
  if (auto locked = conn->Exec("LOCK TABLE " + file_table_); !locked) {
    return Fail(locked.error().With("locking file table " + config_.file_table));
  }
  auto rest = NotLoaded(*conn, urls);
  if (!rest) return Fail(rest.error());
  if (rest->empty()) {
    spdlog::debug("{}: all {} objects of the batch {} are loaded already", Describe(), urls.size(),
                  BatchRangeName(batch));
    return tx->Commit();
  }
  if (auto s = MarkLoaded(*conn, *rest); !s) return s;
  if (config_.load_mode == LoadMode::kManifest) {
    const std::string key = ManifestKey(config_.manifest_prefix, batch);
    const std::string manifest_url = ObjectUrl(config_.bucket, key);
    aws::PutObjectOptions put;
    put.content_type = "application/json";
    if (auto s = s3_->PutObject(config_.bucket, key, ManifestJson(*rest), put, stop); !s) {
      return Fail(s.error().With("writing manifest " + manifest_url));
    }
    if (config_.load_target == LoadTarget::kRedshift) {
      if (auto s = CopyFromS3(*conn, manifest_url, true); !s) return s;
    } else {
      // What Redshift would do: read the manifest, then every object it lists.
      auto text = s3_->GetObject(config_.bucket, key, kMaxManifestBytes, stop);
      if (!text) return Fail(text.error().With("reading manifest " + manifest_url));
      auto entries = ManifestUrls(*text);
      if (!entries) return Fail(entries.error().With(manifest_url));
      for (const std::string& url : *entries) {
        if (auto s = CopyObject(*conn, url, stop); !s) return s;
      }
    }
  } else {
    for (const std::string& url : *rest) {
      auto s = config_.load_target == LoadTarget::kRedshift ? CopyFromS3(*conn, url, false)
                                                            : CopyObject(*conn, url, stop);
      if (!s) return s;
    }
  }
  if (auto s = tx->Commit(); !s) return s;
  spdlog::debug("{}: loaded {} objects of the batch {} ({} loaded before)", Describe(),
                rest->size(), BatchRangeName(batch), urls.size() - rest->size());
  return Ok();
}

Status RedshiftEmitter::Emit(const Batch& batch, std::stop_token stop) {
  auto urls = ObjectUrls(batch, Scope());
  if (!urls) return Fail(urls.error());
  if (urls->empty()) return Ok();
  return retry_.Run(
      "loading " + std::to_string(urls->size()) + " objects into table " + config_.table, stop,
      [&] { return Attempt(batch, *urls, stop); });
}

std::string RedshiftEmitter::Describe() const {
  std::string target = config_.load_target == LoadTarget::kRedshift
                           ? "COPY from S3"
                           : "objects read from S3 and sent with COPY FROM STDIN";
  return "rows of table " + config_.table + " at " + pool_.redacted() + " (" + target + ", " +
         (config_.load_mode == LoadMode::kManifest
              ? "manifests under s3://" + config_.bucket + "/" + config_.manifest_prefix
              : std::string("one COPY per object")) +
         "; loaded objects in table " + config_.file_table + ", each loaded once)";
}

}  // namespace kc::emitter
