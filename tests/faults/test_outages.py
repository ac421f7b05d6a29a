"""The sink down for a while: its stand-in (one of the test's own) is
stopped while records keep arriving, then started again. Meanwhile no
checkpoint moves, the process stays up with its memory bounded, and once
the sink is back delivery resumes by itself; the oracle then finds every
record once, in order.

KC_SOAK=1 (scripts/soak) makes the outage and the stream longer.
"""

import os
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
# The process's resident memory may grow this much during the outage: the
# reader stops reading once a batch is waiting, whatever arrives meanwhile.
RSS_GROWTH_LIMIT_KIB = 64 * 1024


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


class S3Outage(unittest.TestCase):
    def setUp(self):
        harness.endpoint()
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-outage-")
        self.stream = "outage-" + uuid.uuid4().hex[:10]
        self.s3 = standins.StandIn("s3rver", os.path.join(self.tmp.name, "s3"), "kc-outage")
        self.s3.start()

    def tearDown(self):
        self.s3.stop()
        harness.delete_stream(self.stream)
        self.tmp.cleanup()

    def test_s3_down_for_a_while_then_back(self):
        harness.create_stream(self.stream, 2)
        sink = sinks.S3Sink(self.tmp.name, self.stream, bucket="kc-outage",
                            endpoint=self.s3.endpoint)
        c = sink.connector(endpoints={"s3": self.s3.endpoint})
        producer = oracle.NumberedProducer(self.stream, pad=100)
        producer.start(RECORDS, per_call=25)
        proc = c.start(stats_interval="500ms")
        harness.wait_until(lambda: sink.unique_delivered() >= 100 or proc.poll() is not None,
                           120, "the first records in S3", interval=0.5)
        self.assertIsNone(proc.poll(), c.log_text()[-3000:])

        self.s3.stop()
        outage_started = time.monotonic()
        # Once an emit has failed, nothing may move until S3 is back.
        harness.wait_until(lambda: "the checkpoint stays put" in c.log_text()
                           or proc.poll() is not None, 120, "a failed emit", interval=0.2)
        self.assertIsNone(proc.poll(), c.log_text()[-3000:])
        state = os.path.join(self.tmp.name, "state")
        held = snapshot(state)
        rss_before = rss_kib(proc.pid)
        rss_peak = rss_before
        read_at_first_failure = c.stats()["read"]
        # Samples for the rest of the outage while records keep arriving.
        while time.monotonic() - outage_started < OUTAGE_SECONDS:
            self.assertIsNone(proc.poll(), "exited during the outage:\n" + c.log_text()[-3000:])
            rss_peak = max(rss_peak, rss_kib(proc.pid))
            self.assertEqual(snapshot(state), held, "a checkpoint moved while S3 was down")
            time.sleep(0.5)  # the sampling period, not a wait for an event
        read_during = c.stats()["read"] - read_at_first_failure
        print(f"\ns3 outage {OUTAGE_SECONDS} s: RSS {rss_before} KiB at the first failed emit, "
              f"peak {rss_peak} KiB; {read_during} records read meanwhile, "
              f"{producer.next} put so far", file=sys.stderr)
        self.assertLess(rss_peak - rss_before, RSS_GROWTH_LIMIT_KIB)

        self.s3.start()
        producer.wait()
        want = len(producer.sent)
        harness.wait_until(lambda: sink.unique_delivered() >= want or proc.poll() is not None,
                           300, f"all {want} records in S3 after the outage", interval=1.0)
        self.assertIsNone(proc.poll(), c.log_text()[-3000:])
        self.assertEqual(c.terminate(), 0, c.log_text()[-3000:])
        verdict = sink.verdict(producer)
        print(f"s3 after the outage: {verdict.summary()}", file=sys.stderr)
        self.assertTrue(verdict.ok(exactly_once=True), verdict.summary())


if __name__ == "__main__":
    unittest.main()
