"""Throttling storms, expired iterators, server errors and broken answers,
injected by the fault proxy between kinesis-connect and the stand-ins,
while records keep arriving. Progress goes on, retries wait with growing,
jittered backoff, and the oracle finds every record: once, in order, for
the file and S3 sinks; duplicates counted for the kinesis sink, whose
PutRecords answers are lost on purpose; every item in the DynamoDB table,
whose writes are throttled, lost and left unprocessed.

KC_SOAK=1 (scripts/soak) runs the storms longer, over more records.
"""

import json
import os
import re
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
import sinks  # noqa: E402
from fault_proxy import (Action, FaultProxy, Response, Rule, aws_error, drop,  # noqa: E402
                         http_status, reset, truncate)
from oracle import harness  # noqa: E402

SOAK = os.environ.get("KC_SOAK") == "1"
RECORDS = 20_000 if SOAK else 1_500
PER_CALL = 200 if SOAK else 50  # records a put-records call (an AWS CLI process)

# The read retry policy of src/engine/pipeline.cc: attempt n (0-based) waits a
# random time up to min(10 s, 100 ms * 2^n).
BASE_MS, CAP_MS = 100, 10_000

RETRY_LINE = re.compile(r"GetRecords on shard (\S+): (.*) \(attempt (\d+)\), retrying in (\d+) ms")


class UnprocessedHalf(Action):
    """A BatchWriteItem answered as DynamoDB does when it takes only part of
    a request: every other item is left out, and named in UnprocessedItems.
    The request cannot be rewritten (it is signed), so it is forwarded whole
    and the items said to be unprocessed are deleted again, with the AWS
    CLI, before the answer goes back. A client that does not send them
    again loses them, and the oracle sees it."""

    def __init__(self, upstream, key):
        self.upstream = upstream
        self.key = key  # the table's hash key attribute

    def apply(self, exchange):
        answer = exchange.forward()
        if answer.status != 200 or json.loads(answer.body).get("UnprocessedItems"):
            exchange.send(answer)
            return
        items = exchange.request.json()["RequestItems"]
        # Every other item; the only one of a request of one.
        left = {table: writes[1::2] or writes for table, writes in items.items() if writes}
        deletes = {table: [{"DeleteRequest": {"Key": {self.key: w["PutRequest"]["Item"][self.key]}}}
                           for w in writes] for table, writes in left.items()}
        if deletes:
            harness.dynamodb("batch-write-item", "--request-items", json.dumps(deletes),
                             endpoint=self.upstream)
        body = json.dumps({"UnprocessedItems": left}).encode()
        exchange.send(Response.make(exchange.request, 200, body, "application/x-amz-json-1.0"))

    def __repr__(self):
        return "unprocessed_half()"


def scripted(proxy, operation, script):
    """Faults at fixed calls of `operation`: {n: action} answers its n-th
    call (1-based) with that action, so that each kind of fault happens in
    every run however the random ones fall. Returns {n: rule}."""
    seen = [0]

    def count(request):
        if request.operation == operation:
            seen[0] += 1
        return False

    proxy.add(Rule(count, drop()))  # never fires: it only counts
    return {n: proxy.add(Rule(lambda request, n=n: request.operation == operation
                              and seen[0] == n, action, times=1))
            for n, action in script.items()}


def kinesis_storm(proxy, seed):
    """Reading made hard: each kind of fault once at a fixed GetRecords call
    (throttled, expired iterator, server error, 503, truncated body, reset
    connection), GetShardIterator and ListShards throttled once, then a
    storm: a third of the GetRecords calls throttled and a few of every
    other kind at random. {name: rule}."""
    proxy.seed = seed
    script = scripted(proxy, "GetRecords", {
        3: aws_error("ProvisionedThroughputExceededException"),
        6: aws_error("ExpiredIteratorException"),
        9: aws_error("InternalFailure", 500),
        12: http_status(503, b"busy"),
        15: truncate(40),
        18: reset(after_bytes=150),
    })
    rules = {f"GetRecords #{n}: {r.action!r}": r for n, r in script.items()}
    for n, r in scripted(proxy, "GetShardIterator", {
            2: aws_error("ProvisionedThroughputExceededException")}).items():
        rules[f"GetShardIterator #{n}: {r.action!r}"] = r
    for n, r in scripted(proxy, "ListShards", {2: aws_error("LimitExceededException")}).items():
        rules[f"ListShards #{n}: {r.action!r}"] = r
    storm = {
        "throttled": Rule("GetRecords", aws_error("ProvisionedThroughputExceededException"),
                          probability=0.3),
        "expired": Rule("GetRecords", aws_error("ExpiredIteratorException"), probability=0.03),
        "internal": Rule("GetRecords", aws_error("InternalFailure", 500), probability=0.03),
        "unavailable": Rule("GetRecords", http_status(503, b"busy"), probability=0.03),
        "truncated": Rule("GetRecords", truncate(40), probability=0.02),
        "reset": Rule("GetRecords", reset(after_bytes=150), probability=0.02),
        "iterator throttled": Rule("GetShardIterator",
                                   aws_error("ProvisionedThroughputExceededException"),
                                   probability=0.2),
        "listing throttled": Rule("ListShards", aws_error("LimitExceededException"),
                                  probability=0.2),
    }
    for name, r in storm.items():
        rules[f"random {name}"] = proxy.add(r)
    return rules


