"""The sink down for a while: its stand-in (one of the test's own) is
stopped while records keep arriving, then started again. Meanwhile no
checkpoint moves, the process stays up with its memory bounded, and once
the sink is back delivery resumes by itself; the oracle then finds every
record once, in order.

KC_SOAK=1 (scripts/soak) makes the outage and the stream longer.
"""

import os
import re
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
import sinks  # noqa: E402
import standins  # noqa: E402
from oracle import harness  # noqa: E402

SOAK = os.environ.get("KC_SOAK") == "1"
OUTAGE_SECONDS = 180 if SOAK else 25
RECORDS = 20_000 if SOAK else 1_200
PER_CALL = 100 if SOAK else 25  # records a put-records call (an AWS CLI process)
# The process's resident memory may grow this much during the outage: the
# reader stops reading once a batch is waiting, whatever arrives meanwhile.
RSS_GROWTH_LIMIT_KIB = 64 * 1024
# The log line of an emit (or the checkpoint save around it) that failed and
# will be tried again.
FAILED_EMIT = re.compile(r"(emitting|saving the checkpoint of) shard .*retrying in \d+ ms")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def snapshot(directory):
    """{path: contents} of every checkpoint file under `directory`."""
    out = {}
    for dirpath, _, names in os.walk(directory):
        for n in names:
            with open(os.path.join(dirpath, n), "rb") as f:
                out[os.path.relpath(os.path.join(dirpath, n), directory)] = f.read()
    return out


class Outage:
    """The test, for a sink whose service a subclass names: `kind` and
    `args` of its standins.StandIn, `service_name`, the [aws.endpoints]
    entry that points the connector at it (None when the sink's own
    configuration does), `make_sink()`, and `held_state()`: what must not
    change while the service is down (the checkpoints)."""
    kind = None
    args = ()
    service_name = None

    def setUp(self):
        harness.endpoint()
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-outage-")
        self.stream = "outage-" + uuid.uuid4().hex[:10]
        self.standin = self.service()
        self.sink = self.make_sink()
        self.sink.create()

    def tearDown(self):
        self.standin.stop()
        harness.delete_stream(self.stream)
        self.tmp.cleanup()

    def service(self):
        standin = standins.StandIn(self.kind, os.path.join(self.tmp.name, self.kind), *self.args)
        standin.start()
        return standin

    def endpoints(self):
        return {self.service_name: self.standin.endpoint} if self.service_name else {}

    def held_state(self):
        return snapshot(os.path.join(self.tmp.name, "state"))

    def test_sink_down_for_a_while_then_back(self):
        name = self.sink.name
        harness.create_stream(self.stream, 2)
        c = self.sink.connector(endpoints=self.endpoints())
        producer = oracle.NumberedProducer(self.stream, pad=100)
        producer.put(200)
        proc = c.start(stats_interval="500ms")
        harness.wait_for_connector(c, lambda: self.sink.unique_delivered() >= 100, 120,
                                   f"the first records in {name}", interval=0.5)

        self.standin.stop()
        outage_started = time.monotonic()
        producer.start(RECORDS, per_call=PER_CALL)  # records arrive during the outage
        # Once an emit has failed, nothing may move until the sink is back.
        harness.wait_for_connector(c, lambda: FAILED_EMIT.search(c.log_text()), 120,
                                   "a failed emit")
        held = self.held_state()
        rss_before = rss_kib(proc.pid)
        rss_peak = rss_before
        read_at_first_failure = c.stats()["read"]
        # Samples for the rest of the outage while records keep arriving.
        while time.monotonic() - outage_started < OUTAGE_SECONDS:
            self.assertIsNone(proc.poll(), "exited during the outage:\n" + c.log_text()[-3000:])
            rss_peak = max(rss_peak, rss_kib(proc.pid))
            self.assertEqual(self.held_state(), held, f"a checkpoint moved while {name} was down")
            time.sleep(0.5)  # the sampling period, not a wait for an event
        read_during = c.stats()["read"] - read_at_first_failure
        print(f"\n{name} outage {OUTAGE_SECONDS} s: RSS {rss_before} KiB at the first failed "
              f"emit, peak {rss_peak} KiB; {read_during} records read meanwhile, "
              f"{producer.next} put so far", file=sys.stderr)
        self.assertLess(rss_peak - rss_before, RSS_GROWTH_LIMIT_KIB)

        self.standin.start()
        producer.wait()
        sinks.deliver_all(self, self.sink, c, producer, " after the outage")


class S3Outage(Outage, unittest.TestCase):
    kind, args, service_name = "s3rver", ("kc-outage",), "s3"

    def make_sink(self):
        return sinks.S3Sink(self.tmp.name, self.stream, bucket="kc-outage",
                            endpoint=self.standin.endpoint)


class PostgresOutage(Outage, unittest.TestCase):
    """The database holds the rows and the checkpoints: both go away, and
    the connector must connect again once the server is back."""

    kind = "postgres"  # its URL is in the sink's configuration

    def make_sink(self):
        return sinks.PostgresSink(self.tmp.name, self.stream, url=self.standin.endpoint)

    def held_state(self):
        return None  # the checkpoints are in the server that is down

    def test_started_while_the_database_is_down(self):
        """No checkpoint can be loaded: the shards wait for the server (it
        might be restarting, or failing over) instead of the process
        giving up, and deliver once it is back."""
        harness.create_stream(self.stream, 2)
        producer = oracle.NumberedProducer(self.stream)
        producer.put(300)
        self.standin.stop()
        c = self.sink.connector()
        proc = c.start()
        harness.wait_for_connector(
            c, lambda: re.search(r"loading the checkpoint of shard .*retrying in", c.log_text()),
            120, "a failed checkpoint load")
        self.assertIsNone(proc.poll(), c.log_text()[-3000:])
        # The checks at the start saw the server down and only warned.
        self.assertIn("check failed, for now: checkpoint store postgres: table ", c.log_text())
        self.assertIn("the pipeline waits for it", c.log_text())
        self.standin.start()
        sinks.deliver_all(self, self.sink, c, producer, ", started while the server was down")


class DynamoDbOutage(Outage, unittest.TestCase):
    """dynalite keeping its tables on disk, stopped and started again."""

    kind, service_name = "dynalite", "dynamodb"

    def make_sink(self):
        return sinks.DynamoDbSink(self.tmp.name, self.stream, endpoint=self.standin.endpoint)


class KinesisOutage(Outage, unittest.TestCase):
    """The target stream on a kinesalite of its own (streams kept on disk),
    which goes away while the source stream stays: the at-least-once sink,
    so the oracle allows what a lost PutRecords answer puts twice but no
    loss, and each key's records in order."""

    kind = "kinesalite"  # its endpoint is in the sink's configuration

    def make_sink(self):
        return sinks.KinesisSink(self.tmp.name, self.stream, endpoint=self.standin.endpoint)


if __name__ == "__main__":
    unittest.main()
