"""Kinesis (the stand-in) → kinesis-connect → DynamoDB (the stand-in).

What users rely on: every JSON record becomes an item, typed as its JSON;
a key written twice holds its later record; a second run over the same
records (a replay) leaves the table as it was; a record that cannot be an
item stops the pipeline with an error naming it, before its checkpoint
moves. The table is read back with the real AWS CLI.
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


class DynamoDbPipelineTest(unittest.TestCase):
    def setUp(self):
        harness.dynamodb_endpoint()
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-dynamodb-emit-")
        self.workdir = self.tmp.name
        self.stream = "it-" + uuid.uuid4().hex[:10]
        self.table = "it-" + uuid.uuid4().hex[:10]
        harness.dynamodb(
            "create-table", "--table-name", self.table, "--billing-mode", "PAY_PER_REQUEST",
            "--attribute-definitions", "AttributeName=id,AttributeType=S",
            "AttributeName=version,AttributeType=N",
            "--key-schema", "AttributeName=id,KeyType=HASH",
            "AttributeName=version,KeyType=RANGE")

    def tearDown(self):
        harness.delete_stream(self.stream)
        harness.dynamodb("delete-table", "--table-name", self.table)
        self.tmp.cleanup()

    def connector(self, **kwargs):
        emitter = f'''type = "dynamodb"
table = "{self.table}"
hash_key = "id"
range_key = "version"
[pipeline.emitter.attribute_types]
amount = "N"'''
        return Connector(self.workdir, self.stream, emitter=emitter, **kwargs)

    def scan(self):
        items = harness.dynamodb("scan", "--table-name", self.table, "--consistent-read")["Items"]
        return {(i["id"]["S"], int(i["version"]["N"])): i for i in items}

    def test_every_record_becomes_an_item_and_a_replay_changes_nothing(self):
        harness.create_stream(self.stream, 2)
        records = []
        for n in range(600):
            # Each order's records share a partition key, so they stay in order.
            order = f"order-{n % 150}"
            body = {"id": order, "version": 1, "n": n, "amount": str(n * 1.5),
                    "tags": ["a", n], "meta": {"ok": n % 2 == 0, "none": None}}
            records.append((order, json.dumps(body).encode()))
        producer = Producer(self.stream)
        producer.put(records)
        c = self.connector(buffer_records=40, max_age="300ms")
        self.assertEqual(c.run_once(), 0, c.log_text())

        items = self.scan()
        self.assertEqual(len(items), 150)
        for o in range(150):
            # The order's last record (the highest n, in shard order) wins.
            n = max(m for m in range(600) if m % 150 == o)
            item = items[(f"order-{o}", 1)]
            self.assertEqual(item["n"], {"N": str(n)})
            # DynamoDB keeps numbers, not their text: 675.0 comes back as 675.
            self.assertEqual(float(item["amount"]["N"]), n * 1.5)
            self.assertEqual(item["tags"], {"L": [{"S": "a"}, {"N": str(n)}]})
            self.assertEqual(item["meta"], {"M": {"ok": {"BOOL": n % 2 == 0},
                                                  "none": {"NULL": True}}})
        self.assertIn(f"DynamoDB table {self.table}", c.log_text())

        # Replay from the start: the same items, nothing added.
        state = os.path.join(self.workdir, "state")
        for root, _, files in os.walk(state):
            for f in files:
                os.unlink(os.path.join(root, f))
        again = self.connector(buffer_records=40, max_age="300ms")
        self.assertEqual(again.run_once(), 0, again.log_text())
        self.assertEqual(self.scan(), items)

    def test_a_record_that_cannot_be_an_item_stops_the_pipeline_naming_it(self):
        harness.create_stream(self.stream, 1)
        producer = Producer(self.stream)
        good = [("k", json.dumps({"id": f"g{i}", "version": i}).encode()) for i in range(30)]
        producer.put(good)
        producer.put([("k", b'{"id": "bad", "version": "not a number"}')])
        producer.put([("k", json.dumps({"id": "after", "version": 1}).encode())])
        bad_seq = producer.sent[30][1]
        c = self.connector(buffer_records=10, max_age="300ms")
        self.assertEqual(c.run_once(), 1, c.log_text())
        log = c.log_text()
        self.assertIn(f"record {bad_seq} of shard", log)
        self.assertIn("attribute 'version' is declared N but holds a string", log)
        items = self.scan()
        # The batches before the bad one are in; nothing at or after it.
        self.assertEqual(set(items), {(f"g{i}", i) for i in range(30)})
        # Its checkpoint stayed before it: a second run stops at it again.
        self.assertEqual(c.run_once(), 1, c.log_text())
        self.assertEqual(set(self.scan()), set(items))


if __name__ == "__main__":
    unittest.main()
