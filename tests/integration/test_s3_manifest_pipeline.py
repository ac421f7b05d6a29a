"""Kinesis → kinesis-connect with the s3_manifest emitter → S3 objects and
their keys on a manifest stream, read back with the AWS CLI: every key on the
manifest stream names an object that exists, the keys of each source shard
come in the order they were written, and every record is in exactly one
object, across kill -9."""

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


class S3ManifestPipelineTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-manifest-")
        self.stream = "mf-" + uuid.uuid4().hex[:10]
        self.manifest = self.stream + "-manifest"
        self.prefix = f"it/{self.stream}/"
        self.rng = random.Random(self.stream)
        harness.s3_endpoint()

    def tearDown(self):
        harness.delete_stream(self.stream)
        harness.delete_stream(self.manifest)
        self.tmp.cleanup()

    def connector(self, buffer_records, pipeline=""):
        return Connector(
            self.tmp.name, self.stream, buffer_records=buffer_records, max_age="300ms",
            extra_pipeline=pipeline, access_key=harness.S3_ACCESS_KEY,
            emitter=f'''type = "s3_manifest"
bucket = "{harness.S3_BUCKET}"
prefix = "{self.prefix}"
key = "{{shard}}/{{first}}-{{last}}"
format = "raw"
manifest_stream = "{self.manifest}"''')

    def manifest_keys(self):
        """The keys on the manifest stream, in stream order; all on one shard
        with the source stream's name as partition key."""
        by_shard = harness.read_stream(self.manifest)
        nonempty = {s: recs for s, recs in by_shard.items() if recs}
        self.assertLessEqual(len(nonempty), 1, "keys spread over several shards")
        keys = []
        for recs in nonempty.values():
            for _, partition_key, data in recs:
                self.assertEqual(partition_key, self.stream)
                keys.append(data.decode())
        return keys

    def assertFlowIsComplete(self, producer, allow_repeats):
        keys = self.manifest_keys()
        objects = harness.s3_objects(self.prefix)
        # Every object is announced, and every announced key is an object.
        self.assertEqual(set(keys), set(objects))
        if not allow_repeats:
            self.assertEqual(len(keys), len(set(keys)))
        # Per source shard, keys come in the order their batches were
        # written: increasing first sequence numbers (a replay may announce
        # a key again, never an older one after a newer one of that shard
        # unless it is the same key).
        last = {}
        for key in keys:
            shard, name = key[len(self.prefix):].split("/")
            first = int(name.split("-")[0])
            if shard in last:
                self.assertGreaterEqual(first, last[shard], key)
            last[shard] = first
        # The objects hold every record exactly once, in shard order.
        expected = producer.expected_by_shard()
        for shard, want in expected.items():
            names = sorted((k for k in objects if k.startswith(f"{self.prefix}{shard}/")),
                           key=lambda k: int(k.rsplit("/", 1)[1].split("-")[0]))
            got = b"".join(objects[k] for k in names)
            self.assertEqual(got, b"".join(d for _, _, d in want), shard)

    def test_every_object_is_announced_in_order(self):
        harness.create_stream(self.stream, 2)
        harness.create_stream(self.manifest, 1)
        producer = Producer(self.stream)
        producer.put(sample_records(1200, self.rng))
        c = self.connector(150)
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertFlowIsComplete(producer, allow_repeats=False)
        self.assertGreaterEqual(len(self.manifest_keys()), 8)

    def test_kill_9_and_restart_lose_no_key(self):
        harness.create_stream(self.stream, 2)
        harness.create_stream(self.manifest, 1)
        producer = Producer(self.stream)
        producer.put(sample_records(1000, self.rng))
        c = self.connector(20, pipeline="records_per_call = 50")
        # Records keep arriving, so each round has something left to write
        # however far the last one got before the kill was seen.
        harness.kill_9_rounds(self, c, lambda: len(harness.s3_keys(self.prefix)), rounds=3,
                              step=3, interval=0.2,
                              after_start=lambda _: producer.put(sample_records(500, self.rng)))
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertFlowIsComplete(producer, allow_repeats=True)

    def test_a_missing_manifest_stream_stops_the_pipeline(self):
        harness.create_stream(self.stream, 1)
        producer = Producer(self.stream)
        producer.put(sample_records(10, self.rng))
        c = self.connector(100)
        self.assertNotEqual(c.run_once(timeout=120), 0)
        log = c.log_text()
        self.assertIn(self.manifest, log)
        # Nothing was checkpointed: a later run with the stream in place
        # delivers everything.
        harness.create_stream(self.manifest, 1)
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertFlowIsComplete(producer, allow_repeats=True)


if __name__ == "__main__":
    unittest.main()
