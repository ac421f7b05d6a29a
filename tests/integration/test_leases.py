"""Several kinesis-connect processes share a stream through a lease table in
DynamoDB (dynalite), each a process of its own run from the same file with its
own worker id: the shards are spread evenly and stay put, a killed worker's
shards are taken over within three failover times, and the file sink holds
every record exactly once, in order per shard. The lease table is read with
the real AWS CLI."""

import base64
import collections
import datetime
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from harness import (S3_ACCESS_KEY, S3_BUCKET, Connector, Producer, aws, binary, create_stream,
                     delete_stream, dynamodb, list_shards, read_envelopes, read_stream,
                     s3_objects, wait_for_connector, wait_stream_active, wait_until)

FAILOVER = 3.0  # failover_time of every worker, seconds


class Workers:
    """Worker processes of one pipeline ("files") on `stream`, writing to one
    directory, with their leases in a table of this test's own."""

    def __init__(self, test, stream, out_per_worker=False, table=None, sink="file"):
        self.test = test
        self.stream = stream
        # "file", "s3" (objects under it/<stream>/ in the test bucket) or
        # "kinesis" (into the stream <stream>-copy, made by the caller).
        self.sink = sink
        # Each worker writes to a directory of its own: who emitted what.
        self.out_per_worker = out_per_worker
        self.dir = tempfile.mkdtemp(prefix="kc-leases-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.out = os.path.join(self.dir, "out")
        self.app = "kc-leases-" + uuid.uuid4().hex[:8]
        self.table = table or f"{self.app}-files"
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
            out = self.out + "-" + name if self.out_per_worker else self.out
            table = f'\ntable = "{self.table}"' if self.table != f"{self.app}-files" else ""
            emitter = {
                "file": f'type = "file"\ndirectory = "{out}"\nformat = "envelope"',
                "s3": (f'type = "s3"\nbucket = "{S3_BUCKET}"\nprefix = "it/{self.stream}/"\n'
                       'key = "{shard}/{first}-{last}.{ext}"\nformat = "envelope"'),
                "kinesis": f'type = "kinesis"\nstream = "{self.stream}-copy"',
            }[self.sink]
            self.workers[name] = Connector(
                os.path.join(self.dir, name), self.stream, buffer_records=50, max_age="1s",
                emitter=emitter, access_key=S3_ACCESS_KEY,
                checkpoint=f'store = "dynamodb"\napp = "{self.app}"',
                extra_top=(f'[leases]\nworker_id = "${{KC_WORKER}}"\n'
                           f'failover_time = "{FAILOVER:g}s"{table}'),
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

    def delivered(self):
        """Every record in the files (or S3 objects), per shard, with the
        worker that wrote it: {shard: [(sequence number, key, data, path,
        worker)]}, in order of position."""
        if self.sink == "s3":
            by_shard = {}
            objects = s3_objects(f"it/{self.stream}/")
            for key, body in sorted(objects.items(),
                                    key=lambda kv: int(kv[0].rsplit("/", 1)[1].split("-")[0])):
                for line in body.split(b"\n"):
                    if line:
                        o = json.loads(line)
                        by_shard.setdefault(o["shard_id"], []).append(
                            (o["sequence_number"], o["partition_key"],
                             base64.b64decode(o["data"]), key, None))
            return by_shard
        if not self.out_per_worker:
            return {shard: [r + (None,) for r in records]
                    for shard, records in read_envelopes(self.out, self.stream).items()}
        merged = {}
        for name in self.workers:
            for shard, records in read_envelopes(self.out + "-" + name, self.stream).items():
                merged.setdefault(shard, []).extend(r + (name,) for r in records)
        for records in merged.values():
            records.sort(key=lambda r: int(r[0]))
        return merged

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

    def three_workers(self, **kwargs):
        """Workers a, b and c started, holding 4 leases each within three
        failover times."""
        workers = Workers(self, self.stream, **kwargs)
        for name in ("a", "b", "c"):
            workers.start(name)
        workers.wait_spread({"a": 4, "b": 4, "c": 4}, 3 * FAILOVER, "4 leases each")
        return workers

    def assert_exactly_once(self, workers, producer, timeout=90):
        expected = producer.expected_by_shard()
        total = sum(len(v) for v in expected.values())
        wait_until(lambda: sum(len(v) for v in workers.delivered().values()) >= total, timeout,
                   f"{total} records in the files", interval=0.5)
        got = workers.delivered()
        for shard, records in expected.items():
            self.assertEqual([(s, k, d) for s, k, d, _, _ in got.get(shard, [])], records,
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
        # `status` names each shard's owner and counter, from the lease table.
        a = workers.workers["a"]
        out = subprocess.run([binary(), "status", "-c", a.config], env=a.env(),
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"DynamoDB lease table {workers.table}", out.stdout)
        for shard, (owner, _, _) in after.items():
            line = next((x for x in out.stdout.splitlines() if x.strip().startswith(shard)), "")
            self.assertRegex(line, rf"\s{owner}\s+\d+\s", out.stdout)
        # `check` reaches the lease table.
        out = subprocess.run([binary(), "check", "-c", a.config], env=a.env(),
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertRegex(out.stdout, rf"(?m)^ok\s+pipeline files: leases: lease table "
                         rf"{workers.table}: ", out.stdout)
        for name, c in workers.workers.items():
            self.assertEqual(c.terminate(), 0, c.log_text()[-3000:])
        workers.assert_no_errors()
        # SIGTERM gave every lease back.
        self.assertEqual(workers.spread(), {None: 12})
        print(f"\n  12 leases spread 4/4/4 over 3 workers {took:.1f}s after they started")

    def test_a_killed_workers_shards_are_taken_over_and_every_record_lands_once(self):
        self.kill_one_worker("file")

    def test_a_killed_worker_leaves_every_s3_object_written_once(self):
        self.kill_one_worker("s3")

    def test_a_killed_worker_leaves_every_record_in_the_kinesis_sink_at_least_once(self):
        create_stream(f"{self.stream}-copy", 2)
        self.addCleanup(delete_stream, f"{self.stream}-copy")
        self.kill_one_worker("kinesis")

    def kill_one_worker(self, sink):
        workers = self.three_workers(sink=sink)
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
            wait_for_connector(workers.workers["c"], lambda: len(producer.sent) >= 2000, 60,
                               "2000 records sent")
            workers.workers["c"].proc.kill()
            workers.workers["c"].proc.wait(timeout=30)
            taken = workers.wait_spread({"a": 6, "b": 6}, 3 * FAILOVER,
                                        "the killed worker's leases taken over")
        finally:
            thread.join()
        if sink == "kinesis":
            duplicates = self.assert_at_least_once_in_copy(producer)
            how = f"at least once, {duplicates} duplicates"
        else:
            self.assert_exactly_once(workers, producer)
            how = "exactly once"
        for name in ("a", "b"):
            self.assertEqual(workers.workers[name].terminate(), 0)
        del workers.workers["c"]  # killed: its log may end anywhere
        workers.assert_no_errors()
        print(f"\n  {sink} sink: a killed worker's 4 leases taken over {taken:.1f}s after the "
              f"kill; {len(producer.sent)} records {how}")

    def assert_at_least_once_in_copy(self, producer, timeout=90):
        """Every record sent is in the copy stream at least once, and
        nothing else; returns how many are there more than once."""
        want = collections.Counter((k, d) for _, _, k, d in producer.sent)

        def copied():
            got = collections.Counter()
            for records in read_stream(f"{self.stream}-copy").values():
                got.update((k, d) for _, k, d in records)
            return got if all(got[r] >= 1 for r in want) else None

        got = wait_until(copied, timeout, "every record in the copy stream", interval=1)
        self.assertEqual(set(got) - set(want), set())
        return sum(got.values()) - len(want)

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
        self.pause_one_worker("file")

    def test_a_paused_worker_leaves_every_s3_object_written_once(self):
        self.pause_one_worker("s3")

    def pause_one_worker(self, sink):
        workers = self.three_workers(sink=sink)
        producer = Producer(self.stream)
        thread = self.produce_in_background(producer, 6000)
        c = workers.workers["c"]
        wait_for_connector(c, lambda: len(producer.sent) >= 2000, 60, "2000 records sent")
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
        workers = self.three_workers()
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

    def test_a_split_and_a_merge_keep_parents_before_children_across_workers(self):
        workers = self.three_workers()
        producer = Producer(self.stream)
        thread = self.produce_in_background(producer, 4000)
        wait_until(lambda: sum(len(v) for v in workers.delivered().values()) >= 1000, 60,
                   "1000 records in the files", interval=0.5)
        shards = list_shards(self.stream)
        widest = shards[0]
        lo = int(widest["HashKeyRange"]["StartingHashKey"])
        hi = int(widest["HashKeyRange"]["EndingHashKey"])
        aws("split-shard", "--stream-name", self.stream, "--shard-to-split", widest["ShardId"],
            "--new-starting-hash-key", str((lo + hi) // 2))
        wait_stream_active(self.stream)
        children = [x for x in list_shards(self.stream)
                    if x.get("ParentShardId") == widest["ShardId"]]
        self.assertEqual(len(children), 2)
        aws("merge-shards", "--stream-name", self.stream, "--shard-to-merge",
            children[0]["ShardId"], "--adjacent-shard-to-merge", children[1]["ShardId"])
        wait_stream_active(self.stream)
        thread.join()
        self.assert_exactly_once(workers, producer)
        # Every parent read to its end (by whichever worker) before any of
        # its children started, as the workers' logs tell it.
        ended, started = {}, {}
        for name in workers.workers:
            for t, m in workers.log_times(name, r"\[files\] shard (\S+): read to its end"):
                ended[m.group(2)] = min(t, ended.get(m.group(2), t))
            for t, m in workers.log_times(name, r"\[files\] shard (\S+): reading from"):
                started[m.group(2)] = min(t, started.get(m.group(2), t))
        resharded = [x for x in list_shards(self.stream) if x.get("ParentShardId")]
        self.assertEqual(len(resharded), 3)
        for x in resharded:
            for parent in (x.get("ParentShardId"), x.get("AdjacentParentShardId")):
                if not parent:
                    continue
                self.assertIn(parent, ended, f"{parent} never read to its end")
                self.assertIn(x["ShardId"], started, f"{x['ShardId']} never read")
                self.assertLess(ended[parent], started[x["ShardId"]],
                                f"{x['ShardId']} started before its parent {parent} ended")
        leases = workers.leases()
        self.assertEqual(leases[widest["ShardId"]][2], "SHARD_END")
        for child in children:
            self.assertEqual(leases[child["ShardId"]][2], "SHARD_END")
        for name in ("a", "b", "c"):
            self.assertEqual(workers.workers[name].terminate(), 0)
        workers.assert_no_errors()

    def test_a_fourth_worker_gets_its_share_and_no_shard_has_two_writers(self):
        workers = self.three_workers(out_per_worker=True)
        producer = Producer(self.stream)
        thread = self.produce_in_background(producer, 6000)
        wait_until(lambda: sum(len(v) for v in workers.delivered().values()) >= 1000, 60,
                   "1000 records in the files", interval=0.5)
        workers.start("d")
        took = workers.wait_spread({"a": 3, "b": 3, "c": 3, "d": 3}, 5 * FAILOVER,
                                   "3 leases each with a fourth worker")
        thread.join()
        self.assert_exactly_once(workers, producer)
        # From the sink's side: along each shard the files go from one
        # writer to the next, never back and forth, and a writer's first
        # file was written after the one before it wrote its last.
        for shard, records in workers.delivered().items():
            runs = []  # [(worker, first file's mtime, last file's mtime)]
            for _, _, _, path, worker in records:
                mtime = os.stat(path).st_mtime
                if runs and runs[-1][0] == worker:
                    runs[-1][1] = min(runs[-1][1], mtime)
                    runs[-1][2] = max(runs[-1][2], mtime)
                else:
                    runs.append([worker, mtime, mtime])
            writers = [r[0] for r in runs]
            self.assertEqual(len(writers), len(set(writers)),
                             f"shard {shard} went back and forth between writers: {writers}")
            for before, after in zip(runs, runs[1:]):
                self.assertLessEqual(before[2], after[1],
                                     f"shard {shard}: {after[0]} wrote before {before[0]} was done")
        for name in ("a", "b", "c", "d"):
            self.assertEqual(workers.workers[name].terminate(), 0)
        workers.assert_no_errors()
        print(f"\n  a fourth worker had its 3 leases {took:.1f}s after it started")

    def test_a_kcl_applications_lease_table_is_adopted(self):
        producer = Producer(self.stream)
        producer.put([(f"key-{i}", f"record {i}".encode()) for i in range(1200)])
        expected = producer.expected_by_shard()
        table = "kc-kcl-app-" + uuid.uuid4().hex[:8]
        workers = Workers(self, self.stream, table=table)
        # The table as a stopped KCL 2.x application leaves it: its owner
        # gone, each shard checkpointed part of the way (one never).
        dynamodb("create-table", "--table-name", table, "--attribute-definitions",
                 "AttributeName=leaseKey,AttributeType=S", "--key-schema",
                 "AttributeName=leaseKey,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
        after = {}
        for i, shard in enumerate(sorted(expected)):
            item = {"leaseKey": {"S": shard}, "leaseOwner": {"S": "kcl-worker-1"},
                    "leaseCounter": {"N": str(1000 + i)},
                    "ownerSwitchesSinceCheckpoint": {"N": "0"},
                    "checkpointSubSequenceNumber": {"N": "0"}}
            if i == 0:
                item["checkpoint"] = {"S": "TRIM_HORIZON"}
                after[shard] = expected[shard]
            else:
                cut = min(len(expected[shard]) - 1, i * 7)
                item["checkpoint"] = {"S": expected[shard][cut][0]}
                after[shard] = expected[shard][cut + 1:]
            dynamodb("put-item", "--table-name", table, "--item", json.dumps(item))
        workers.start("a")
        workers.start("b")
        # The KCL's leases expire here after the failover time, then are taken.
        workers.wait_spread({"a": 6, "b": 6}, 4 * FAILOVER, "the KCL leases taken")
        total = sum(len(v) for v in after.values())
        wait_until(lambda: sum(len(v) for v in workers.delivered().values()) >= total, 60,
                   f"{total} records in the files", interval=0.5)
        got = workers.delivered()
        for shard in expected:
            self.assertEqual([(q, k, d) for q, k, d, _, _ in got.get(shard, [])], after[shard],
                             f"shard {shard}: not resumed right after the KCL's checkpoint")
        for name in ("a", "b"):
            self.assertEqual(workers.workers[name].terminate(), 0)
        workers.assert_no_errors()
        # What a KCL worker finds: its own attributes, at our checkpoints.
        leases = workers.leases()
        for shard, records in expected.items():
            self.assertEqual(leases[shard][2], records[-1][0], shard)


if __name__ == "__main__":
    unittest.main()
