"""`kinesis-connect check` against the stand-ins: each sink, checkpoint store
and dead-letter destination is reached with a read-only call, one line each,
and `run` refuses to start, within seconds, when one is not there.

Environment: KC_S3_ENDPOINT, KC_DYNAMODB_ENDPOINT, KC_POSTGRES_URL and
KC_REDIS_URL (set by scripts/test), besides harness.py's.
"""

import os
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_postgres_pipeline import pg_url, psql  # noqa: E402


class OnlineChecksTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-check-")
        suffix = uuid.uuid4().hex[:10]
        self.stream = "it-check-" + suffix
        self.letters_stream = "it-check-letters-" + suffix
        self.pg_table = "it_check_" + suffix
        self.items_table = "it-check-items-" + suffix
        self.store_table = "it-check-store-" + suffix
        self.pg_store_table = "it_check_store_" + suffix
        harness.create_stream(self.stream, 1)
        harness.create_stream(self.letters_stream, 1)
        psql(f"CREATE TABLE {self.pg_table} (id bigserial PRIMARY KEY, body text)")
        harness.dynamodb(
            "create-table", "--table-name", self.items_table, "--billing-mode", "PAY_PER_REQUEST",
            "--attribute-definitions", "AttributeName=id,AttributeType=S",
            "--key-schema", "AttributeName=id,KeyType=HASH")

    def tearDown(self):
        for stream in (self.stream, self.letters_stream):
            harness.delete_stream(stream)
        psql(f"DROP TABLE IF EXISTS {self.pg_table}; DROP TABLE IF EXISTS {self.pg_store_table}")
        for table in (self.items_table, self.store_table):
            try:
                harness.dynamodb("delete-table", "--table-name", table)
            except AssertionError:
                pass  # never created
        self.tmp.cleanup()

    def config(self, checkpoint=None, bucket=harness.S3_BUCKET, pg_column="body",
               items_table=None, letters_stream=None, letters_dir=None):
        """Three pipelines on one stream: rows of a PostgreSQL table (dead
        letters to files), objects in a bucket (dead letters to a stream),
        items of a DynamoDB table."""
        letters_dir = letters_dir or os.path.join(self.tmp.name, "letters", "new")
        checkpoint = checkpoint or f'store = "dynamodb"\ntable = "{self.store_table}"'
        # Redis keys name no pipeline: pipelines on one stream need apps of
        # their own.
        apps = {name: f'checkpoint_app = "it-check-{name}"' if "redis" in checkpoint else ""
                for name in ("objects", "items")}
        path = os.path.join(self.tmp.name, "connect.toml")
        with open(path, "w") as f:
            f.write(f"""
[aws]
region = "{harness.REGION}"
endpoint = "{harness.endpoint()}"
[aws.endpoints]
s3 = "{harness.s3_endpoint()}"
dynamodb = "{harness.dynamodb_endpoint()}"

[checkpoint]
app = "it-check"
{checkpoint}

[[pipeline]]
name = "rows"
stream = "{self.stream}"
[pipeline.emitter]
type = "postgres"
url = "{pg_url()}"
table = "{self.pg_table}"
column = "{pg_column}"
[pipeline.dead_letter]
type = "file"
directory = "{letters_dir}"

[[pipeline]]
name = "objects"
stream = "{self.stream}"
{apps["objects"]}
[pipeline.emitter]
type = "s3"
bucket = "{bucket}"
[pipeline.dead_letter]
type = "kinesis"
stream = "{letters_stream or self.letters_stream}"

[[pipeline]]
name = "items"
stream = "{self.stream}"
{apps["items"]}
[pipeline.emitter]
type = "dynamodb"
table = "{items_table or self.items_table}"
hash_key = "id"
""")
        return path

    def check(self, path):
        out = subprocess.run([harness.binary(), "check", "-c", path],
                             env=harness.client_env(access_key=harness.S3_ACCESS_KEY),
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.stderr, "", out.stderr)
        return out.returncode, out.stdout.splitlines()

    def run_once(self, path):
        log = os.path.join(self.tmp.name, "run.log")
        with open(log, "w") as f:
            out = subprocess.run([harness.binary(), "run", "-c", path, "--once"],
                                 env=harness.client_env(access_key=harness.S3_ACCESS_KEY),
                                 stdout=f, stderr=f, timeout=120)
        with open(log) as f:
            return out.returncode, f.read()

    def test_every_component_is_reached_one_line_each(self):
        rc, lines = self.check(self.config())
        self.assertEqual(rc, 0, lines)
        letters = os.path.join(self.tmp.name, "letters", "new")
        # What the line shows of the url: host:port/db, never more.
        server = pg_url().split("@", 1)[1]
        # The directory it would be created in, shown whole.
        created_in = os.path.realpath(self.tmp.name)
        self.assertEqual(lines[1:], [
            f"ok    checkpoint store dynamodb: table {self.store_table}: not there yet; it is "
            "created at the first load (dynamodb:CreateTable)",
            f"ok    pipeline rows: stream {self.stream}: ACTIVE, 1 open shard, 24 h retention",
            f"ok    pipeline rows: emitter postgres: table {self.pg_table}: there at "
            f"{server}, may INSERT",
            f"ok    pipeline rows: dead_letter file: directory {letters}: not there yet; it is "
            f"created in {created_in}, writable",
            f"ok    pipeline objects: stream {self.stream}: ACTIVE, 1 open shard, 24 h retention",
            f"ok    pipeline objects: emitter s3: bucket {harness.S3_BUCKET}: reachable",
            f"ok    pipeline objects: dead_letter kinesis: stream {self.letters_stream}: ACTIVE, "
            "1 open shard, 24 h retention",
            f"ok    pipeline items: stream {self.stream}: ACTIVE, 1 open shard, 24 h retention",
            f"ok    pipeline items: emitter dynamodb: table {self.items_table}: ACTIVE, hash key id",
        ])
        self.assertRegex(lines[0], r"^ok    credentials: ")
        # Read-only: nothing was created.
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "letters")))
        tables = harness.dynamodb("list-tables")["TableNames"]
        self.assertNotIn(self.store_table, tables)

        # The same with the other stores: a postgres table created at the
        # first load, a Redis server that answers, a directory.
        for checkpoint, line in (
            (f'store = "postgres"\nurl = "{pg_url()}"\ntable = "{self.pg_store_table}"',
             f"ok    checkpoint store postgres: table {self.pg_store_table}: not there yet at "),
            (f'store = "redis"\nurl = "{harness.redis_url()}"',
             "ok    checkpoint store redis: server "),
            (f'store = "file"\npath = "{self.tmp.name}"',
             f"ok    checkpoint store file: directory {self.tmp.name}: writable"),
        ):
            rc, lines = self.check(self.config(checkpoint=checkpoint))
            self.assertEqual(rc, 0, lines)
            self.assertTrue(lines[1].startswith(line), lines[1])
        # A postgres store's table that is there: it may read and write it.
        psql(f"CREATE TABLE {self.pg_store_table} (app text)")
        rc, lines = self.check(self.config(
            checkpoint=f'store = "postgres"\nurl = "{pg_url()}"\ntable = "{self.pg_store_table}"'))
        self.assertEqual(rc, 0, lines)
        self.assertRegex(lines[1], r", may SELECT and INSERT and UPDATE$")

        # A store's table in a schema that is not there cannot be created.
        rc, lines = self.check(self.config(
            checkpoint=f'store = "postgres"\nurl = "{pg_url()}"\ntable = "nowhere.kc_checkpoints"'))
        self.assertEqual(rc, 1, lines)
        self.assertTrue(lines[1].startswith(
            "FAIL  checkpoint store postgres: table nowhere.kc_checkpoints: PostgreSQL at "),
            lines[1])
        self.assertIn('schema "nowhere" does not exist', lines[1])

    def test_a_loader_that_may_only_insert_passes_and_one_that_may_not_fails(self):
        # COPY needs INSERT only: the check asks the catalog for the
        # columns, not the table itself.
        role = "it_loader_" + self.pg_table[-10:]
        psql(f"CREATE ROLE {role} LOGIN; GRANT INSERT ON {self.pg_table} TO {role}")
        self.addCleanup(psql, f"DROP OWNED BY {role}; DROP ROLE {role}")
        scheme, rest = pg_url().split("://", 1)
        loader_url = f"{scheme}://{role}@{rest.split('@', 1)[1]}"
        with open(self.config()) as f:
            text = f.read().replace(f'url = "{pg_url()}"', f'url = "{loader_url}"')
        path = os.path.join(self.tmp.name, "loader.toml")
        with open(path, "w") as f:
            f.write(text)
        rc, lines = self.check(path)
        self.assertEqual(rc, 0, lines)
        self.assertIn(f"ok    pipeline rows: emitter postgres: table {self.pg_table}: there at "
                      f"{rest.split('@', 1)[1]}, may INSERT", lines)
        psql(f"REVOKE INSERT ON {self.pg_table} FROM {role}")
        rc, lines = self.check(path)
        self.assertEqual(rc, 1, lines)
        self.assertIn(f"FAIL  pipeline rows: emitter postgres: table {self.pg_table}: PostgreSQL "
                      f"at {rest.split('@', 1)[1]}: table {self.pg_table}: the user may not "
                      f"INSERT it; GRANT INSERT ON \"{self.pg_table}\" to the user of the url",
                      lines)

    def test_what_is_missing_fails_check_and_run_naming_it(self):
        not_a_dir = os.path.join(self.tmp.name, "a-file")
        with open(not_a_dir, "w") as f:
            f.write("not a directory")
        path = self.config(checkpoint='store = "redis"\nurl = "redis://127.0.0.1:1"',
                           bucket="kc-no-such-bucket", pg_column="missing_column",
                           items_table="it-check-no-such-table",
                           letters_stream="it-check-no-such-stream", letters_dir=not_a_dir)
        rc, lines = self.check(path)
        self.assertEqual(rc, 1, lines)
        failed = [line for line in lines if line.startswith("FAIL  ")]
        expected = [
            "FAIL  checkpoint store redis: server 127.0.0.1:1 db 0: cannot reach Redis at "
            "127.0.0.1:1",
            f"FAIL  pipeline rows: emitter postgres: table {self.pg_table}: PostgreSQL at ",
            f"FAIL  pipeline rows: dead_letter file: directory {not_a_dir}: {not_a_dir} is not a "
            "directory",
            "FAIL  pipeline objects: emitter s3: bucket kc-no-such-bucket: HeadBucket "
            "kc-no-such-bucket",
            "FAIL  pipeline objects: dead_letter kinesis: stream it-check-no-such-stream: "
            "DescribeStreamSummary",
            "FAIL  pipeline items: emitter dynamodb: table it-check-no-such-table: DescribeTable",
        ]
        self.assertEqual(len(failed), len(expected), lines)
        for line, start in zip(failed, expected):
            self.assertTrue(line.startswith(start), (line, start))
        self.assertIn(f'table {self.pg_table} has no column "missing_column" (it has body, id); '
                      "add the column", failed[1])
        self.assertIn("there is no such bucket: create it, or fix `bucket`", failed[3])
        self.assertIn("it-check-no-such-stream", failed[4])
        self.assertIn("it-check-no-such-table", failed[5])
        # The streams read are fine.
        self.assertEqual(sum(f"stream {self.stream}: ACTIVE" in line for line in lines), 3)

        # run makes the same checks and stops before reading anything.
        started = time.monotonic()
        rc, log = self.run_once(path)
        self.assertEqual(rc, 1, log)
        self.assertLess(time.monotonic() - started, 60, log)
        self.assertIn("check failed: pipeline objects: emitter s3: bucket kc-no-such-bucket: "
                      "HeadBucket kc-no-such-bucket", log)
        self.assertIn("check failed: pipeline items: emitter dynamodb: table "
                      "it-check-no-such-table: DescribeTable", log)
        # Not one shard was started.
        self.assertNotIn("shards", log)
        self.assertNotIn("reading from", log)


if __name__ == "__main__":
    unittest.main()
