"""The S3 manifest → Redshift flow, end to end through the daemon, with
PostgreSQL standing in for Redshift (load_target = "postgres"):

  data stream (JSON records, put with the AWS CLI)
    → pipeline A, s3_manifest: CSV objects in S3, their keys on a manifest stream
    → pipeline B, redshift: the objects COPYed into a PostgreSQL table

The promise checked: the table ends up with exactly the records put, none
lost and none twice, also when the daemon is killed with SIGKILL at
different moments while records keep arriving.

Environment: KC_S3_ENDPOINT and KC_POSTGRES_URL (set by scripts/test),
besides harness.py's.
"""

import base64
import collections
import json
import os
import random
import signal
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Connector, Producer  # noqa: E402
from test_postgres_pipeline import PASSWORD, pg_url, psql, url_with_password  # noqa: E402


class ManifestFlowTest(unittest.TestCase):
    def setUp(self):
        harness.s3_endpoint()
        pg_url()
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-manifest-")
        suffix = uuid.uuid4().hex[:10]
        self.stream = "it-data-" + suffix
        self.manifest_stream = "it-manifest-" + suffix
        self.prefix = f"it/{self.stream}/"
        self.table = "it_flow_" + suffix
        self.file_table = "it_flow_files_" + suffix
        self.rng = random.Random(self.stream)
        self.counter = 0
        psql(f"CREATE TABLE {self.table} (id text NOT NULL, name text, n bigint)")

    def tearDown(self):
        harness.delete_stream(self.stream)
        harness.delete_stream(self.manifest_stream)
        psql(f"DROP TABLE IF EXISTS {self.table}; DROP TABLE IF EXISTS {self.file_table}")
        self.tmp.cleanup()

    def connector(self):
        c = Connector(self.tmp.name, self.stream, access_key=harness.S3_ACCESS_KEY)
        state = os.path.join(self.tmp.name, "state")
        with open(c.config, "w") as f:
            f.write(f"""
[aws]
region = "{harness.REGION}"
endpoint = "{harness.endpoint()}"
[aws.endpoints]
s3 = "{harness.s3_endpoint()}"
kinesis = "{harness.endpoint()}"

[checkpoint]
store = "file"
path = "{state}"
app = "it"

[[pipeline]]
name = "to-s3"
stream = "{self.stream}"
start_at = "trim_horizon"
poll_interval = "200ms"
shard_discovery_interval = "1s"
[pipeline.buffer]
max_records = 40
max_age = "300ms"
[pipeline.emitter]
type = "s3_manifest"
bucket = "{harness.S3_BUCKET}"
prefix = "{self.prefix}data/"
key = "{{shard}}/{{first}}-{{last}}.{{ext}}"
format = "csv"
fields = ["id", "name", "n"]
manifest_stream = "{self.manifest_stream}"
""" + harness.redshift_loader_pipeline(
                "to-db", self.manifest_stream, url_with_password(), self.table,
                ["id", "name", "n"], self.file_table, self.prefix + "manifests/"))
        return c

    def records(self, n):
        """JSON records whose CSV needs quoting: commas, quotes, newlines, unicode."""
        names = ["plain", "comma, inside", 'say "hi"', "two\nlines", "ünï ✓ 🙂", "", None]
        out = []
        for _ in range(n):
            i = self.counter
            self.counter += 1
            record = {"id": f"r{i}", "name": names[i % len(names)], "n": i * 7}
            out.append((f"key-{i % 13}", json.dumps(record).encode()))
        return out

    def count(self):
        return int(psql(f"SELECT count(*) FROM {self.table}").strip())

    def assertExactlyThePutRecords(self, producer):
        want = collections.Counter()
        for _, _, _, data in producer.sent:
            o = json.loads(data)
            want[(o["id"], o["name"], o["n"])] += 1
        # One JSON array per row and line (JSON escapes the newlines in names).
        out = psql(f"SELECT json_build_array(id, name, n) FROM {self.table}")
        got = collections.Counter(tuple(json.loads(line)) for line in out.splitlines() if line)
        self.assertEqual(sum(got.values()), sum(want.values()), "row count")
        duplicated = [r for r, k in got.items() if k > 1]
        self.assertEqual(duplicated[:3], [], "rows loaded twice")
        self.assertEqual(got, want)

    def assertManifestsListTheLoadedFiles(self):
        loaded = set(psql(f"SELECT file FROM {self.file_table}").split())
        data = {f"s3://{harness.S3_BUCKET}/{k}" for k in harness.s3_keys(self.prefix + "data/")}
        self.assertEqual(loaded, data, "every data object loaded, nothing else")
        listed = set()
        for key, body in harness.s3_objects(self.prefix + "manifests/").items():
            self.assertTrue(key.endswith(".manifest"), key)
            for entry in json.loads(body)["entries"]:
                self.assertIs(entry["mandatory"], True)
                listed.add(entry["url"])
        self.assertEqual(listed, loaded)

    def run_until_loaded(self, c, producer, timeout=180):
        proc = c.start()
        harness.wait_until(lambda: self.count() >= len(producer.sent) or proc.poll() is not None,
                           timeout, "every record in the table")
        self.assertIsNone(proc.poll(), c.log_text())
        self.assertEqual(c.terminate(signal.SIGTERM), 0, c.log_text())

    def test_every_record_put_lands_in_the_table_once(self):
        harness.create_stream(self.stream, 2)
        harness.create_stream(self.manifest_stream, 1)
        producer = Producer(self.stream)
        producer.put(self.records(400))
        c = self.connector()
        self.run_until_loaded(c, producer)
        # A second run with more records loads just those.
        producer.put(self.records(60))
        self.run_until_loaded(c, producer)
        self.assertExactlyThePutRecords(producer)
        self.assertManifestsListTheLoadedFiles()
        log = c.log_text()
        self.assertIn("pipeline to-db", log)
        self.assertNotIn(PASSWORD, log)

    def test_kill_9_at_different_moments_while_records_arrive(self):
        harness.create_stream(self.stream, 2)
        harness.create_stream(self.manifest_stream, 1)
        producer = Producer(self.stream)
        producer.put(self.records(200))
        c = self.connector()
        data_prefix = self.prefix + "data/"
        # Each round kills at another point of the flow: as soon as objects
        # are being written, once rows are arriving, and after more loading.
        moments = [
            ("first objects in S3",
             lambda: len(harness.s3_keys(data_prefix)) >= 2),
            ("first rows loaded", lambda: self.count() > 0),
            ("more rows loaded", lambda: self.count() >= min(len(producer.sent), start + 150)),
            ("objects ahead of the loader",
             lambda: len(harness.s3_keys(data_prefix)) >= objects + 2),
        ]
        for round_, (moment, reached) in enumerate(moments):
            start = self.count()
            objects = len(harness.s3_keys(data_prefix))
            proc = c.start()
            # Records keep arriving while it runs.
            producer.put(self.records(80))
            harness.wait_until(lambda: reached() or proc.poll() is not None, 120,
                               f"round {round_}: {moment}", interval=0.05)
            self.assertIsNone(proc.poll(), c.log_text())
            proc.kill()
            proc.wait(timeout=30)
            self.assertLessEqual(self.count(), len(producer.sent))
        producer.put(self.records(50))
        self.run_until_loaded(c, producer)
        self.assertExactlyThePutRecords(producer)
        self.assertManifestsListTheLoadedFiles()
        self.assertNotIn(PASSWORD, c.log_text())

    def test_copy_errors_name_the_statement_without_the_keys(self):
        # PostgreSQL refuses Redshift's COPY FROM 's3://...': the error reaches
        # the log, with the statement redacted, and nothing is recorded.
        harness.create_stream(self.manifest_stream, 1)
        harness.aws("put-record", "--stream-name", self.manifest_stream, "--partition-key", "k",
                    "--data", base64.b64encode(b"some/key.csv").decode())
        c = self.connector()
        with open(c.config) as f:
            config = f.read()
        # Only the loading pipeline, aimed at Redshift.
        config = config[:config.index("[[pipeline]]")] + config[config.index(
            '[[pipeline]]\nname = "to-db"'):]
        config = config.replace('copy_format = "csv"\nload_target = "postgres"',
                                'copy_format = "csv"\nregion = "eu-west-1"')
        with open(c.config, "w") as f:
            f.write(config)
        self.assertEqual(c.run_once(), 1, c.log_text())
        log = c.log_text()
        self.assertIn(f"s3://{harness.S3_BUCKET}/{self.prefix}manifests/", log)
        self.assertIn("ACCESS_KEY_ID '***' SECRET_ACCESS_KEY '***' FORMAT AS CSV REGION "
                      "'eu-west-1' MANIFEST", log)
        self.assertIn("SQLSTATE 42601", log)
        self.assertNotIn(harness.SECRET_KEY, log)
        self.assertNotIn(harness.S3_ACCESS_KEY + "'", log)
        self.assertNotIn(PASSWORD, log)
        self.assertEqual(psql(f"SELECT count(*) FROM {self.file_table}").strip(), "0")


class ManifestFlowExampleTest(unittest.TestCase):
    def test_validate_accepts_the_shipped_example(self):
        harness.assert_example_validates(self, "manifest_flow.toml", "ok, 2 pipelines")


if __name__ == "__main__":
    unittest.main()
