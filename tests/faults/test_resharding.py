"""Split and merge of shards while kinesis-connect consumes and records keep
arriving. A child shard is read only once its parents are read to their
end, so each partition key's records, which move from a parent to a child,
stay in order. The oracle checks it where the sink keeps that order across
shards (the kinesis sink with `ordered = true`, judged per key); checks
every record once, in order per shard, in the file, S3 and PostgreSQL
sinks (PostgreSQL committing rows and checkpoints together, so a child's
first batch commits after its parents' last) and through the S3 manifest
flow into Redshift-via-PostgreSQL; and every item in the DynamoDB table.

KC_SOAK=1 (scripts/soak) reshards more times, with more records.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
import sinks  # noqa: E402
from oracle import harness  # noqa: E402

SOAK = os.environ.get("KC_SOAK") == "1"
RESHARDS = 6 if SOAK else 2  # each one split then merge of its children
RECORDS = 20_000 if SOAK else 2_400
PER_CALL = 100 if SOAK else 40  # records a put-records call (an AWS CLI process)


def open_shards(stream):
    return sorted((s for s in harness.list_shards(stream)
                   if "EndingSequenceNumber" not in s["SequenceNumberRange"]),
                  key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))


def split_then_merge(stream):
    """Splits the widest open shard in two, then merges the two children."""
    widest = max(open_shards(stream), key=lambda s: int(s["HashKeyRange"]["EndingHashKey"]) -
                 int(s["HashKeyRange"]["StartingHashKey"]))
    lo = int(widest["HashKeyRange"]["StartingHashKey"])
    hi = int(widest["HashKeyRange"]["EndingHashKey"])
    harness.aws("split-shard", "--stream-name", stream, "--shard-to-split", widest["ShardId"],
                "--new-starting-hash-key", str((lo + hi) // 2))
    harness.wait_stream_active(stream)
    children = [s for s in open_shards(stream) if s.get("ParentShardId") == widest["ShardId"]]
    assert len(children) == 2, children
    harness.aws("merge-shards", "--stream-name", stream, "--shard-to-merge",
                children[0]["ShardId"], "--adjacent-shard-to-merge", children[1]["ShardId"])
    harness.wait_stream_active(stream)


class Resharding(sinks.SinkTestCase):
    name_prefix = "reshard"

    def test_split_and_merge_under_load(self):
        harness.create_stream(self.stream, 2)
        producer = oracle.NumberedProducer(self.stream, keys=40)
        producer.start(RECORDS, per_call=PER_CALL)
        c = self.s.connector()
        self.start(c)
        for i in range(RESHARDS):
            # Each reshard once the connector is busy with new records.
            target = RECORDS * (i + 1) // (RESHARDS + 2)
            harness.wait_for_connector(c, lambda: self.s.unique_delivered() >= target, 300,
                                       f"{target} records delivered", interval=0.5)
            split_then_merge(self.stream)
        producer.wait()
        self.deliver_all(c, producer, f", {RESHARDS} splits and merges")

        # Parents before children, as the log tells it.
        log = c.log_text().splitlines()

        def line_of(text):
            return next((i for i, line in enumerate(log) if text in line), None)

        shards = harness.list_shards(self.stream)
        self.assertEqual(len(shards), 2 + 3 * RESHARDS)
        for s in shards:
            for parent in (s.get("ParentShardId"), s.get("AdjacentParentShardId")):
                if parent:
                    # "[files]": the pipeline reading the stream resharded
                    # (the redshift flow has a second one, of its own shards).
                    ended = line_of(f"[files] shard {parent}: read to its end")
                    started = line_of(f"[files] shard {s['ShardId']}: reading from")
                    self.assertIsNotNone(ended, f"{parent} never read to its end")
                    self.assertIsNotNone(started, f"{s['ShardId']} never read")
                    self.assertLess(ended, started,
                                    f"{s['ShardId']} started before its parent {parent} ended")


class FileResharding(Resharding, unittest.TestCase):
    sink = sinks.FileSink


class S3Resharding(Resharding, unittest.TestCase):
    sink = sinks.S3Sink


class PostgresResharding(Resharding, unittest.TestCase):
    sink = sinks.PostgresSink


class RedshiftResharding(Resharding, unittest.TestCase):
    sink = sinks.RedshiftSink


class KinesisResharding(Resharding, unittest.TestCase):
    sink = sinks.KinesisSink


class DynamoDbResharding(Resharding, unittest.TestCase):
    sink = sinks.DynamoDbSink


if __name__ == "__main__":
    unittest.main()