class Storms(sinks.SinkTestCase):
    name_prefix = "storm"

    def setUp(self):
        super().setUp()
        self.proxies = []

    def tearDown(self):
        for p in self.proxies:
            p.stop()
        super().tearDown()

    def proxy(self, upstream):
        p = FaultProxy(upstream=upstream)
        p.start()
        self.proxies.append(p)
        return p

    def sink_storm(self):
        """(service, {name: rule}) of faults for the sink's own calls, put
        in front of that service's endpoint; none by default."""
        return None, {}

    def test_storms_on_every_call_lose_nothing(self):
        harness.create_stream(self.stream, 2)
        seed = int(os.environ.get("KC_FAULT_SEED") or uuid.uuid4().int % (1 << 32))
        kinesis = self.proxy(harness.endpoint())
        rules = kinesis_storm(kinesis, seed)
        endpoints = {"kinesis": kinesis.endpoint}
        service, sink_rules = self.sink_storm()
        if service == "kinesis":  # the sink's calls go through the same proxy
            sink_proxy = kinesis
        elif service:
            sink_proxy = self.proxy(self.sink_upstream())
            sink_proxy.seed = seed + 1
            endpoints[service] = sink_proxy.endpoint
        if service:
            rules.update(self.sink_script(sink_proxy))
            for name, r in sink_rules.items():
                rules[f"random {name}"] = sink_proxy.add(r)
        producer = oracle.NumberedProducer(self.stream)
        producer.start(RECORDS, per_call=PER_CALL)
        c = self.s.connector(endpoints=endpoints)
        self.start(c)
        producer.wait()
        self.deliver_all(c, producer, f" storm (seed {seed})", timeout=600)
        fired = "; ".join(f"{name}: {r.hits}" for name, r in rules.items())
        print(f"faults fired: {fired}", file=sys.stderr)
        # The scripted faults all happened, and the storm was one.
        for name, r in rules.items():
            if not name.startswith("random "):
                self.assertEqual(r.hits, 1, f"{name} did not fire: the test proves less")
        self.assertGreater(rules["random throttled"].hits, 10)
        log = c.log_text()
        self.assertIn("iterator expired; asking for one after the last record read", log)


class FileStorms(Storms, unittest.TestCase):
    sink = sinks.FileSink

    def test_a_throttled_shard_backs_off_with_jitter_and_goes_on(self):
        """Eight throttled GetRecords in a row: each wait is a random time
        under the policy's growing ceiling (not the ceiling itself), the
        calls really are that far apart, and then the shard reads on."""
        harness.create_stream(self.stream, 1)
        producer = oracle.NumberedProducer(self.stream)
        producer.put(200)
        kinesis = self.proxy(harness.endpoint())
        calls = []  # when each GetRecords arrived

        def note(request):
            if request.operation == "GetRecords":
                calls.append(time.monotonic())
            return False

        kinesis.add(Rule(note, drop()))  # never fires: it only notes the time
        storm = kinesis.add(Rule("GetRecords",
                                 aws_error("ProvisionedThroughputExceededException"), times=8))
        c = self.s.connector(endpoints={"kinesis": kinesis.endpoint})
        self.start(c, log_level="debug")
        self.deliver_all(c, producer, ", eight throttled calls first")
        self.assertEqual(storm.hits, 8)
        waits = [(int(m.group(3)), int(m.group(4))) for m in RETRY_LINE.finditer(c.log_text())]
        self.assertEqual([a for a, _ in waits], list(range(1, 9)), c.log_text()[-4000:])
        for attempt, wait in waits:
            ceiling = min(CAP_MS, BASE_MS * 2 ** (attempt - 1))
            self.assertLessEqual(wait, ceiling, f"attempt {attempt}")
        # Full jitter: waits spread under their ceilings. Were they the
        # ceilings themselves, all of attempts 3 to 8 would be at 90 % or
        # more of theirs; by chance that happens once in a million runs.
        near_ceiling = [wait >= 0.9 * min(CAP_MS, BASE_MS * 2 ** (attempt - 1))
                        for attempt, wait in waits[2:]]
        self.assertFalse(all(near_ceiling), f"waits without jitter: {waits}")
        # The process waited what it said (and at least the 200 ms between
        # calls), measured where the calls arrive.
        self.assertGreaterEqual(len(calls), 9)
        for (attempt, wait), before, after in zip(waits, calls, calls[1:]):
            gap_ms = (after - before) * 1000
            self.assertGreaterEqual(gap_ms, max(wait, 200) - 5,
                                    f"attempt {attempt}: waited {gap_ms:.0f} ms, said {wait}")


