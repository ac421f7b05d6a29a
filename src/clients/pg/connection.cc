#include "clients/pg/connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "base/hosts.h"

namespace kc::pg {
namespace {

// The certificate authorities the system trusts (Debian's ca-certificates).
constexpr char kSystemCaFile[] = "/etc/ssl/certs/ca-certificates.crt";

// COPY data goes to libpq in pieces of this size.
constexpr size_t kCopyChunk = 1 << 20;
constexpr size_t kMaxIdentifierPart = 63;

struct FreeOptions {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using Options = std::unique_ptr<PQconninfoOption, FreeOptions>;

// The parsed connection string, or nothing when libpq cannot read it. libpq's
// own message is dropped: it may quote the string.
Options Parse(std::string_view conninfo) {
  char* error = nullptr;
  Options options(PQconninfoParse(std::string(conninfo).c_str(), &error));
  PQfreemem(error);
  return options;
}

bool IsUrl(std::string_view conninfo) {
  return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
}

// libpq's messages span lines ("...failed: ...\n\tIs the server running..."):
// one line, trimmed.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string QuotePairValue(std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" '\\") == std::string_view::npos;
  if (plain) return std::string(value);
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// `text` for a URL: every byte but the unreserved ones as %XX.
std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> out;
  if (text.empty()) return out;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

bool ValidIdentifierPart(std::string_view part) {
  if (part.empty() || part.size() > kMaxIdentifierPart) return false;
  if (part.front() >= '0' && part.front() <= '9') return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

ErrorCode CodeForSqlState(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return ErrorCode::kInternal;
  const std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08") return ErrorCode::kConnection;   // connection exception
  if (cls == "40") return ErrorCode::kUnavailable;  // serialization failure, deadlock
  if (cls == "53") return ErrorCode::kUnavailable;  // out of connections, memory, disk
  if (sqlstate.starts_with("57P0")) {
    return ErrorCode::kUnavailable;  // shutting down, crashed, starting up
  }
  if (cls == "28" || sqlstate == "42501") return ErrorCode::kAuth;  // credentials, privileges
  if (cls == "XX") return ErrorCode::kInternal;
  return ErrorCode::kInvalidArgument;
}

bool IsSqlState(const Error& e, std::string_view sqlstate) {
  return e.message().find("SQLSTATE " + std::string(sqlstate) + ":") != std::string::npos;
}

std::string RedactConninfo(std::string_view conninfo) {
  constexpr char kUnreadable[] = "(unreadable connection string)";
  Options options = Parse(conninfo);
  if (!options) return kUnreadable;
  // Shown from what libpq parsed, never from the text: whatever the spelling
  // (a "user:secret@" URL, "?password=", "%70assword=", "sslpassword"), a
  // field whose name holds "pass" is shown as ***.
  struct Field {
    std::string_view keyword;
    std::string value;
  };
  std::vector<Field> fields;
  auto get = [&](std::string_view keyword) -> const Field* {
    for (const Field& f : fields) {
      if (f.keyword == keyword) return &f;
    }
    return nullptr;
  };
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view keyword = o->keyword;
    const bool secret = keyword.find("pass") != std::string_view::npos;
    fields.push_back({keyword, secret ? "***" : std::string(o->val)});
  }
  if (!IsUrl(conninfo)) {
    std::string out;
    for (const Field& f : fields) {
      if (!out.empty()) out += ' ';
      out += std::string(f.keyword) + "=" + (f.value == "***" ? f.value : QuotePairValue(f.value));
    }
    return out;
  }
  // A URL again, as written: scheme, user[:***]@, hosts and ports, /dbname,
  // then every other field as a query parameter.
  std::string out(conninfo.substr(0, conninfo.find("://") + 3));
  if (const Field* user = get("user")) {
    out += PercentEncode(user->value);
    if (const Field* password = get("password")) out += ":" + password->value;
    out += "@";
  } else if (const Field* password = get("password")) {
    out += ":" + password->value + "@";
  }
  const Field* host = get("host");
  const Field* port = get("port");
  const std::vector<std::string_view> hosts =
      SplitCommas(host ? std::string_view(host->value) : "");
  const std::vector<std::string_view> ports =
      SplitCommas(port ? std::string_view(port->value) : "");
  const bool paired = ports.empty() || ports.size() == 1 || ports.size() == hosts.size();
  for (size_t i = 0; paired && i < hosts.size(); ++i) {
    if (i > 0) out += ',';
    out += PercentEncode(hosts[i]);
    if (!ports.empty()) out += ":" + std::string(ports[ports.size() == 1 ? 0 : i]);
  }
  if (const Field* dbname = get("dbname")) out += "/" + PercentEncode(dbname->value);
  char separator = '?';
  for (const Field& f : fields) {
    const bool in_authority = f.keyword == "user" || f.keyword == "password" ||
                              f.keyword == "dbname" ||
                              (paired && (f.keyword == "host" || f.keyword == "port"));
    if (in_authority) continue;
    out += separator;
    out += std::string(f.keyword) + "=" + (f.value == "***" ? f.value : PercentEncode(f.value));
    separator = '&';
  }
  return out;
}

namespace {

// The value of `keyword` in a parsed string, or nothing.
std::optional<std::string> Value(const Options& options, std::string_view keyword) {
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && keyword == o->keyword) return std::string(o->val);
  }
  return std::nullopt;
}

bool IsLoopbackHost(std::string_view host) {
  if (host.empty() || host.starts_with('/') || host.starts_with('@')) return true;  // a socket
  return util::IsLoopbackHost(host);
}

}  // namespace

bool OnlyLoopback(std::string_view conninfo) {
  Options options = Parse(conninfo);
  if (!options) return false;
  const std::string hosts = Value(options, "host").value_or("");
  const std::string addresses = Value(options, "hostaddr").value_or("");
  for (const std::string& list : {hosts, addresses}) {
    for (std::string_view host : SplitCommas(list)) {
      if (!IsLoopbackHost(host)) return false;
    }
  }
  return true;
}

std::string EffectiveSslMode(std::string_view conninfo, const char* env_sslmode) {
  Options options = Parse(conninfo);
  if (options) {
    if (auto mode = Value(options, "sslmode")) return *mode;
  }
  if (env_sslmode != nullptr && *env_sslmode) return env_sslmode;
  return options && !OnlyLoopback(conninfo) ? "verify-full" : "prefer";
}

std::vector<std::pair<std::string, std::string>> TlsDefaults(std::string_view conninfo,
                                                             const char* env_sslmode,
                                                             const char* env_sslrootcert,
                                                             std::string_view user_root_cert,
                                                             std::string_view system_ca_file) {
  std::vector<std::pair<std::string, std::string>> out;
  Options options = Parse(conninfo);
  if (!options || OnlyLoopback(conninfo)) return out;
  const bool mode_set = Value(options, "sslmode") || (env_sslmode != nullptr && *env_sslmode);
  if (!mode_set) out.emplace_back("sslmode", "verify-full");
  const bool root_set =
      Value(options, "sslrootcert") || (env_sslrootcert != nullptr && *env_sslrootcert);
  std::error_code ignored;
  if (!mode_set && !root_set && !std::filesystem::exists(user_root_cert, ignored) &&
      std::filesystem::exists(system_ca_file, ignored)) {
    out.emplace_back("sslrootcert", std::string(system_ca_file));
  }
  return out;
}

std::optional<std::string> ConninfoProblem(std::string_view conninfo) {
  if (conninfo.empty()) return "must not be empty";
  if (!Parse(conninfo)) {
    return "is not a PostgreSQL connection string; use a URL such as "
           "\"postgresql://user@host:5432/db\" or key=value pairs such as "
           "\"host=db.example.com dbname=events user=loader\"";
  }
  return std::nullopt;
}

std::optional<std::string> IdentifierProblem(std::string_view name, bool allow_schema) {
  const size_t dot = name.find('.');
  const bool ok = dot == std::string_view::npos
                      ? ValidIdentifierPart(name)
                      : allow_schema && ValidIdentifierPart(name.substr(0, dot)) &&
                            ValidIdentifierPart(name.substr(dot + 1));
  if (ok) return std::nullopt;
  return std::string("must be ") +
         (allow_schema ? "a table name, optionally with its schema" : "a column name") +
         ": letters, digits and '_', not starting with a digit, at most 63 characters" +
         (allow_schema ? " per part, e.g. \"events\" or \"analytics.events\"" : "");
}

std::string QuoteIdentifier(std::string_view name) {
  const size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    return QuoteIdentifier(name.substr(0, dot)) + "." + QuoteIdentifier(name.substr(dot + 1));
  }
  return "\"" + std::string(name) + "\"";
}

