"""Kinesis → Kinesis → files, through the daemon, against the Kinesis stand-in:

  source stream (JSON records, put with the AWS CLI)
    → pipeline A, kinesis emitter: the records put on a target stream
    → pipeline B, file emitter: the target stream's records in envelope files

The promise checked: every record put on the source stream reaches the
files, byte for byte, with its partition key, and the records of each
partition key in the order they were put. Delivery is at least once: a
record may arrive twice after a crash (the kinesis emitter puts a replayed
batch again); duplicates are counted and reported, and a run without a
crash must have none.
"""

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


class KinesisEmitterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-kinesis-")
        suffix = uuid.uuid4().hex[:10]
        self.source = "it-src-" + suffix
        self.target = "it-dst-" + suffix
        self.rng = random.Random(suffix)
        self.next_seq = collections.Counter()  # per partition key
        self.counter = 0

    def tearDown(self):
        harness.delete_stream(self.source)
        harness.delete_stream(self.target)
        self.tmp.cleanup()

    def connector(self, emitter_extra="", copy_records=40):
        """Two pipelines in one daemon: A puts the source stream's records on
        the target stream, B writes the target stream to files."""
        c = Connector(self.tmp.name, self.target)
        state = os.path.join(self.tmp.name, "state")
        with open(c.config, "w") as f:
            f.write(f"""
[aws]
region = "{harness.REGION}"
endpoint = "{harness.endpoint()}"

[checkpoint]
store = "file"
path = "{state}"
app = "it"

[[pipeline]]
name = "copy"
stream = "{self.source}"
start_at = "trim_horizon"
poll_interval = "200ms"
shard_discovery_interval = "1s"
[pipeline.buffer]
max_records = {copy_records}
max_age = "300ms"
[pipeline.emitter]
type = "kinesis"
stream = "{self.target}"
{emitter_extra}

[[pipeline]]
name = "files"
stream = "{self.target}"
start_at = "trim_horizon"
poll_interval = "200ms"
shard_discovery_interval = "1s"
[pipeline.buffer]
max_records = 100
max_age = "300ms"
[pipeline.emitter]
type = "file"
directory = "{c.out}"
format = "envelope"
""")
        return c

    def records(self, n):
        """JSON records over 23 partition keys (some not ASCII), each with its
        position among the records of its key."""
        keys = [f"user-{i}" for i in range(20)] + ["délta", "ключ", "emoji-🙂"]
        out = []
        for _ in range(n):
            key = self.rng.choice(keys)
            record = {
                "id": f"r{self.counter}",
                "user": {"id": key},
                "seq": self.next_seq[key],
                "pad": "x" * self.rng.randrange(0, 300),
            }
            self.counter += 1
            self.next_seq[key] += 1
            out.append((key, json.dumps(record, ensure_ascii=False).encode()))
        return out

    def delivered_ids(self, out_dir):
        ids = set()
        for records in harness.read_envelopes(out_dir, self.target).values():
            for _, _, data, _ in records:
                ids.add(json.loads(data)["id"])
        return ids

    def check_delivery(self, producer, out_dir, what):
        """Every record put arrived, byte for byte, with its partition key and
        in order per key; returns the number of duplicates, which it reports."""
        sent = {}
        for _, _, key, data in producer.sent:
            sent[json.loads(data)["id"]] = (key, data)
        counts = collections.Counter()
        first_seen = collections.defaultdict(list)  # key → seq of first arrivals, in order
        for shard, records in harness.read_envelopes(out_dir, self.target).items():
            for seq_number, key, data, _ in records:
                record_id = json.loads(data)["id"]
                self.assertIn(record_id, sent, f"{shard} {seq_number}: a record never put")
                self.assertEqual((key, data), sent[record_id], f"{shard} {seq_number} differs")
                if counts[record_id] == 0:
                    first_seen[key].append(json.loads(data)["seq"])
                counts[record_id] += 1
        missing = sorted(set(sent) - set(counts))
        self.assertEqual(missing[:5], [], f"{len(missing)} records missing")
        for key, seqs in first_seen.items():
            self.assertEqual(seqs, sorted(seqs), f"records of key {key} out of order")
        duplicates = sum(n - 1 for n in counts.values())
        print(f"\n{what}: {len(sent)} records put, all delivered, {duplicates} duplicates "
              f"({sum(1 for n in counts.values() if n > 1)} records more than once)",
              file=sys.stderr)
        return duplicates

    def run_until_delivered(self, c, producer, timeout=180):
        want = {json.loads(data)["id"] for _, _, _, data in producer.sent}
        proc = c.start()
        harness.wait_until(
            lambda: want <= self.delivered_ids(c.out) or proc.poll() is not None, timeout,
            "every record in the files", interval=0.3)
        self.assertIsNone(proc.poll(), c.log_text())
        self.assertEqual(c.terminate(signal.SIGTERM), 0, c.log_text())

    def test_every_record_arrives_in_order_per_key_without_duplicates(self):
        harness.create_stream(self.source, 3)
        harness.create_stream(self.target, 2)
        producer = Producer(self.source)
        producer.put(self.records(1500))
        # Batches of up to 1000 records: more than one PutRecords call each.
        c = self.connector(copy_records=1000)
        self.run_until_delivered(c, producer)
        self.assertEqual(self.check_delivery(producer, c.out, "first run"), 0)
        # A second run puts just the records that came since.
        producer.put(self.records(300))
        self.run_until_delivered(c, producer)
        self.assertEqual(self.check_delivery(producer, c.out, "second run"), 0)
        log = c.log_text()
        self.assertIn(f"records on Kinesis stream {self.target}", log)

    def test_example_config_validates(self):
        harness.assert_example_validates(self, "kinesis_copy.toml", "ok, 2 pipelines")

    def test_kill_9_while_records_arrive_delivers_every_record_in_order(self):
        harness.create_stream(self.source, 2)
        harness.create_stream(self.target, 3)
        producer = Producer(self.source)
        producer.put(self.records(600))
        c = self.connector('partition_key = "field"\npartition_key_field = "user.id"\n'
                           'ordered = true')
        harness.kill_9_rounds(
            self, c, lambda: len(self.delivered_ids(c.out)), rounds=3, step=120,
            after_start=lambda r: producer.put(self.records(150)), interval=0.05)
        self.run_until_delivered(c, producer)
        # Replayed batches were put again: duplicates are allowed, and reported.
        self.check_delivery(producer, c.out, "after 3 kill -9")

    def test_a_record_over_the_limit_stops_the_pipeline_naming_it(self):
        harness.create_stream(self.source, 1)
        harness.create_stream(self.target, 1)
        producer = Producer(self.source)
        # 1 MiB of data is the most the source takes; with its key it is
        # more than Kinesis takes per record on the target.
        producer.put([("k", b"small")] + [("k", b"x" * (1024 * 1024))])
        (shard, in_order), = producer.expected_by_shard().items()
        big_seq = in_order[1][0]
        c = self.connector()
        self.assertNotEqual(c.run_once(), 0, c.log_text())
        log = c.log_text()
        self.assertIn(f"bad record in stream {self.source} shard {shard} at sequence number "
                      f"{big_seq}: its data and partition key come to 1048577 bytes", log)
        self.assertIn("1 MiB", log)
        # The big record was not put, nor anything after it.
        put = [data for records in harness.read_stream(self.target).values()
               for _, _, data in records]
        self.assertIn(put, ([], [b"small"]))


if __name__ == "__main__":
    unittest.main()
