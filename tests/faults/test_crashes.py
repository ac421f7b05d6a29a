"""kill -9 of kinesis-connect at random instants, many times in a row, while
records keep arriving; and SIGTERM in the middle of a large batch. After the
last start the oracle reads the sink: every record put is there, in order,
exactly once where the sink promises it.

Short versions run in the test command; KC_SOAK=1 (scripts/soak) runs the
long ones. KC_FAULT_SEED replays a run's random instants (each run prints
its seed).
"""

import os
import random
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
import sinks  # noqa: E402
from oracle import harness  # noqa: E402

SOAK = os.environ.get("KC_SOAK") == "1"
KILLS = 40 if SOAK else 5
RECORDS = 30_000 if SOAK else 1_500
# Records a put-records call: each call is an AWS CLI process, so the long
# runs put more at a time to keep arriving through every kill.
PER_CALL = 200 if SOAK else 50


def seed():
    return int(os.environ.get("KC_FAULT_SEED") or random.SystemRandom().randrange(1 << 32))


class Crashes(sinks.SinkTestCase):
    """The tests, for the sink class `sink` of a subclass."""

    def test_kill_9_at_random_instants_while_records_arrive(self):
        harness.create_stream(self.stream, 2)
        run_seed = seed()
        rng = random.Random(run_seed)
        print(f"\n{self.s.name}: seed {run_seed} (KC_FAULT_SEED replays it), {KILLS} kills, "
              f"{RECORDS} records", file=sys.stderr)
        producer = oracle.NumberedProducer(self.stream)
        producer.start(RECORDS, per_call=PER_CALL)
        c = self.s.connector()
        for kill in range(KILLS):
            proc = self.start(c)
            # The fault schedule itself: a random instant in the process's
            # life, from its start-up to well into its work.
            time.sleep(rng.uniform(0.2, 3.0))
            self.assertIsNone(proc.poll(), f"exited by itself before kill {kill}:\n" +
                              c.log_text()[-3000:])
            proc.kill()
            proc.wait(timeout=30)
        producer.wait()
        self.start(c)
        self.deliver_all(c, producer, f" after {KILLS} kills")

    def test_sigterm_in_a_large_batch_emits_and_checkpoints_all_it_read(self):
        harness.create_stream(self.stream, 2)
        producer = oracle.NumberedProducer(self.stream, pad=200)
        producer.put(2_000)
        # One batch per shard, cut only by the shutdown.
        c = self.s.connector(buffer_records=100_000, max_age="1h")
        self.start(c, stats_interval="200ms")
        harness.wait_for_connector(c, lambda: (c.stats() or {}).get("read", 0) >= 2_000, 120,
                                   "every record read")
        self.assertEqual(self.s.unique_delivered(), 0, "nothing emitted before the stop")
        self.assertEqual(c.terminate(signal.SIGTERM), 0, c.log_text()[-3000:])
        if self.s.loads_on_next_run:
            # The stop emitted what the first pipeline read; the next run
            # loads it.
            self.assertEqual(self.s.staged(), 2_000, "staged by the first pipeline at the stop")
            self.assertEqual(c.run_once(), 0, c.log_text()[-3000:])
        verdict = self.s.verdict(producer)
        self.assertTrue(verdict.ok(self.s.exactly_once), verdict.summary())
        # Checkpointed too: a new run finds nothing left to do.
        before = verdict.delivered
        self.assertEqual(c.run_once(), 0, c.log_text()[-3000:])
        self.assertEqual(self.s.verdict(producer).delivered, before, "the next run re-emitted")


class FileCrashes(Crashes, unittest.TestCase):
    sink = sinks.FileSink


class S3Crashes(Crashes, unittest.TestCase):
    sink = sinks.S3Sink


class PostgresCrashes(Crashes, unittest.TestCase):
    sink = sinks.PostgresSink


class RedshiftCrashes(Crashes, unittest.TestCase):
    sink = sinks.RedshiftSink


class KinesisCrashes(Crashes, unittest.TestCase):
    sink = sinks.KinesisSink


class DynamoDbCrashes(Crashes, unittest.TestCase):
    sink = sinks.DynamoDbSink


if __name__ == "__main__":
    unittest.main()