// --- Rows ---

void Rows::Free::operator()(pg_result* r) const { PQclear(r); }

Rows::Rows(pg_result* result) : result_(result) {}

int Rows::size() const { return result_ ? PQntuples(result_.get()) : 0; }

bool Rows::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string_view Rows::Get(int row, int column) const {
  return std::string_view(PQgetvalue(result_.get(), row, column),
                          static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

uint64_t Rows::affected() const {
  if (!result_) return 0;
  return std::strtoull(PQcmdTuples(result_.get()), nullptr, 10);
}

// --- Connection ---

Connection::Connection(std::string conninfo, ConnectOptions options)
    : conninfo_(std::move(conninfo)), options_(std::move(options)) {
  if (Options parsed = Parse(conninfo_)) {
    for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
      if (std::string_view(o->keyword) == "password" && o->val != nullptr) password_ = o->val;
    }
  }
  server_ = RedactConninfo(conninfo_);
  const char* home = std::getenv("HOME");
  tls_defaults_ = TlsDefaults(conninfo_, std::getenv("PGSSLMODE"), std::getenv("PGSSLROOTCERT"),
                              home != nullptr ? std::string(home) + "/.postgresql/root.crt" : "",
                              kSystemCaFile);
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Connection::healthy() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

std::string Connection::Scrub(std::string text) const {
  std::string secrets[2] = {password_, ""};
  if (const char* env = std::getenv("PGPASSWORD")) secrets[1] = env;
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

Status Connection::Connect() {
  if (healthy()) return Ok();
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  in_transaction_ = false;
  const std::string timeout =
      std::to_string(std::max<int64_t>(1, options_.connect_timeout.count()));
  // Entries before "dbname" are defaults: the expanded connection string
  // overrides them.
  std::vector<const char*> keys = {"connect_timeout",     "fallback_application_name",
                                   "keepalives",          "keepalives_idle",
                                   "keepalives_interval", "keepalives_count"};
  std::vector<const char*> values = {
      timeout.c_str(), options_.application_name.c_str(), "1", "30", "10", "3"};
  for (const auto& [key, value] : tls_defaults_) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back("dbname");
  values.push_back(conninfo_.c_str());
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn_ == nullptr) return Fail(ErrorCode::kInternal, "libpq could not allocate a connection");
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  const char* db = PQdb(conn_);
  if (host != nullptr && db != nullptr) {
    server_ = std::string(host) + ":" + (port != nullptr && *port ? port : "5432") + "/" + db;
  }
  if (PQstatus(conn_) == CONNECTION_OK) {
    // Notices ("relation ... already exists, skipping") are not errors and
    // would otherwise go to stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    if (options_.statement_timeout.count() > 0 &&
        conninfo_.find("statement_timeout") == std::string::npos) {
      const std::string set =
          "SET statement_timeout = " + std::to_string(options_.statement_timeout.count());
      PGresult* result = PQexec(conn_, set.c_str());
      const bool ok = result != nullptr && PQresultStatus(result) == PGRES_COMMAND_OK;
      const std::string why = ok ? "" : Scrub(OneLine(PQerrorMessage(conn_)));
      PQclear(result);
      if (!ok) {
        PQfinish(conn_);
        conn_ = nullptr;
        return Fail(ErrorCode::kConnection,
                    "PostgreSQL at " + server_ + " did not take statement_timeout: " + why);
      }
    }
    return Ok();
  }
  const std::string message = Scrub(OneLine(PQerrorMessage(conn_)));
  PQfinish(conn_);
  conn_ = nullptr;
  // Rejected credentials do not get better by retrying.
  if (message.find("authentication failed") != std::string::npos ||
      message.find("no password supplied") != std::string::npos) {
    return Fail(ErrorCode::kAuth,
                "PostgreSQL at " + server_ + " refused the login: " + message +
                    " (check the user and the password in the connection string, or "
                    "PGPASSWORD)");
  }
  return Fail(ErrorCode::kConnection,
              "could not connect to PostgreSQL at " + server_ + ": " + message);
}

Status Connection::Ready() {
  if (in_transaction_) {
    if (healthy()) return Ok();
    return Fail(ConnectionError("the connection was lost during a transaction"));
  }
  return Connect();
}

Error Connection::ConnectionError(std::string_view what) const {
  std::string message = "PostgreSQL at " + server_ + ": " + std::string(what);
  if (conn_ != nullptr) {
    const std::string detail = OneLine(PQerrorMessage(conn_));
    if (!detail.empty()) message += ": " + detail;
  }
  return Error(ErrorCode::kConnection, Scrub(std::move(message)));
}

Error Connection::ResultError(pg_result* result, std::string_view what) const {
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (sqlstate == nullptr) {
    // No answer from the server: the connection failed underneath.
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) return ConnectionError(what);
    std::string message = result != nullptr ? OneLine(PQresultErrorMessage(result)) : "";
    return Error(ErrorCode::kInternal,
                 Scrub("PostgreSQL at " + server_ + ": " + std::string(what) + ": " + message));
  }
  std::string message =
      "PostgreSQL at " + server_ + ": " + std::string(what) + ": SQLSTATE " + sqlstate + ": ";
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  message += primary != nullptr ? OneLine(primary) : OneLine(PQresultErrorMessage(result));
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    message += " (" + OneLine(detail) + ")";
  }
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
    message += " (hint: " + OneLine(hint) + ")";
  }
  return Error(CodeForSqlState(sqlstate), Scrub(std::move(message)));
}