class S3Storms(Storms, unittest.TestCase):
    """S3 slows down, fails, and loses answers to writes that happened:
    deterministic keys keep it exactly once."""
    sink = sinks.S3Sink

    def sink_upstream(self):
        return harness.s3_endpoint()

    def sink_storm(self):
        return "s3", {
            "slow down": Rule("PutObject", aws_error("SlowDown", 503), probability=0.2),
        }

    def sink_script(self, proxy):
        return {f"PutObject #{n}: {r.action!r}": r for n, r in scripted(proxy, "PutObject", {
            2: aws_error("SlowDown", 503),
            4: aws_error("InternalError", 500),
            6: drop(forward=True),  # written, but the answer is lost
            8: reset(after_bytes=20),
        }).items()}


class PostgresStorms(Storms, unittest.TestCase):
    """Reading made hard, rows and checkpoints committed together: exactly
    once whatever the reads go through. (PostgreSQL speaks no HTTP, so the
    proxy stays in front of Kinesis.)"""
    sink = sinks.PostgresSink


class RedshiftStorms(S3Storms):
    """The S3 manifest flow with both of its streams read through the storm,
    S3 failing the objects' writes and the loader's reads of them."""
    sink = sinks.RedshiftSink

    def sink_storm(self):
        service, rules = super().sink_storm()
        rules["reads slowed down"] = Rule("GetObject", aws_error("SlowDown", 503),
                                          probability=0.2)
        return service, rules

    def sink_script(self, proxy):
        rules = super().sink_script(proxy)
        rules.update({f"GetObject #{n}: {r.action!r}": r for n, r in scripted(proxy, "GetObject", {
            2: aws_error("InternalError", 500),
            4: reset(after_bytes=20),
            6: truncate(10),
        }).items()})
        return rules


class KinesisStorms(Storms, unittest.TestCase):
    """The target stream throttles and loses PutRecords answers: at least
    once, each key in order, the duplicates counted."""
    sink = sinks.KinesisSink

    def sink_storm(self):
        # The target stream is on the same service: its PutRecords calls go
        # through the reader's proxy.
        return "kinesis", {
            "puts throttled": Rule("PutRecords",
                                   aws_error("ProvisionedThroughputExceededException"),
                                   probability=0.2),
            "put answer lost": Rule("PutRecords", drop(forward=True), probability=0.02),
        }

    def sink_script(self, proxy):
        return {f"PutRecords #{n}: {r.action!r}": r for n, r in scripted(proxy, "PutRecords", {
            2: aws_error("ProvisionedThroughputExceededException"),
            4: drop(forward=True),  # put, but the answer is lost: duplicates
            6: aws_error("InternalFailure", 500),
        }).items()}


class DynamoDbStorms(Storms, unittest.TestCase):
    """DynamoDB throttles, fails, loses answers to writes it made, and leaves
    items unprocessed: puts by key keep the table exact."""
    sink = sinks.DynamoDbSink

    def sink_upstream(self):
        return harness.dynamodb_endpoint()

    def sink_storm(self):
        return "dynamodb", {
            "writes throttled": Rule("BatchWriteItem",
                                     aws_error("ProvisionedThroughputExceededException"),
                                     probability=0.2),
            "items unprocessed": Rule("BatchWriteItem",
                                      UnprocessedHalf(self.sink_upstream(), "n"),
                                      probability=0.1),
            "write answer lost": Rule("BatchWriteItem", drop(forward=True), probability=0.02),
        }

    def sink_script(self, proxy):
        return {f"BatchWriteItem #{n}: {r.action!r}": r
                for n, r in scripted(proxy, "BatchWriteItem", {
                    2: aws_error("ProvisionedThroughputExceededException"),
                    4: aws_error("InternalServerError", 500),
                    6: drop(forward=True),  # written, but the answer is lost
                    8: UnprocessedHalf(self.sink_upstream(), "n"),
                    10: reset(after_bytes=20),
                }).items()}


if __name__ == "__main__":
    unittest.main()
