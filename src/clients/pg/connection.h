// The one PostgreSQL client of this project, a thin layer over libpq used by
// everything that talks SQL (the postgres checkpoint store, the postgres
// emitter, the Redshift emitter).
//
// - A Connection connects on first use from a libpq connection string (a URL
//   "postgresql://user@host:5432/db" or "host=... dbname=..." pairs) with a
//   connect timeout and TCP keepalives; settings in the string win.
// - Outside a transaction, a broken connection is replaced by a new one
//   before the next statement. Inside one, a lost connection is an error (the
//   server rolled the transaction back): the caller retries the whole
//   transaction, which then runs on a new connection.
// - Errors carry a kc::ErrorCode: connection failures and SQLSTATE classes 08
//   (connection), 40 (serialization failure, deadlock), 53 (insufficient
//   resources) and 57P0x (server shutting down or starting) are retriable;
//   the rest are final. Messages name the server as host:port/db and give the
//   SQLSTATE and the server's message; the password never appears (it is cut
//   from libpq's messages, and conninfo is printed only through
//   RedactConninfo).
//
// Thread-safety: a Connection is used by one thread at a time; a Pool may be
// shared.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kc/status.h"

struct pg_conn;
struct pg_result;

namespace kc::pg {

// The ErrorCode for a five-character SQLSTATE (see the header comment).
ErrorCode CodeForSqlState(std::string_view sqlstate);
// Whether `e`, an error of this client, carries `sqlstate`.
bool IsSqlState(const Error& e, std::string_view sqlstate);

// `conninfo` fit for a log, built from libpq's parse of it (a URL shown as a
// URL, pairs as pairs): every field whose name holds "pass" (password,
// sslpassword, ...) is shown as "***", however the text spelt it. Text that
// is not a connection string comes back as "(unreadable connection
// string)", since it may hold a secret in a place we do not recognise.
std::string RedactConninfo(std::string_view conninfo);

// What is wrong with `conninfo` for libpq, or nothing. The message never
// repeats the string.
std::optional<std::string> ConninfoProblem(std::string_view conninfo);

// A quoted SQL identifier: `events` → "events", `app.events` → "app"."events".
// REQUIRES: IdentifierProblem(name) is empty.
std::string QuoteIdentifier(std::string_view name);
// A table or column name as this project accepts it: letters, digits and
// '_', not starting with a digit, at most 63 bytes per part, optionally
// schema-qualified with one '.' when `allow_schema`.
std::optional<std::string> IdentifierProblem(std::string_view name, bool allow_schema);

struct ConnectOptions {
  std::chrono::seconds connect_timeout{10};
  std::string application_name = "kinesis-connect";  // unless the string sets one
  // Set on every connection (SET statement_timeout, which PostgreSQL and
  // Redshift both take) unless the string names statement_timeout itself: a
  // server that never finishes a statement holds a connection this long.
  // Generous, since one COPY may load gigabytes; zero leaves the server's.
  std::chrono::milliseconds statement_timeout{15 * 60 * 1000};
};

// The TLS settings a connection gets unless its string (or libpq's
// PGSSLMODE and PGSSLROOTCERT) sets them, as keyword and value pairs:
// - sslmode=verify-full when a host is not on this machine (a name other
//   than localhost, an address outside 127.0.0.0/8 and ::1): libpq's own
//   default, "prefer", neither checks the certificate nor refuses plain
//   text;
// - with it, sslrootcert=`system_ca_file` when that file exists and libpq's
//   per-user file does not, so that a certificate signed by a public
//   authority verifies as a browser would. (libpq 15 has no "system".)
// Connections to this machine (and to a socket) keep libpq's defaults.
std::vector<std::pair<std::string, std::string>> TlsDefaults(std::string_view conninfo,
                                                             const char* env_sslmode,
                                                             const char* env_sslrootcert,
                                                             std::string_view user_root_cert,
                                                             std::string_view system_ca_file);

// The sslmode a connection from `conninfo` runs with: the string's, else
// `env_sslmode` (PGSSLMODE), else TlsDefaults' (verify-full off this
// machine), else libpq's "prefer".
std::string EffectiveSslMode(std::string_view conninfo, const char* env_sslmode);

// True when every host of `conninfo` is this machine: localhost, 127.0.0.0/8,
// ::1 or a socket directory (and when it names no host: libpq's socket).
bool OnlyLoopback(std::string_view conninfo);

// The rows of a query, in text format.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* result);
  int size() const;
  bool IsNull(int row, int column) const;
  std::string_view Get(int row, int column) const;
  // Rows inserted, updated or deleted by the statement (0 when not reported).
  uint64_t affected() const;
  pg_result* raw() const { return result_.get(); }

 private:
  struct Free {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Free> result_;
};

class Connection {
 public:
  explicit Connection(std::string conninfo, ConnectOptions options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects now unless connected; replaces a broken connection.
  Status Connect();
  // Runs one statement with $1, $2, ... bound to `params` (nullopt: NULL).
  Result<Rows> Exec(std::string_view sql, std::span<const std::optional<std::string>> params = {});
  Result<Rows> Exec(std::string_view sql, std::initializer_list<std::optional<std::string>> params);
  // Runs `copy_sql` ("COPY t (a, b) FROM STDIN ...") and streams `data` as its input.
  // Returns the number of rows loaded.
  Result<uint64_t> CopyIn(std::string_view copy_sql, std::string_view data);
  // The same with data that `produce` sends piece by piece through the
  // function it is given, as it gets it (a download, say). An error from
  // `produce` ends the COPY, which loads nothing, and is returned.
  using CopySend = std::function<Status(std::string_view)>;
  Result<uint64_t> CopyInFrom(std::string_view copy_sql,
                              const std::function<Status(const CopySend&)>& produce);

  // True between Begin and Commit/Rollback.
  bool in_transaction() const { return in_transaction_; }
  // True once connected and not known to be broken.
  bool healthy() const;
  // "host:port/db", for messages.
  const std::string& server() const { return server_; }

 private:
  friend class Transaction;
  Status Begin();
  Status Commit();
  void Rollback();
  // The connection ready for a statement, connecting when allowed.
  Status Ready();
  Error ResultError(pg_result* result, std::string_view what) const;
  Error ConnectionError(std::string_view what) const;
  std::string Scrub(std::string text) const;

  std::string conninfo_;
  ConnectOptions options_;
  std::string password_;  // only to cut it out of libpq's messages
  std::vector<std::pair<std::string, std::string>> tls_defaults_;  // TlsDefaults
  std::string server_;
  pg_conn* conn_ = nullptr;
  bool in_transaction_ = false;
};

// BEGIN on construction (check ok()), ROLLBACK on destruction unless
// Commit() succeeded. A failed statement leaves the transaction aborted: the
// guard then rolls it back.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& conn);
  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Connection& conn) : conn_(&conn) {}
  Connection* conn_;
};

// Connections to one server for threads that each need one at a time.
// Connections come back to the pool when the lease ends, unless broken.
class Pool {
 public:
  explicit Pool(std::string conninfo, ConnectOptions options = {})
      : conninfo_(std::move(conninfo)), options_(std::move(options)) {}

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // An idle connection, or a new one (not connected until first used).
  Lease Acquire();
  // The connection string with its password hidden, for logs.
  std::string redacted() const { return RedactConninfo(conninfo_); }

 private:
  void Return(std::unique_ptr<Connection> conn);

  std::string conninfo_;
  ConnectOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace kc::pg
