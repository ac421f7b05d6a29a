"""Kinesis (the stand-in) → kinesis-connect → files, with checkpoints in Redis.

What users switching from the original Go library rely on: every record
once, in order, across kill -9; the key {app}:checkpoint:{stream}:{shard}
holding the last delivered sequence number, as redis-cli shows it; and a key
the Go library left behind is where a run starts.
"""

import os
import random
import socket
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import test_file_pipeline  # noqa: E402
from harness import Connector, Producer  # noqa: E402


class RedisCheckpointTest(unittest.TestCase):
    # The same oracle as the file pipeline's tests.
    assertDeliveredExactlyOnce = test_file_pipeline.FilePipelineTest.assertDeliveredExactlyOnce

    def setUp(self):
        self.url = harness.redis_url()
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-redis-")
        self.workdir = self.tmp.name
        self.stream = "it-" + uuid.uuid4().hex[:10]
        self.app = "it-" + uuid.uuid4().hex[:10]
        self.rng = random.Random(self.stream)

    def tearDown(self):
        harness.delete_stream(self.stream)
        self.tmp.cleanup()

    def connector(self, url=None, **kwargs):
        checkpoint = f'store = "redis"\nurl = "{url or self.url}"\napp = "{self.app}"'
        return Connector(self.workdir, self.stream, checkpoint=checkpoint, **kwargs)

    def key(self, shard):
        return f"{self.app}:checkpoint:{self.stream}:{shard}"

    def assertKeysHoldTheLastDelivered(self, out_dir):
        delivered = harness.read_envelopes(out_dir, self.stream)
        self.assertTrue(delivered)
        for shard, records in delivered.items():
            self.assertEqual(harness.redis_cli("GET", self.key(shard)), records[-1][0], shard)

    def test_kill_9_and_restart_deliver_every_record_once(self):
        harness.create_stream(self.stream, 3)
        producer = Producer(self.stream)
        producer.put(test_file_pipeline.sample_records(2000, self.rng))
        c = self.connector(buffer_records=15, max_age="300ms")
        harness.kill_9_rounds(
            self, c, lambda: harness.count_records(c.out, self.stream), rounds=3, step=150,
            after_kill=lambda r: producer.put(
                test_file_pipeline.sample_records(200, self.rng, prefix=f"k{r}-")))
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertDeliveredExactlyOnce(producer, c.out)
        self.assertKeysHoldTheLastDelivered(c.out)
        self.assertIn("redis store at", c.log_text())

    def test_a_key_left_by_the_go_library_is_where_the_run_starts(self):
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        producer.put(test_file_pipeline.sample_records(400, self.rng))
        expected = producer.expected_by_shard()
        self.assertEqual(len(expected), 2)
        # As the Go library writes it: SET with the plain sequence number.
        after = {}
        for shard, records in expected.items():
            cut = len(records) // 3
            self.assertEqual(harness.redis_cli("SET", self.key(shard), records[cut][0]), "OK")
            after[shard] = records[cut + 1:]
        c = self.connector(buffer_records=50)
        self.assertEqual(c.run_once(), 0, c.log_text())
        delivered = harness.read_envelopes(c.out, self.stream)
        self.assertEqual(sorted(delivered), sorted(after))
        for shard, want in after.items():
            got = [(s, k, d) for s, k, d, _ in delivered[shard]]
            self.assertEqual(got, want, f"{shard}: exactly the records after the Go checkpoint")
        self.assertKeysHoldTheLastDelivered(c.out)

    def test_an_unreachable_server_fails_the_run_naming_it(self):
        harness.create_stream(self.stream, 1)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # Nothing listens on `port` once the socket is closed.
        c = self.connector(url=f"redis://:hunter2@127.0.0.1:{port}")
        harness.shorten_sink_retry_for(c)  # not the default hour's wait
        self.assertEqual(c.run_once(timeout=120), 1, c.log_text())
        log = c.log_text()
        self.assertIn(f"cannot reach Redis at 127.0.0.1:{port}", log)
        self.assertNotIn("hunter2", log)


if __name__ == "__main__":
    unittest.main()
