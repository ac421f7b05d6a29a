// The PostgreSQL client's pure parts: which SQLSTATEs are retried, how
// connection strings are shown, which names are accepted; and what a failed
// connection reports (a closed port on 127.0.0.1, no server needed).
#include "clients/pg/connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "base/files.h"
#include "support/temp_dir.h"

namespace kc::pg {
namespace {

TEST(PgErrors, ConnectionTransactionResourceAndShutdownStatesAreRetried) {
  for (const char* state : {"08000", "08003", "08006", "08001", "40001", "40P01", "53300", "53100",
                            "57P01", "57P02", "57P03"}) {
    EXPECT_TRUE(Error(CodeForSqlState(state), "").retriable()) << state;
  }
  EXPECT_EQ(CodeForSqlState("08006"), ErrorCode::kConnection);
}

TEST(PgErrors, EverythingElseIsFinal) {
  for (const char* state : {"23505", "42P01", "42703", "22021", "22P04", "25P02", "57014", "XX000",
                            "28P01", "42501", "", "0800"}) {
    EXPECT_FALSE(Error(CodeForSqlState(state), "").retriable()) << state;
  }
  EXPECT_EQ(CodeForSqlState("28P01"), ErrorCode::kAuth);
  EXPECT_EQ(CodeForSqlState("42501"), ErrorCode::kAuth);
  EXPECT_EQ(CodeForSqlState("42P01"), ErrorCode::kInvalidArgument);
}

TEST(PgConninfo, PasswordsAreHiddenInUrlsAndPairs) {
  EXPECT_EQ(RedactConninfo("postgresql://loader:s3cr%40t@db.example.com:5433/events"),
            "postgresql://loader:***@db.example.com:5433/events");
  EXPECT_EQ(RedactConninfo("postgres://loader@db:5432/events?sslmode=require&password=hunter2"),
            "postgres://loader:***@db:5432/events?sslmode=require");
  EXPECT_EQ(RedactConninfo("postgresql://db/events?password=hunter2&user=x"),
            "postgresql://x:***@db/events");
  // What an earlier redaction of the text missed: a '?' in the password, an
  // encoded key, other fields holding "pass".
  EXPECT_EQ(RedactConninfo("postgresql://loader:S3c?retPw@host/db"),
            "postgresql://loader:***@host/db");
  EXPECT_EQ(RedactConninfo("postgresql://loader@host/db?%70assword=hunter2"),
            "postgresql://loader:***@host/db");
  EXPECT_EQ(RedactConninfo("postgresql://u@h/d?sslpassword=hunter2&sslmode=verify-full"),
            "postgresql://u@h/d?sslmode=verify-full&sslpassword=***");
  EXPECT_EQ(RedactConninfo("host=h sslpassword=hunter2 user=u"), "user=u host=h sslpassword=***");
  EXPECT_EQ(RedactConninfo("postgresql://u@h1:5432,h2:5433/d?application_name=a%20b"),
            "postgresql://u@h1:5432,h2:5433/d?application_name=a%20b");
  EXPECT_EQ(RedactConninfo("host=db port=5433 dbname=events password='it\\'s secret' user=u"),
            "user=u password=*** dbname=events host=db port=5433");
  EXPECT_EQ(RedactConninfo("postgresql://postgres@127.0.0.1:5432/postgres"),
            "postgresql://postgres@127.0.0.1:5432/postgres");
  const std::string unreadable = RedactConninfo("host=db password='unterminated");
  EXPECT_EQ(unreadable.find("unterminated"), std::string::npos) << unreadable;
}

TEST(PgTls, VerifiedByDefaultForHostsOffThisMachine) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  testing::TempDir dir;
  const std::string system_ca = dir.path() + "/ca.crt";
  ASSERT_TRUE(util::WriteFileAtomically(system_ca, "certificates"));
  const std::string no_user_cert = dir.path() + "/none/root.crt";
  auto defaults = [&](std::string_view conninfo, const char* mode = nullptr,
                      const char* root = nullptr, const std::string& user_cert = "") {
    return TlsDefaults(conninfo, mode, root, user_cert.empty() ? no_user_cert : user_cert,
                       system_ca);
  };
  const Pairs verified = {{"sslmode", "verify-full"}, {"sslrootcert", system_ca}};
  EXPECT_EQ(defaults("postgresql://loader@db.example.com/events"), verified);
  EXPECT_EQ(defaults("host=10.0.0.7 dbname=events"), verified);
  EXPECT_EQ(defaults("postgresql://u@127.0.0.1:5432,db.example.com/d"), verified)
      << "one host off the machine is enough";
  // What the string or libpq's environment says wins.
  EXPECT_EQ(defaults("postgresql://u@db.example.com/d?sslmode=require"), Pairs{});
  EXPECT_EQ(defaults("postgresql://u@db.example.com/d", "disable"), Pairs{});
  EXPECT_EQ(defaults("postgresql://u@db.example.com/d?sslrootcert=/etc/my-ca.pem"),
            (Pairs{{"sslmode", "verify-full"}}));
  EXPECT_EQ(defaults("postgresql://u@db.example.com/d", nullptr, "/etc/my-ca.pem"),
            (Pairs{{"sslmode", "verify-full"}}));
  // libpq's per-user root certificate, when there is one, is what it uses.
  EXPECT_EQ(defaults("postgresql://u@db.example.com/d", nullptr, nullptr, system_ca),
            (Pairs{{"sslmode", "verify-full"}}));
  // This machine: libpq's defaults.
  for (const char* local :
       {"postgresql://postgres@127.0.0.1:5432/postgres", "postgresql://u@localhost/d",
        "postgresql://u@[::1]:5432/d", "host=/var/run/postgresql dbname=d", "dbname=d",
        "postgresql://u@127.0.0.1,localhost/d"}) {
    EXPECT_EQ(defaults(local), Pairs{}) << local;
    EXPECT_TRUE(OnlyLoopback(local)) << local;
  }
  EXPECT_FALSE(OnlyLoopback("postgresql://u@127.0.0.1.example.com/d"));
  EXPECT_FALSE(OnlyLoopback("host=localhost hostaddr=10.1.2.3"));

