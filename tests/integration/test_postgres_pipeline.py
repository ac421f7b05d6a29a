"""Kinesis (the stand-in, fed by the real AWS CLI) → kinesis-connect → rows of a
PostgreSQL table, with the checkpoints in the same database.

The promises checked: every record written to the stream is in the table
exactly once, in per-shard order, however often the process is killed; with
`columns`, each JSON record's fields land in their columns, a missing field or
null as NULL.

Environment: KC_POSTGRES_URL (set by scripts/test), besides harness.py's.
"""

import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Connector, Producer  # noqa: E402

# The test server trusts local logins, so any password gets in: one that
# must never show up in a log.
PASSWORD = "pw-never-in-logs"


def pg_url():
    url = os.environ.get("KC_POSTGRES_URL")
    if not url:
        harness._missing("KC_POSTGRES_URL is not set; run the tests with scripts/test")
    return url


def url_with_password():
    url = pg_url()
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{PASSWORD}@{host}"


def psql(sql):
    out = subprocess.run(["psql", pg_url(), "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"psql failed: {out.stderr.strip()}")
    return out.stdout


def text_records(n, rng, prefix):
    """Text that COPY must escape or keep as is: tabs, newlines, backslashes,
    quotes, "\\N", non-ASCII. Each record starts with a unique tag."""
    keys = ["alpha", "beta", "gamma", "délta", "ключ", "鍵"]
    shapes = [
        "plain text",
        "tab\there\tand\tthere",
        "two\nlines\r\nand a CR",
        "back\\slash and \\N and \\t",
        "'single' \"double\" ,commas,",
        "ünïcödé ✓ 🙂 中文",
        '{"json": [1, 2, {"k": "v"}]}',
    ]
    return [
        (f"{rng.choice(keys)}-{i % 29}", f"{prefix}-{i}|{shapes[i % len(shapes)]}".encode())
        for i in range(n)
    ]


class PostgresPipelineTest(unittest.TestCase):
    def setUp(self):
        pg_url()
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-pg-")
        self.workdir = self.tmp.name
        suffix = uuid.uuid4().hex[:10]
        self.stream = "it-pg-" + suffix
        self.table = "it_rows_" + suffix
        self.checkpoints = "it_checkpoints_" + suffix
        self.rng = random.Random(self.stream)
        psql(f"CREATE TABLE {self.table} (id bigserial PRIMARY KEY, data text NOT NULL)")

    def tearDown(self):
        harness.delete_stream(self.stream)
        psql(f"DROP TABLE IF EXISTS {self.table}; DROP TABLE IF EXISTS {self.checkpoints}")
        self.tmp.cleanup()

    def connector(self, emitter_url, buffer_records=15, max_age="300ms"):
        return Connector(
            self.workdir, self.stream, buffer_records=buffer_records, max_age=max_age,
            checkpoint=f'store = "postgres"\nurl = "{url_with_password()}"\n'
                       f'table = "{self.checkpoints}"',
            emitter=f'type = "postgres"\nurl = "{emitter_url}"\ntable = "{self.table}"\n'
                    f'column = "data"',
        )

    def rows(self):
        out = subprocess.run(
            ["psql", pg_url(), "-X", "-q", "-At", "-c",
             f"COPY (SELECT data FROM {self.table} ORDER BY id) TO STDOUT WITH (FORMAT csv)"],
            capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [r[0] for r in csv.reader(io.StringIO(out.stdout.decode(), newline=""))]

    def count(self):
        return int(psql(f"SELECT count(*) FROM {self.table}").strip())

    def assertExactlyOnceInShardOrder(self, producer):
        rows = self.rows()
        self.assertEqual(len(rows), len(set(rows)), "duplicated rows")
        where = {data.decode(): (shard, int(seq)) for shard, seq, _, data in producer.sent}
        unknown = [r for r in rows if r not in where]
        self.assertEqual(unknown[:3], [], "rows that were never put (or were altered)")
        self.assertEqual(len(rows), len(producer.sent), "row count")
        by_shard = {}
        for r in rows:
            shard, seq = where[r]
            by_shard.setdefault(shard, []).append(seq)
        for shard, seqs in by_shard.items():
            self.assertEqual(seqs, sorted(seqs), f"{shard}: rows out of order")

    def test_kill_9_while_records_arrive_loads_every_record_exactly_once(self):
        harness.create_stream(self.stream, 4)
        producer = Producer(self.stream)
        producer.put(text_records(1500, self.rng, "start"))
        # Same database for rows and checkpoints: they commit together.
        c = self.connector(url_with_password())
        # Records keep arriving while it loads.
        harness.kill_9_rounds(
            self, c, self.count, rounds=4, step=150,
            after_start=lambda r: producer.put(text_records(150, self.rng, f"during{r}")),
            after_kill=lambda r: self.assertLess(self.count(), len(producer.sent) + 1))
        producer.put(text_records(100, self.rng, "last"))
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertExactlyOnceInShardOrder(producer)
        self.assertIn("exactly once", c.log_text())
        self.assertNotIn(PASSWORD, c.log_text())
        # One checkpoint row per shard of this pipeline, none left pending.
        states = psql(f"SELECT pipeline, shard, pending::text FROM {self.checkpoints} "
                      "ORDER BY shard").split()
        self.assertEqual(len(states), 4, states)
        for line in states:
            pipeline, _, pending = line.split("|")
            self.assertEqual((pipeline, pending), ("files", "[]"))

    def test_with_another_store_every_record_lands_and_the_log_says_at_least_once(self):
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        producer.put(text_records(300, self.rng, "file-store"))
        c = Connector(
            self.workdir, self.stream, buffer_records=40,
            emitter=f'type = "postgres"\nurl = "{url_with_password()}"\n'
                    f'table = "{self.table}"\ncolumn = "data"',
        )
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertExactlyOnceInShardOrder(producer)
        self.assertIn("at least once", c.log_text())
        producer.put(text_records(50, self.rng, "second"))
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertExactlyOnceInShardOrder(producer)

    def test_a_record_that_is_not_text_stops_the_pipeline_naming_it(self):
        harness.create_stream(self.stream, 1)
        producer = Producer(self.stream)
        producer.put([("k", b"fine-1"), ("k", b"\xff\xfe not utf-8"), ("k", b"fine-2")])
        bad_seq = producer.sent[1][1]
        c = self.connector(url_with_password(), buffer_records=100, max_age="1s")
        self.assertEqual(c.run_once(), 1, c.log_text())
        log = c.log_text()
        self.assertIn("bad record", log)
        self.assertIn(bad_seq, log)
        self.assertIn("not valid UTF-8", log)
        self.assertNotIn(PASSWORD, log)
        self.assertEqual(self.count(), 0, "nothing of the bad record's batch is loaded")

    # --- columns: JSON fields into columns ---------------------------------

    COLUMNS = {"tag": "tag", "user_id": "user.id", "kind": "event.kind", "tags": "tags",
               "active": "active", "amount": "amount", "note": "note"}

    def columns_connector(self, buffer_records=40):
        mapping = "\n".join(f'{col} = "{path}"' for col, path in self.COLUMNS.items())
        return Connector(
            self.workdir, self.stream, buffer_records=buffer_records, max_age="300ms",
            checkpoint=f'store = "postgres"\nurl = "{url_with_password()}"\n'
                       f'table = "{self.checkpoints}"',
            emitter=f'type = "postgres"\nurl = "{url_with_password()}"\n'
                    f'table = "{self.cols_table}"\n[pipeline.emitter.columns]\n{mapping}',
        )

    def create_columns_table(self):
        self.cols_table = "it_cols_" + uuid.uuid4().hex[:10]
        psql(f"CREATE TABLE {self.cols_table} (id bigserial PRIMARY KEY, tag text NOT NULL, "
             "user_id bigint, kind text, tags jsonb, active boolean, amount numeric, note text, "
             "untouched text)")
        self.addCleanup(psql, f"DROP TABLE IF EXISTS {self.cols_table}")

    @staticmethod
    def json_records(n, rng, prefix):
        """JSON objects whose fields are sometimes missing or null, with text
        that csv must quote: commas, quotes, newlines, "\\.", "", non-ASCII."""
        notes = ["plain", "a,b", 'say "hi"', "two\nlines\r\n", "\\.", "", "ünï ✓ 🙂",
                 "back\\slash \\N"]
        out = []
        for i in range(n):
            rec = {"tag": f"{prefix}-{i}", "event": {"kind": rng.choice(["click", "view", ""])}}
            if i % 4 == 0:
                rec["user"] = {"id": None}
            elif i % 4 == 1:
                rec["user"] = {"name": "no id"}
            else:
                rec["user"] = {"id": i * 1_000_003}
            if i % 3 == 0:
                rec["tags"] = [i, "x", {"k": None}]
            elif i % 3 == 1:
                rec["tags"] = {"nested": {"deep": [True, 1.5]}}
            if i % 5 != 4:
                rec["active"] = i % 2 == 0
            if i % 2 == 0:
                rec["amount"] = i + 0.25
            else:
                rec["amount"] = None
            if i % 6 != 5:
                rec["note"] = notes[i % len(notes)]
            out.append((f"k{i % 17}", json.dumps(rec, ensure_ascii=bool(i % 2)).encode()))
        return out

    def column_rows(self):
        text = psql(
            "SELECT coalesce(json_agg(row_to_json(t) ORDER BY id), '[]') FROM (SELECT id, tag, "
            f"user_id, kind, tags, active, amount, note, untouched FROM {self.cols_table}) t")
        return json.loads(text)

    def test_columns_load_each_json_field_into_its_column_with_nulls(self):
        self.create_columns_table()
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        producer.put(self.json_records(120, self.rng, "first"))
        c = self.columns_connector()
        self.assertEqual(c.run_once(), 0, c.log_text())
        producer.put(self.json_records(60, self.rng, "second"))
        self.assertEqual(c.run_once(), 0, c.log_text())
        log = c.log_text()
        self.assertIn("exactly once", log)
        self.assertIn("user_id from field user.id", log)
        self.assertNotIn(PASSWORD, log)

        expected = {}
        for _, _, _, data in producer.sent:
            rec = json.loads(data)
            user = rec.get("user", {})
            expected[rec["tag"]] = {
                "tag": rec["tag"],
                "user_id": user.get("id"),
                "kind": rec["event"]["kind"],
                "tags": rec.get("tags"),
                "active": rec.get("active"),
                "amount": rec.get("amount"),
                "note": rec.get("note"),
                "untouched": None,
            }
        rows = self.column_rows()
        self.assertEqual(len(rows), len(producer.sent), "row count")
        got = {}
        for row in rows:
            row.pop("id")
            self.assertNotIn(row["tag"], got, "duplicated row")
            got[row["tag"]] = row
        self.assertEqual(got.keys(), expected.keys())
        for tag, want in expected.items():
            self.assertEqual(got[tag], want, tag)
        # The shapes that matter were all there: NULLs and empty strings apart.
        self.assertTrue(any(r["note"] == "" for r in rows))
        self.assertTrue(any(r["note"] is None for r in rows))
        self.assertTrue(any(r["note"] == "\\." for r in rows))
        self.assertTrue(any(r["user_id"] is None for r in rows))
        self.assertTrue(any(r["kind"] == "" for r in rows))

    def test_columns_a_record_that_is_not_a_json_object_stops_the_pipeline_naming_it(self):
        self.create_columns_table()
        harness.create_stream(self.stream, 1)
        producer = Producer(self.stream)
        producer.put([("k", b'{"tag": "fine-1"}'), ("k", b'[1, 2]'), ("k", b'{"tag": "fine-2"}')])
        bad_seq = producer.sent[1][1]
        c = self.columns_connector(buffer_records=100)
        self.assertEqual(c.run_once(), 1, c.log_text())
        log = c.log_text()
        self.assertIn("bad record", log)
        self.assertIn(bad_seq, log)
        self.assertIn("not a JSON object", log)
        self.assertNotIn(PASSWORD, log)
        self.assertEqual(self.column_rows(), [], "nothing of the bad record's batch is loaded")


class PostgresExampleTest(unittest.TestCase):
    def test_validate_accepts_the_shipped_example(self):
        harness.assert_example_validates(self, "postgres.toml", "ok, 1 pipeline")


if __name__ == "__main__":
    unittest.main()
