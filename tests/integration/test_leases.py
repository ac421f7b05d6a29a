"""Several kinesis-connect processes share a stream through a lease table in
DynamoDB (dynalite), each a process of its own run from the same file with its
own worker id: the shards are spread evenly and stay put, a killed worker's
shards are taken over within three failover times, and the file sink holds
every record exactly once, in order per shard. The lease table is read with
the real AWS CLI."""

import collections
import datetime
import os
import random
import re
import shutil
import signal
import tempfile
import threading
import time
import unittest
import uuid

from harness import (Connector, Producer, create_stream, delete_stream, dynamodb, read_envelopes,
                     wait_for_connector, wait_until)

FAILOVER = 3.0  # failover_time of every worker, seconds


class Workers:
    """Worker processes of one pipeline ("files") on `stream`, writing to one
    directory, with their leases in a table of this test's own."""

    def __init__(self, test, stream):
        self.test = test
        self.stream = stream
        self.dir = tempfile.mkdtemp(prefix="kc-leases-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.out = os.path.join(self.dir, "out")
        self.app = "kc-leases-" + uuid.uuid4().hex[:8]
        self.table = f"{self.app}-files"
        test.addCleanup(self._drop_table)
        self.workers = {}

    def _drop_table(self):
        try:
            dynamodb("delete-table", "--table-name", self.table)
        except AssertionError:
            pass

    def connector(self, name):
        if name not in self.workers:
            os.makedirs(os.path.join(self.dir, name), exist_ok=True)
            self.workers[name] = Connector(
                os.path.join(self.dir, name), self.stream, buffer_records=50, max_age="1s",
                emitter=f'type = "file"\ndirectory = "{self.out}"\nformat = "envelope"',
                checkpoint=f'store = "dynamodb"\napp = "{self.app}"',
                extra_top=f'[leases]\nworker_id = "${{KC_WORKER}}"\nfailover_time = "{FAILOVER:g}s"',
                extra_env={"KC_WORKER": name})
        return self.workers[name]

    def start(self, name):
        c = self.connector(name)
        c.start()
        self.test.addCleanup(self._stop, c)
        return c

    @staticmethod
    def _stop(c):
        if c.proc and c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait(timeout=30)

    def leases(self):
        """{shard id: (owner or None, counter, checkpoint)}, read with the AWS CLI."""
        try:
            items = dynamodb("scan", "--table-name", self.table, "--consistent-read")["Items"]
        except AssertionError:
            return {}  # not created yet
        return {
            i["leaseKey"]["S"]: (i.get("leaseOwner", {}).get("S"), int(i["leaseCounter"]["N"]),
                                 i.get("checkpoint", {}).get("S"))
            for i in items
        }

    def spread(self):
        return dict(collections.Counter(owner for owner, _, _ in self.leases().values()))

    def wait_spread(self, expected, timeout, what):
        workers = [self.workers[n] for n in self.workers if self.workers[n].proc.poll() is None]
        start = time.monotonic()
        try:
            wait_until(lambda: self.spread() == expected, timeout, what, interval=0.1)
        except AssertionError as e:
            logs = "\n".join(f"--- {n}:\n{c.log_text()[-3000:]}" for n, c in self.workers.items())
            raise AssertionError(f"{e}; spread {self.spread()}\n{logs}")
        for w in workers:
            self.test.assertIsNone(w.proc.poll(), w.log_text()[-3000:])
        return time.monotonic() - start

    def assert_no_errors(self):
        for name, c in self.workers.items():
            self.test.assertIsNone(re.search(r"^\S+Z error ", c.log_text(), re.M),
                                   f"worker {name}:\n{c.log_text()[-4000:]}")

    def log_times(self, name, pattern):
        """The times (seconds since the epoch) and matches of the lines of
        worker `name`'s log that match `pattern`."""
        out = []
        for m in re.finditer(r"^(\S+)Z \S+ .*?" + pattern, self.workers[name].log_text(), re.M):
            when = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
            out.append((when.replace(tzinfo=datetime.timezone.utc).timestamp(), m))
        return out


class LeasesTest(unittest.TestCase):

    def setUp(self):
        self.stream = "kc-leases-" + uuid.uuid4().hex[:8]
        create_stream(self.stream, 12)
        self.addCleanup(delete_stream, self.stream)

    def assert_exactly_once(self, workers, producer, timeout=90):
        expected = producer.expected_by_shard()
        total = sum(len(v) for v in expected.values())

        def delivered():
            return sum(len(v) for v in read_envelopes(workers.out, self.stream).values()) >= total

        wait_until(delivered, timeout, f"{total} records in the files", interval=0.5)
        got = read_envelopes(workers.out, self.stream)
        for shard, records in expected.items():
            self.assertEqual([(s, k, d) for s, k, d, _ in got.get(shard, [])], records,
                             f"shard {shard}: not every record exactly once, in order")
        self.assertEqual(set(got) - set(expected), set())

    def test_three_workers_hold_four_shards_each_and_stay(self):
        workers = Workers(self, self.stream)
        for name in ("a", "b", "c"):
            workers.start(name)
        took = workers.wait_spread({"a": 4, "b": 4, "c": 4}, 3 * FAILOVER, "4 leases each")
        # Stays: the owners do not change for two failover times, while the
        # counters move (every lease is renewed).
        before = workers.leases()
        deadline = time.monotonic() + 2 * FAILOVER
        while time.monotonic() < deadline:
            now = workers.leases()
            self.assertEqual({k: v[0] for k, v in now.items()}, {k: v[0] for k, v in before.items()})
            time.sleep(0.2)
        after = workers.leases()
        for shard, (owner, counter, _) in after.items():
            self.assertGreater(counter, before[shard][1], f"lease of {shard} was not renewed")
        for name, c in workers.workers.items():
            self.assertEqual(c.terminate(), 0, c.log_text()[-3000:])
        workers.assert_no_errors()
        # SIGTERM gave every lease back.
        self.assertEqual(workers.spread(), {None: 12})
        print(f"\n  12 leases spread 4/4/4 over 3 workers {took:.1f}s after they started")

    def test_a_killed_workers_shards_are_taken_over_and_every_record_lands_once(self):
        workers = Workers(self, self.stream)
        for name in ("a", "b", "c"):
            workers.start(name)
        workers.wait_spread({"a": 4, "b": 4, "c": 4}, 3 * FAILOVER, "4 leases each")
        producer = Producer(self.stream)
        stop = threading.Event()

        def produce():
            rnd = random.Random(7)
            n = 0
            while not stop.is_set() and n < 6000:
                producer.put([(f"key-{rnd.randrange(10**6)}", f"record {n + i}".encode())
                              for i in range(200)])
                n += 200
                time.sleep(0.1)

        thread = threading.Thread(target=produce)
        thread.start()
        try:
            wait_for_connector(
                workers.workers["c"],
                lambda: sum(len(v) for v in read_envelopes(workers.out, self.stream).values())
                >= 1000, 60, "1000 records in the files")
            workers.workers["c"].proc.kill()
            workers.workers["c"].proc.wait(timeout=30)
            taken = workers.wait_spread({"a": 6, "b": 6}, 3 * FAILOVER,
                                        "the killed worker's leases taken over")
        finally:
            thread.join()
        self.assert_exactly_once(workers, producer)
        for name in ("a", "b"):
            self.assertEqual(workers.workers[name].terminate(), 0)
        del workers.workers["c"]  # killed: its log may end anywhere
        workers.assert_no_errors()
        print(f"\n  a killed worker's 4 leases taken over {taken:.1f}s after the kill; "
              f"{len(producer.sent)} records exactly once")

    def produce_in_background(self, producer, records):
        """Puts `records` records, 200 at a time, on a thread; returns it."""
        def produce():
            rnd = random.Random(11)
            for n in range(0, records, 200):
                producer.put([(f"key-{rnd.randrange(10**6)}", f"record {n + i}".encode())
                              for i in range(200)])
                time.sleep(0.1)

        thread = threading.Thread(target=produce)
        thread.start()
        self.addCleanup(thread.join)
        return thread

    def test_a_paused_worker_loses_its_leases_and_cannot_checkpoint(self):
        workers = Workers(self, self.stream)
        for name in ("a", "b", "c"):
            workers.start(name)
        workers.wait_spread({"a": 4, "b": 4, "c": 4}, 3 * FAILOVER, "4 leases each")
        producer = Producer(self.stream)
        thread = self.produce_in_background(producer, 6000)
        c = workers.workers["c"]
        wait_for_connector(
            c, lambda: sum(len(v) for v in read_envelopes(workers.out, self.stream).values())
            >= 1000, 60, "1000 records in the files")
        c.proc.send_signal(signal.SIGSTOP)
        try:
            workers.wait_spread({"a": 6, "b": 6}, 3 * FAILOVER, "the paused worker's leases taken")
            time.sleep(max(0.0, 2 * FAILOVER - 3 * FAILOVER / 2))
        finally:
            c.proc.send_signal(signal.SIGCONT)
        # Awake, it finds its leases gone: it stops reading those shards and
        # moves none of their checkpoints; then it asks for its share back.
        wait_for_connector(c, lambda: "lost the lease of shard" in c.log_text(), 3 * FAILOVER,
                           "the woken worker to notice its leases are gone")
        thread.join()
        workers.wait_spread({"a": 4, "b": 4, "c": 4}, 10 * FAILOVER, "4 leases each again")
        self.assert_exactly_once(workers, producer)
        for name in ("a", "b", "c"):
            self.assertEqual(workers.workers[name].terminate(), 0)
        workers.assert_no_errors()

    def test_a_rolling_restart_hands_every_lease_over_within_a_second(self):
        workers = Workers(self, self.stream)
        for name in ("a", "b", "c"):
            workers.start(name)
        workers.wait_spread({"a": 4, "b": 4, "c": 4}, 3 * FAILOVER, "4 leases each")
        producer = Producer(self.stream)
        thread = self.produce_in_background(producer, 6000)
        handovers = []
        for name in ("a", "b", "c"):
            w = workers.workers[name]
            self.assertEqual(w.terminate(), 0, w.log_text()[-3000:])
            # Given back on the way out: the others take every one at their
            # next round, without waiting for the failover time.
            wait_until(lambda: None not in workers.spread() and name not in workers.spread(), 5,
                       f"the leases {name} gave back to be taken", interval=0.05)
            # How long each took, from the workers' logs: from the last lease
            # given back to the last one taken.
            given = workers.log_times(name, r"gave back (\d+) leases")
            self.assertTrue(given, w.log_text()[-3000:])
            released_at, m = given[-1]
            taken = [t for other in ("a", "b", "c") if other != name
                     for t, _ in workers.log_times(other, r"took the lease of shard")
                     if t >= released_at - 1]
            self.assertGreaterEqual(len(taken), int(m.group(2)))
            handovers.append(max(taken) - released_at)
            workers.start(name)
            workers.wait_spread({"a": 4, "b": 4, "c": 4}, 10 * FAILOVER,
                                f"4 leases each after {name} restarted")
        thread.join()
        self.assert_exactly_once(workers, producer)
        for name in ("a", "b", "c"):
            self.assertEqual(workers.workers[name].terminate(), 0)
        workers.assert_no_errors()
        for took in handovers:
            self.assertLess(took, 1.0, f"handovers took {handovers}")
        print("\n  leases given back were taken in " +
              ", ".join(f"{t:.2f}s" for t in handovers))


if __name__ == "__main__":
    unittest.main()