  EXPECT_EQ(EffectiveSslMode("postgresql://u@db.example.com/d", nullptr), "verify-full");
  EXPECT_EQ(EffectiveSslMode("postgresql://u@db.example.com/d?sslmode=require", "verify-full"),
            "require");
  EXPECT_EQ(EffectiveSslMode("postgresql://u@db.example.com/d", "verify-ca"), "verify-ca");
  EXPECT_EQ(EffectiveSslMode("postgresql://u@127.0.0.1/d", nullptr), "prefer");
}

TEST(PgConninfo, ProblemsNeverRepeatTheString) {
  EXPECT_FALSE(ConninfoProblem("postgresql://u@h:5432/d"));
  EXPECT_FALSE(ConninfoProblem("host=h dbname=d"));
  EXPECT_TRUE(ConninfoProblem(""));
  for (const char* bad : {"just-a-word-secret", "host=h password='secret", "postgresql://[::1"}) {
    auto problem = ConninfoProblem(bad);
    ASSERT_TRUE(problem) << bad;
    EXPECT_EQ(problem->find("secret"), std::string::npos) << *problem;
    EXPECT_NE(problem->find("postgresql://"), std::string::npos) << "shows the expected form";
  }
}

TEST(PgIdentifiers, TablesMayHaveASchemaColumnsMayNot) {
  EXPECT_FALSE(IdentifierProblem("events", true));
  EXPECT_FALSE(IdentifierProblem("analytics.Events_2", true));
  EXPECT_FALSE(IdentifierProblem("user_id", false));
  for (const char* bad :
       {"", "1events", "ev-ents", "a.b.c", "a.", ".a", "x\"; drop table y", "ünï"}) {
    EXPECT_TRUE(IdentifierProblem(bad, true)) << bad;
  }
  EXPECT_TRUE(IdentifierProblem("a.b", false));
  EXPECT_TRUE(IdentifierProblem(std::string(64, 'a'), false));
  EXPECT_FALSE(IdentifierProblem(std::string(63, 'a'), false));
  EXPECT_EQ(QuoteIdentifier("Events"), "\"Events\"");
  EXPECT_EQ(QuoteIdentifier("app.events"), "\"app\".\"events\"");
}

// A port on 127.0.0.1 with nothing listening.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(PgConnection, RefusedConnectionIsRetriableNamesTheServerAndHidesThePassword) {
  const std::string port = std::to_string(ClosedPort());
  Connection conn("postgresql://loader:pw-never-shown@127.0.0.1:" + port + "/events");
  auto rows = conn.Exec("SELECT 1");
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code(), ErrorCode::kConnection) << rows.error().ToString();
  EXPECT_TRUE(rows.error().retriable());
  EXPECT_NE(rows.error().message().find("127.0.0.1:" + port + "/events"), std::string::npos)
      << rows.error().message();
  EXPECT_EQ(rows.error().message().find("pw-never-shown"), std::string::npos)
      << rows.error().message();
  EXPECT_EQ(rows.error().message().find('\n'), std::string::npos) << "one line";
  EXPECT_FALSE(conn.healthy());
  // The next statement tries again (and fails the same way).
  auto again = conn.CopyIn("COPY t FROM STDIN", "x\n");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kConnection);
}

}  // namespace
}  // namespace kc::pg
