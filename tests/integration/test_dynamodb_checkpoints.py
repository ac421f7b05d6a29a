"""Kinesis (the stand-in) → kinesis-connect → files, with checkpoints in DynamoDB.

What users rely on: every record once, in order, across kill -9; one item per
shard under the Kinesis Client Library's attribute names, as the AWS CLI shows
it; a checkpoint set by hand with the AWS CLI is where a run starts; and an
unreachable DynamoDB stops the run with an error naming it.
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


class DynamoDbCheckpointTest(unittest.TestCase):
    # The same oracle as the file pipeline's tests.
    assertDeliveredExactlyOnce = test_file_pipeline.FilePipelineTest.assertDeliveredExactlyOnce

    def setUp(self):
        harness.dynamodb_endpoint()
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-dynamodb-")
        self.workdir = self.tmp.name
        self.stream = "it-" + uuid.uuid4().hex[:10]
        self.table = "it-" + uuid.uuid4().hex[:10]
        self.rng = random.Random(self.stream)

    def tearDown(self):
        harness.delete_stream(self.stream)
        try:
            harness.dynamodb("delete-table", "--table-name", self.table)
        except AssertionError:
            pass  # never created
        self.tmp.cleanup()

    def connector(self, **kwargs):
        checkpoint = f'store = "dynamodb"\ntable = "{self.table}"'
        return Connector(self.workdir, self.stream, checkpoint=checkpoint, **kwargs)

    def item(self, shard):
        key = '{"leaseKey": {"S": "files:%s:%s"}}' % (self.stream, shard)
        got = harness.dynamodb("get-item", "--table-name", self.table, "--key", key,
                               "--consistent-read")
        return got.get("Item")

    def assertItemsHoldTheLastDelivered(self, out_dir):
        delivered = harness.read_envelopes(out_dir, self.stream)
        self.assertTrue(delivered)
        for shard, records in delivered.items():
            item = self.item(shard)
            self.assertIsNotNone(item, shard)
            self.assertEqual(item["checkpoint"]["S"], records[-1][0], shard)
            self.assertEqual(item["checkpointSubSequenceNumber"]["N"], "0", shard)
            self.assertGreater(int(item["leaseCounter"]["N"]), 0, shard)

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
        self.assertItemsHoldTheLastDelivered(c.out)
        self.assertIn(f"DynamoDB table {self.table}", c.log_text())

    def test_a_checkpoint_set_with_the_aws_cli_is_where_the_run_starts(self):
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        producer.put(test_file_pipeline.sample_records(400, self.rng))
        expected = producer.expected_by_shard()
        self.assertEqual(len(expected), 2)
        harness.dynamodb(
            "create-table", "--table-name", self.table, "--billing-mode", "PAY_PER_REQUEST",
            "--attribute-definitions", "AttributeName=leaseKey,AttributeType=S",
            "--key-schema", "AttributeName=leaseKey,KeyType=HASH")
        # A checkpoint set by hand, beside attributes of other programs.
        after = {}
        for shard, records in expected.items():
            cut = len(records) // 3
            item = ('{"leaseKey": {"S": "files:%s:%s"}, "checkpoint": {"S": "%s"}, '
                    '"checkpointSubSequenceNumber": {"N": "0"}, "leaseCounter": {"N": "7"}, '
                    '"leaseOwner": {"S": "worker-1"}}') % (self.stream, shard, records[cut][0])
            harness.dynamodb("put-item", "--table-name", self.table, "--item", item)
            after[shard] = records[cut + 1:]
        c = self.connector(buffer_records=50)
        self.assertEqual(c.run_once(), 0, c.log_text())
        delivered = harness.read_envelopes(c.out, self.stream)
        self.assertEqual(sorted(delivered), sorted(after))
        for shard, want in after.items():
            got = [(s, k, d) for s, k, d, _ in delivered[shard]]
            self.assertEqual(got, want, f"{shard}: exactly the records after the checkpoint set")
            item = self.item(shard)
            self.assertEqual(item["leaseOwner"]["S"], "worker-1", "other attributes are kept")
            self.assertGreater(int(item["leaseCounter"]["N"]), 7)
        self.assertItemsHoldTheLastDelivered(c.out)

    def test_an_unreachable_endpoint_fails_the_run_naming_it(self):
        harness.create_stream(self.stream, 1)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # Nothing listens on `port` once the socket is closed.
        c = self.connector()
        with open(c.config) as f:
            config = f.read()
        config = config.replace(f'dynamodb = "{harness.dynamodb_endpoint()}"',
                                f'dynamodb = "http://127.0.0.1:{port}"')
        with open(c.config, "w") as f:
            f.write(config)
        harness.shorten_sink_retry_for(c)  # not the default hour's wait
        self.assertEqual(c.run_once(timeout=180), 1, c.log_text())
        self.assertIn(f"127.0.0.1:{port}", c.log_text())
        self.assertNotIn(harness.SECRET_KEY, c.log_text())


if __name__ == "__main__":
    unittest.main()