Result<Rows> Connection::Exec(std::string_view sql,
                              std::span<const std::optional<std::string>> params) {
  if (auto s = Ready(); !s) return Fail(s.error());
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  Rows rows(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(values.size()), nullptr,
                         values.data(), nullptr, nullptr, /*resultFormat=*/0));
  pg_result* result = rows.raw();
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return rows;
  return Fail(ResultError(result, "query failed"));
}

Result<Rows> Connection::Exec(std::string_view sql,
                              std::initializer_list<std::optional<std::string>> params) {
  return Exec(sql, std::span<const std::optional<std::string>>(params.begin(), params.size()));
}

Result<uint64_t> Connection::CopyIn(std::string_view copy_sql, std::string_view data) {
  return CopyInFrom(copy_sql, [data](const CopySend& send) { return send(data); });
}

Result<uint64_t> Connection::CopyInFrom(std::string_view copy_sql,
                                        const std::function<Status(const CopySend&)>& produce) {
  if (auto s = Ready(); !s) return Fail(s.error());
  {
    Rows start(PQexec(conn_, std::string(copy_sql).c_str()));
    pg_result* r = start.raw();
    if (r == nullptr || PQresultStatus(r) != PGRES_COPY_IN) {
      if (r != nullptr && PQresultStatus(r) != PGRES_FATAL_ERROR) {
        return Fail(ErrorCode::kInternal,
                    "PostgreSQL at " + server_ + ": the COPY statement did not ask for input");
      }
      return Fail(ResultError(r, "COPY failed"));
    }
  }
  bool sent = true;
  const CopySend send = [&](std::string_view data) -> Status {
    for (size_t offset = 0; offset < data.size(); offset += kCopyChunk) {
      const size_t n = std::min(kCopyChunk, data.size() - offset);
      if (PQputCopyData(conn_, data.data() + offset, static_cast<int>(n)) != 1) {
        sent = false;
        return Fail(ConnectionError("sending COPY data failed"));
      }
    }
    return Ok();
  };
  Status produced = produce(send);
  if (!produced && sent) {
    // The data could not be had: the server ends the COPY with an error,
    // and nothing of it is loaded.
    const std::string why = "the data for COPY could not be read";
    if (PQputCopyEnd(conn_, why.c_str()) == 1) {
      while (pg_result* r = PQgetResult(conn_)) PQclear(r);
    }
    return Fail(produced.error());
  }
  if (!produced) return Fail(produced.error());
  if (PQputCopyEnd(conn_, nullptr) != 1) return Fail(ConnectionError("ending COPY failed"));
  Result<uint64_t> outcome = Fail(ConnectionError("COPY got no answer"));
  bool first = true;
  while (pg_result* r = PQgetResult(conn_)) {
    Rows owned(r);
    if (!first) continue;  // drain: libpq needs every result read
    first = false;
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
      outcome = owned.affected();
    } else {
      outcome = Fail(ResultError(r, "COPY failed"));
    }
  }
  return outcome;
}

