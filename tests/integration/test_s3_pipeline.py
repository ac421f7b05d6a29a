"""Kinesis (the stand-in, fed by the AWS CLI) → kinesis-connect → S3 (the
s3rver stand-in behind a SigV4 check), read back with the AWS CLI: every
record in exactly one object, in per-shard order, across a kill -9."""

import base64
import gzip
import json
import os
import random
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Connector, Producer  # noqa: E402
from test_file_pipeline import sample_records  # noqa: E402


class S3PipelineTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-s3-")
        self.stream = "s3-" + uuid.uuid4().hex[:10]
        self.prefix = f"it/{self.stream}/"
        self.rng = random.Random(self.stream)
        harness.s3_endpoint()

    def tearDown(self):
        harness.delete_stream(self.stream)
        self.tmp.cleanup()

    def connector(self, buffer_records, extra="", pipeline=""):
        return Connector(
            self.tmp.name, self.stream, buffer_records=buffer_records, max_age="300ms",
            extra_pipeline=pipeline,
            access_key=harness.S3_ACCESS_KEY,
            emitter=f'''type = "s3"
bucket = "{harness.S3_BUCKET}"
prefix = "{self.prefix}"
key = "{{shard}}/{{yyyy}}/{{MM}}/{{dd}}/{{first}}-{{last}}.{{ext}}"
format = "envelope"
compression = "gzip"
{extra}''')

    def delivered(self):
        """Per shard: [(seq, key, data)] from every object, objects in key order."""
        by_shard = {}
        for key, body in sorted(harness.s3_objects(self.prefix).items(),
                                key=lambda kv: int(kv[0].rsplit("/", 1)[1].split("-")[0])):
            self.assertTrue(key.endswith(".jsonl.gz"), key)
            for line in gzip.decompress(body).split(b"\n"):
                if line:
                    o = json.loads(line)
                    by_shard.setdefault(o["shard_id"], []).append(
                        (o["sequence_number"], o["partition_key"], base64.b64decode(o["data"])))
        return by_shard

    def assertExactlyOnce(self, producer):
        expected = producer.expected_by_shard()
        delivered = self.delivered()
        self.assertEqual(sorted(delivered), sorted(expected))
        for shard, want in expected.items():
            got = delivered[shard]
            self.assertEqual(len(got), len({s for s, _, _ in got}), f"{shard}: duplicates")
            self.assertEqual(got, want, shard)

    def test_every_record_in_exactly_one_object(self):
        harness.create_stream(self.stream, 3)
        producer = Producer(self.stream)
        producer.put(sample_records(1500, self.rng))
        c = self.connector(200)
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertExactlyOnce(producer)

    def test_kill_9_and_restart_rewrite_the_same_objects(self):
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        producer.put(sample_records(2000, self.rng))
        # Small pages (paced at five calls a second per shard) keep the run
        # going long enough to be killed in the middle, and records keep
        # arriving, so a round never finds the stream already drained.
        c = self.connector(20, pipeline="records_per_call = 50")
        harness.kill_9_rounds(self, c, lambda: len(harness.s3_keys(self.prefix)), rounds=2,
                              step=3, interval=0.2,
                              after_start=lambda _: producer.put(sample_records(1000, self.rng)))
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertExactlyOnce(producer)

    def test_large_batches_go_up_as_multipart_uploads(self):
        harness.create_stream(self.stream, 1)
        producer = Producer(self.stream)
        # ~12 MiB of incompressible data in one batch: three 5 MiB parts.
        producer.put([(f"k{i}", self.rng.randbytes(60_000)) for i in range(200)])
        c = Connector(
            self.tmp.name, self.stream, buffer_records=1000, max_age="30s",
            access_key=harness.S3_ACCESS_KEY,
            extra_pipeline="",
            emitter=f'''type = "s3"
bucket = "{harness.S3_BUCKET}"
prefix = "{self.prefix}"
format = "raw"
part_size = "5MiB"''')
        with open(c.config) as f:
            config = f.read().replace('max_bytes = "4MiB"', 'max_bytes = "64MiB"')
        with open(c.config, "w") as f:
            f.write(config)
        self.assertEqual(c.run_once(), 0, c.log_text())
        objects = harness.s3_objects(self.prefix)
        self.assertEqual(len(objects), 1, list(objects))
        (key, body), = objects.items()
        want = producer.expected_by_shard()
        self.assertEqual(body, b"".join(d for recs in want.values() for _, _, d in recs))
        # (The stand-in's ETags do not show the part count as S3's do; the
        # unit tests pin the multipart requests themselves.)
        self.assertGreater(len(body), 10 << 20)


if __name__ == "__main__":
    unittest.main()
