"""Records aggregated in the KPL's format by an independent implementation
(the npm package aws-kinesis-agg), mixed with plain and malformed ones,
through kinesis-connect to files.

What users rely on: every user record arrives once, in order, with its own
partition key and its sub-sequence number, also when batches end inside an
aggregate and the process is killed with SIGKILL between them; a record
that only looks aggregated (bad MD5, truncated, not protobuf) arrives
unchanged; with deaggregate = false aggregates arrive whole.
"""

import base64
import hashlib
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

STAND_INS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stand-ins")
MAGIC = b"\xf3\x89\x9a\xc2"


def aggregate_with_npm(groups):
    """groups: lists of (partition key, data bytes) → one aggregated record each."""
    payload = [[{"partitionKey": k, "data": base64.b64encode(d).decode()} for k, d in g]
               for g in groups]
    out = subprocess.run(["node", os.path.join(STAND_INS, "kpl-aggregate.js")],
                         input=json.dumps(payload), capture_output=True, text=True, timeout=120,
                         check=False)
    if out.returncode != 0:
        raise AssertionError(f"kpl-aggregate.js failed: {out.stderr}")
    return [(r["PartitionKey"], base64.b64decode(r["Data"])) for r in json.loads(out.stdout)]


class KplAggregatesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-kpl-")
        self.workdir = self.tmp.name
        self.stream = "it-" + uuid.uuid4().hex[:10]
        self.rng = random.Random(self.stream)

    def tearDown(self):
        harness.delete_stream(self.stream)
        self.tmp.cleanup()

    def make_records(self, prefix="", count=60):
        """Aggregates, plain and malformed records, shuffled; and what each
        Kinesis record is expected to turn into."""
        groups = []
        for i in range(count):
            n = self.rng.randrange(1, 21)
            groups.append([(f"{prefix}u{i}-{j % 3}", bytes(self.rng.randrange(256)
                                                   for _ in range(self.rng.randrange(0, 40))))
                           for j in range(n)])
        aggregates = aggregate_with_npm(groups)
        self.assertEqual(len(aggregates), len(groups))
        expand = {}
        for (key, data), group in zip(aggregates, groups):
            self.assertTrue(data.startswith(MAGIC), "aws-kinesis-agg wrote the KPL format")
            expand[data] = group
        records = list(aggregates)
        records += [(f"{prefix}plain-{i}", f"{prefix}plain record {i}".encode())
                    for i in range(100)]
        good = aggregates[0][1]
        garbage = b"\xff\xfe not a protobuf"
        records += [
            ("bad-md5", good[:-1] + bytes([good[-1] ^ 1])),
            ("truncated", good[:-10]),
            ("not-protobuf", MAGIC + garbage + hashlib.md5(garbage).digest()),
        ]
        self.rng.shuffle(records)
        return records, expand

    @staticmethod
    def expected(producer, expand):
        by_shard = {}
        for shard, records in producer.expected_by_shard().items():
            out = by_shard.setdefault(shard, [])
            for seq, key, data in records:
                if data in expand:
                    out += [(seq, sub, k, d) for sub, (k, d) in enumerate(expand[data])]
                else:
                    out.append((seq, 0, key, data))
        return by_shard

    def delivered(self, out_dir):
        return {shard: [r[:4] for r in records]
                for shard, records in harness.read_envelopes(out_dir, self.stream,
                                                             with_sub=True).items()}

    def test_every_user_record_once_in_order_across_kill_9(self):
        harness.create_stream(self.stream, 2)
        records, expand = self.make_records()
        producer = Producer(self.stream)
        producer.put(records)
        want = self.expected(producer, expand)
        total = sum(len(v) for v in want.values())
        self.assertGreater(total, len(records), "aggregates were split")

        # Batches of 7 end inside aggregates; kills land between them, and
        # more aggregates arrive after each.
        def more(round_):
            extra, extra_expand = self.make_records(prefix=f"k{round_}-", count=20)
            expand.update(extra_expand)
            producer.put(extra)

        c = Connector(self.workdir, self.stream, buffer_records=7, max_age="300ms")
        harness.kill_9_rounds(self, c, lambda: sum(len(v) for v in self.delivered(c.out).values()),
                              rounds=3, step=100, after_kill=more)
        self.assertEqual(c.run_once(), 0, c.log_text())
        want = self.expected(producer, expand)
        got = self.delivered(c.out)
        self.assertEqual(sorted(got), sorted(want))
        for shard in want:
            self.assertEqual(got[shard], want[shard], f"{shard}: user records differ")
        self.assertIn("start like a KPL aggregate but are not one", c.log_text())

    def test_without_deaggregation_aggregates_arrive_whole(self):
        harness.create_stream(self.stream, 1)
        records, _ = self.make_records()
        producer = Producer(self.stream)
        producer.put(records)
        c = Connector(self.workdir, self.stream, buffer_records=50,
                      extra_pipeline="deaggregate = false")
        self.assertEqual(c.run_once(), 0, c.log_text())
        got = self.delivered(c.out)
        want = {shard: [(s, 0, k, d) for s, k, d in recs]
                for shard, recs in producer.expected_by_shard().items()}
        self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
