// The PostgreSQL client against the server that scripts/test starts
// (KC_POSTGRES_URL): statements with parameters, COPY, transactions that
// roll back, error classification by the server's SQLSTATE, and a new
// connection after the server ended the old one.
//
// Without KC_POSTGRES_URL the tests are skipped, unless KC_REQUIRE_SERVICES=1
// (as scripts/test sets), when they fail.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "clients/pg/connection.h"

namespace kc::pg {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

class PgClientIT : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = Env("KC_POSTGRES_URL");
    if (url_.empty()) {
      if (Env("KC_REQUIRE_SERVICES") == "1") {
        FAIL() << "KC_POSTGRES_URL is not set but KC_REQUIRE_SERVICES=1; start PostgreSQL with "
                  "kc_start_postgres (scripts/test does)";
      }
      GTEST_SKIP() << "KC_POSTGRES_URL is not set (start PostgreSQL with kc_start_postgres)";
    }
    table_ = "kc_it_" + std::to_string(std::random_device{}() % 1'000'000'000);
    conn_ = std::make_unique<Connection>(url_);
    auto created = conn_->Exec("CREATE TABLE " + table_ +
                               " (id bigserial PRIMARY KEY, k text UNIQUE, v text)");
    ASSERT_TRUE(created) << created.error().ToString();
  }
  void TearDown() override {
    if (conn_) (void)conn_->Exec("DROP TABLE IF EXISTS " + table_);
  }

  int64_t Count() {
    auto rows = Connection(url_).Exec("SELECT count(*) FROM " + table_);
    EXPECT_TRUE(rows) << rows.error().ToString();
    return rows ? std::stoll(std::string(rows->Get(0, 0))) : -1;
  }

  std::string url_;
  std::string table_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(PgClientIT, ParametersAndNullsRoundTrip) {
  auto put = conn_->Exec("INSERT INTO " + table_ + " (k, v) VALUES ($1, $2), ($3, $4)",
                         {"ключ 🙂", "it's \"quoted\"\\", "none", std::nullopt});
  ASSERT_TRUE(put) << put.error().ToString();
  EXPECT_EQ(put->affected(), 2u);
  auto rows = conn_->Exec("SELECT k, v FROM " + table_ + " ORDER BY id");
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ(rows->Get(0, 0), "ключ 🙂");
  EXPECT_EQ(rows->Get(0, 1), "it's \"quoted\"\\");
  EXPECT_FALSE(rows->IsNull(0, 1));
  EXPECT_TRUE(rows->IsNull(1, 1));
  EXPECT_TRUE(conn_->healthy());
  EXPECT_EQ(conn_->server().find(':') != std::string::npos, true) << conn_->server();
}

TEST_F(PgClientIT, CopyLoadsEveryRowAndABadRowLoadsNone) {
  auto loaded =
      conn_->CopyIn("COPY " + table_ + " (k, v) FROM STDIN", "a\tone\nb\ttab\\there\nc\t\\N\n");
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(*loaded, 3u);
  EXPECT_EQ(Count(), 3);
  // A row with too few columns fails the whole COPY; the error is final,
  // names the SQLSTATE, and the connection stays usable.
  auto bad = conn_->CopyIn("COPY " + table_ + " (k, v) FROM STDIN", "d\tfour\ne\n");
  ASSERT_FALSE(bad);
  EXPECT_FALSE(bad.error().retriable()) << bad.error().ToString();
  EXPECT_NE(bad.error().message().find("SQLSTATE 22P04"), std::string::npos)
      << bad.error().message();
  EXPECT_EQ(Count(), 3);
  EXPECT_TRUE(conn_->Exec("SELECT 1"));
}

TEST_F(PgClientIT, CopyFromPiecesLoadsThemAllOrNoneWhenTheSourceFails) {
  const std::string copy = "COPY " + table_ + " (k, v) FROM STDIN";
  auto loaded = conn_->CopyInFrom(copy, [](const Connection::CopySend& send) -> Status {
    for (std::string_view piece : {"a\to", "ne\nb\t", "two\n"}) {
      if (auto s = send(piece); !s) return s;
    }
    return Ok();
  });
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(*loaded, 2u);
  // The source fails half way: its error comes back, nothing of it is
  // loaded, and the connection goes on.
  auto broken = conn_->CopyInFrom(copy, [](const Connection::CopySend& send) -> Status {
    if (auto s = send("c\tthree\nd\tfour\n"); !s) return s;
    return Fail(ErrorCode::kParse, "the object is damaged");
  });
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), ErrorCode::kParse);
  EXPECT_EQ(broken.error().message(), "the object is damaged");
  EXPECT_EQ(Count(), 2);
  EXPECT_TRUE(conn_->Exec("SELECT 1"));
}

