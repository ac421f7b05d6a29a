"""A bad record stops kinesis-connect at that record, every run.

Kinesis (the stand-in, fed by the real AWS CLI) → json transformer →
json_field filter → csv files. The records before the bad one are in the
files exactly once; the bad one and everything after it are not, and a
second run stops at the same record instead of skipping it.
"""

import json
import os
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Connector, Producer  # noqa: E402


def csv_files(directory, stream):
    """{path: bytes} of every csv file the sink wrote for `stream`."""
    out = {}
    for dirpath, _, names in os.walk(os.path.join(directory, stream)):
        for n in names:
            path = os.path.join(dirpath, n)
            if n.startswith(".") and ".tmp." in n:
                continue
            if not n.endswith(".csv"):
                raise AssertionError(f"unexpected file {path}")
            with open(path, "rb") as f:
                out[path] = f.read()
    return out


class BadRecordTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-")
        self.workdir = self.tmp.name
        self.stream = "it-" + uuid.uuid4().hex[:10]

    def tearDown(self):
        harness.delete_stream(self.stream)
        self.tmp.cleanup()

    def test_stops_at_the_bad_record_after_delivering_those_before_it(self):
        harness.create_stream(self.stream, 1)
        producer = Producer(self.stream)
        good_before = [
            {"type": "click", "n": 1, "user": {"id": "u1"}},
            {"type": "view", "n": 2},
            {"type": "click", "n": 3, "user": {"id": "a,\"b\""}, "extra": [1]},
        ]
        records = [("k", json.dumps(r).encode()) for r in good_before]
        records.append(("k", b"not json {"))
        records.append(("k", json.dumps({"type": "click", "n": 5}).encode()))
        producer.put(records)
        sent = producer.expected_by_shard()
        self.assertEqual(len(sent), 1)
        (shard, in_order), = sent.items()
        bad_seq = in_order[3][0]

        c = Connector(
            self.workdir,
            self.stream,
            buffer_records=100,  # the bad record comes in the middle of a batch
            max_age="1h",
            extra_pipeline='transformer = "json"\n'
            '[pipeline.filter]\ntype = "json_field"\nfield = "type"\nequals = ["click"]\n',
            emitter=f"""type = "file"
directory = "{os.path.join(self.workdir, 'out')}"
format = "csv"
fields = ["n", "type", "user.id"]
""",
        )
        expected_rows = b'1,click,u1\n3,click,"a,""b"""\n'
        files = None
        for run in range(2):
            with self.subTest(run=run):
                log_start = os.path.getsize(c.log) if os.path.exists(c.log) else 0
                self.assertEqual(c.run_once(), 1, c.log_text())
                log = c.log_text()[log_start:]
                self.assertIn(
                    f"pipeline files: bad record in stream {self.stream} shard {shard} "
                    f"at sequence number {bad_seq}: not valid JSON",
                    log,
                )
                written = csv_files(c.out, self.stream)
                # Exactly the kept records before the bad one, once, in order.
                self.assertEqual(b"".join(written[p] for p in sorted(written)), expected_rows)
                if files is None:
                    files = written
                else:
                    self.assertEqual(written, files, "the second run wrote something")


if __name__ == "__main__":
    unittest.main()