Status Connection::Begin() {
  auto r = Exec("BEGIN");
  if (!r) return Fail(r.error().With("BEGIN"));
  in_transaction_ = true;
  return Ok();
}

Status Connection::Commit() {
  if (!healthy()) {
    in_transaction_ = false;
    return Fail(ConnectionError("the connection was lost before COMMIT"));
  }
  Rows rows(PQexec(conn_, "COMMIT"));
  pg_result* r = rows.raw();
  // The server ends the transaction whatever COMMIT answers.
  in_transaction_ = false;
  if (r == nullptr || PQresultStatus(r) != PGRES_COMMAND_OK) {
    return Fail(ResultError(r, "COMMIT failed"));
  }
  if (std::string_view(PQcmdStatus(r)) == "ROLLBACK") {
    return Fail(ErrorCode::kInternal, "PostgreSQL at " + server_ +
                                          ": COMMIT rolled back a transaction in which a "
                                          "statement had failed");
  }
  return Ok();
}

void Connection::Rollback() {
  if (in_transaction_ && healthy()) PQclear(PQexec(conn_, "ROLLBACK"));
  in_transaction_ = false;
}

// --- Transaction ---

Result<Transaction> Transaction::Begin(Connection& conn) {
  if (auto s = conn.Begin(); !s) return Fail(s.error());
  return Transaction(conn);
}

Transaction::~Transaction() {
  if (conn_ != nullptr && conn_->in_transaction()) conn_->Rollback();
}

Status Transaction::Commit() {
  Connection* conn = conn_;
  conn_ = nullptr;
  return conn->Commit();
}

// --- Pool ---

Pool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Return(std::move(conn_));
}

Pool::Lease Pool::Acquire() {
  std::lock_guard lock(mu_);
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  return Lease(this, std::make_unique<Connection>(conninfo_, options_));
}

void Pool::Return(std::unique_ptr<Connection> conn) {
  // A connection left inside a transaction (never with a Transaction guard)
  // is not handed to anyone else.
  if (conn->in_transaction()) return;
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(conn));
}

}  // namespace kc::pg
