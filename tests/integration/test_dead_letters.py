"""Records that cannot be delivered go to the dead-letter destination, and
the pipeline goes on.

What users rely on: a mix of good, malformed (not JSON) and oversized
(over DynamoDB's 400 KB) records lands each in its place — the good ones in
the sink, the others as dead letters naming their stage, error, shard and
position with their data — and the counts add up to what was put; the
same for S3 and Kinesis as destinations, read back with the AWS CLI.
"""

import base64
import json
import os
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Connector, Producer  # noqa: E402


def mixed_records():
    """(key, data) of good JSON objects with malformed and oversized ones
    between them, in order; and the three kinds apart."""
    records, good, malformed, oversized = [], [], [], []
    for i in range(120):
        key = f"k{i % 5}"
        if i % 17 == 3:
            kind, data = malformed, f'{{"id": "m{i}", broken'.encode()
        elif i % 29 == 5:
            kind, data = oversized, json.dumps({"id": f"o{i}", "blob": "x" * 420_000}).encode()
        else:
            kind, data = good, json.dumps({"id": f"g{i}", "n": i}).encode()
        kind.append((key, data))
        records.append((key, data))
    return records, good, malformed, oversized


class DeadLetterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-dlq-")
        self.workdir = self.tmp.name
        self.stream = "it-" + uuid.uuid4().hex[:10]
        self.cleanup = []

    def tearDown(self):
        harness.delete_stream(self.stream)
        for f in self.cleanup:
            f()
        self.tmp.cleanup()

    def put_mixed(self, shards=2):
        harness.create_stream(self.stream, shards)
        records, good, malformed, oversized = mixed_records()
        producer = Producer(self.stream)
        producer.put(records)
        return producer, good, malformed, oversized

    def assertLetter(self, letter, producer, stages):
        sent = {(s, seq): (k, d) for s, seq, k, d in producer.sent}
        key, data = sent[(letter["shard_id"], letter["sequence_number"])]
        self.assertEqual(base64.b64decode(letter["data"]), data)
        self.assertEqual(letter["partition_key"], key)
        self.assertEqual(letter["pipeline"], "files")
        self.assertEqual(letter["stream"], self.stream)
        self.assertEqual(letter["sub_sequence_number"], 0)
        self.assertGreater(letter["approximate_arrival_timestamp"], 0)
        self.assertIn(letter["stage"], stages)
        self.assertTrue(letter["error"])
        return data

    def test_good_malformed_and_oversized_records_each_land_in_their_place(self):
        harness.dynamodb_endpoint()
        table = "it-" + uuid.uuid4().hex[:10]
        harness.dynamodb("create-table", "--table-name", table, "--billing-mode",
                         "PAY_PER_REQUEST", "--attribute-definitions",
                         "AttributeName=id,AttributeType=S", "--key-schema",
                         "AttributeName=id,KeyType=HASH")
        self.cleanup.append(lambda: harness.dynamodb("delete-table", "--table-name", table))
        producer, good, malformed, oversized = self.put_mixed()
        dlq = os.path.join(self.workdir, "dlq")
        c = Connector(self.workdir, self.stream, buffer_records=25, max_age="300ms",
                      emitter=f'type = "dynamodb"\ntable = "{table}"\nhash_key = "id"',
                      extra_pipeline='transformer = "json"\n'
                                     f'[pipeline.dead_letter]\ntype = "file"\ndirectory = "{dlq}"')
        self.assertEqual(c.run_once(), 0, c.log_text())

        items = harness.dynamodb("scan", "--table-name", table, "--consistent-read")["Items"]
        self.assertEqual(sorted(i["id"]["S"] for i in items),
                         sorted(json.loads(d)["id"] for _, d in good))
        letters = []
        for dirpath, _, names in os.walk(dlq):
            for n in names:
                with open(os.path.join(dirpath, n), "rb") as f:
                    letters.append(json.loads(f.read()))
        by_stage = {}
        for letter in letters:
            data = self.assertLetter(letter, producer, {"transform", "emit"})
            by_stage.setdefault(letter["stage"], set()).add(data)
        self.assertEqual(by_stage.get("transform"), {d for _, d in malformed})
        self.assertEqual(by_stage.get("emit"), {d for _, d in oversized})
        for letter in letters:
            if letter["stage"] == "emit":
                self.assertIn("DynamoDB's limit is 400 KB", letter["error"])
        self.assertEqual(len(items) + len(letters), len(producer.sent), "counts add up")
        self.assertIn(f"{len(letters)} dead-lettered", c.log_text())

        # A second run over the same records (from the start) adds nothing.
        for root, _, files in os.walk(os.path.join(self.workdir, "state")):
            for f in files:
                os.unlink(os.path.join(root, f))
        again = Connector(self.workdir, self.stream, buffer_records=25, max_age="300ms",
                          emitter=f'type = "dynamodb"\ntable = "{table}"\nhash_key = "id"',
                          extra_pipeline='transformer = "json"\n'
                                         f'[pipeline.dead_letter]\ntype = "file"\n'
                                         f'directory = "{dlq}"')
        self.assertEqual(again.run_once(), 0, again.log_text())
        count = sum(len(names) for _, _, names in os.walk(dlq))
        self.assertEqual(count, len(letters), "dead-letter files are overwritten, not added")

    def test_s3_and_kinesis_destinations(self):
        harness.s3_endpoint()
        producer, good, malformed, _ = self.put_mixed(shards=1)
        prefix = f"dlq-{uuid.uuid4().hex[:8]}/"
        c = Connector(self.workdir, self.stream, buffer_records=25, max_age="300ms",
                      access_key=harness.S3_ACCESS_KEY,
                      extra_pipeline='transformer = "json"\n'
                                     f'[pipeline.dead_letter]\ntype = "s3"\n'
                                     f'bucket = "{harness.S3_BUCKET}"\nprefix = "{prefix}"')
        self.assertEqual(c.run_once(), 0, c.log_text())
        objects = harness.s3_objects(prefix)
        self.assertEqual(len(objects), len(malformed))
        for key, body in objects.items():
            letter = json.loads(body)
            self.assertTrue(key.startswith(f"{prefix}files/{self.stream}/"), key)
            self.assertEqual(self.assertLetter(letter, producer, {"transform"}),
                             base64.b64decode(letter["data"]))
        self.assertEqual({base64.b64decode(json.loads(b)["data"]) for b in objects.values()},
                         {d for _, d in malformed})

        dlq_stream = "it-dlq-" + uuid.uuid4().hex[:8]
        harness.create_stream(dlq_stream, 1)
        self.cleanup.append(lambda: harness.delete_stream(dlq_stream))
        workdir = os.path.join(self.workdir, "kinesis")
        os.makedirs(workdir)
        k = Connector(workdir, self.stream, buffer_records=25, max_age="300ms",
                      extra_pipeline='transformer = "json"\n'
                                     f'[pipeline.dead_letter]\ntype = "kinesis"\n'
                                     f'stream = "{dlq_stream}"')
        self.assertEqual(k.run_once(), 0, k.log_text())
        got = [json.loads(d) for recs in harness.read_stream(dlq_stream).values()
               for _, _, d in recs]
        self.assertEqual(sorted(base64.b64decode(g["data"]) for g in got),
                         sorted(d for _, d in malformed))
        for letter in got:
            self.assertLetter(letter, producer, {"transform"})


if __name__ == "__main__":
    unittest.main()