TEST_F(PgClientIT, AnUncommittedTransactionRollsBack) {
  {
    auto tx = Transaction::Begin(*conn_);
    ASSERT_TRUE(tx) << tx.error().ToString();
    ASSERT_TRUE(conn_->Exec("INSERT INTO " + table_ + " (k) VALUES ('gone')"));
  }
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_EQ(Count(), 0);
  {
    auto tx = Transaction::Begin(*conn_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(conn_->Exec("INSERT INTO " + table_ + " (k) VALUES ('kept')"));
    auto committed = tx->Commit();
    ASSERT_TRUE(committed) << committed.error().ToString();
  }
  EXPECT_EQ(Count(), 1);
}

TEST_F(PgClientIT, ConstraintViolationsAreFinalAndNameTheServer) {
  ASSERT_TRUE(conn_->Exec("INSERT INTO " + table_ + " (k) VALUES ('dup')"));
  auto again = conn_->Exec("INSERT INTO " + table_ + " (k) VALUES ('dup')");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(again.error().message().find("SQLSTATE 23505"), std::string::npos)
      << again.error().message();
  EXPECT_NE(again.error().message().find("127.0.0.1:"), std::string::npos)
      << again.error().message();
  auto missing = conn_->Exec("SELECT * FROM " + table_ + "_missing");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("SQLSTATE 42P01"), std::string::npos);
}

TEST_F(PgClientIT, EveryConnectionHasAStatementTimeoutUnlessTheStringSetsOne) {
  auto shown = conn_->Exec("SHOW statement_timeout");
  ASSERT_TRUE(shown) << shown.error().ToString();
  EXPECT_EQ(shown->Get(0, 0), "15min");

  Connection quick(url_, ConnectOptions{.statement_timeout = std::chrono::milliseconds(300)});
  const auto started = std::chrono::steady_clock::now();
  auto slow = quick.Exec("SELECT pg_sleep(30)");
  ASSERT_FALSE(slow) << "a statement outlived its timeout";
  EXPECT_NE(slow.error().message().find("statement timeout"), std::string::npos)
      << slow.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));

  // The string's own setting wins (here: none at all).
  const std::string sep = url_.find('?') == std::string::npos ? "?" : "&";
  Connection own(url_ + sep + "options=-c%20statement_timeout%3D0");
  auto none = own.Exec("SHOW statement_timeout");
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_EQ(none->Get(0, 0), "0");
}

TEST_F(PgClientIT, AConnectionEndedByTheServerIsReplaced) {
  auto pid = conn_->Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid);
  const std::string backend(pid->Get(0, 0));
  Connection admin(url_);
  ASSERT_TRUE(admin.Exec("SELECT pg_terminate_backend($1::int)", {backend}));

  auto lost = conn_->Exec("SELECT 1");
  ASSERT_FALSE(lost) << "the terminated session answered";
  EXPECT_TRUE(lost.error().retriable()) << lost.error().ToString();
  auto back = conn_->Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_NE(back->Get(0, 0), backend);
}

TEST_F(PgClientIT, ALostTransactionFailsAndTheRetryRunsOnANewConnection) {
  auto pid = conn_->Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid);
  const std::string backend(pid->Get(0, 0));
  {
    auto tx = Transaction::Begin(*conn_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(conn_->Exec("INSERT INTO " + table_ + " (k) VALUES ('lost')"));
    ASSERT_TRUE(Connection(url_).Exec("SELECT pg_terminate_backend($1::int)", {backend}));
    auto next = conn_->Exec("INSERT INTO " + table_ + " (k) VALUES ('lost too')");
    ASSERT_FALSE(next);
    EXPECT_TRUE(next.error().retriable()) << next.error().ToString();
    // Not silently reconnected inside the transaction.
    auto after = conn_->Exec("SELECT 1");
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error().code(), ErrorCode::kConnection);
    auto commit = tx->Commit();
    ASSERT_FALSE(commit);
    EXPECT_TRUE(commit.error().retriable());
  }
  EXPECT_EQ(Count(), 0);
  auto tx = Transaction::Begin(*conn_);
  ASSERT_TRUE(tx) << tx.error().ToString();
  ASSERT_TRUE(conn_->Exec("INSERT INTO " + table_ + " (k) VALUES ('retried')"));
  ASSERT_TRUE(tx->Commit());
  EXPECT_EQ(Count(), 1);
}

}  // namespace
}  // namespace kc::pg
