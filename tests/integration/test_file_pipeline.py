"""Kinesis (the stand-in, fed by the real AWS CLI) → kinesis-connect → envelope files.

Every test checks the promise users rely on: each record written to the
stream appears in the files exactly once, byte for byte, in per-shard order.
"""

import os
import random
import signal
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Connector, Producer  # noqa: E402


def sample_records(n, rng, prefix="r"):
    """Text, binary, newline, NUL and non-ASCII partition keys, mixed."""
    keys = ["alpha", "beta", "gamma", "délta", "ключ", "鍵", "emoji-🙂", "k with spaces"]
    out = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            data = f"{prefix}-{i} plain text".encode()
        elif kind == 1:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        elif kind == 2:
            data = f"{prefix}-{i}\nwith\nnewlines\n".encode()
        elif kind == 3:
            data = f"{prefix}-{i}\x00nul\x00bytes".encode()
        else:
            data = f"{prefix}-{i} ünïcödé ✓".encode()
        out.append((f"{rng.choice(keys)}-{i % 37}", data))
    return out


class FilePipelineTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-it-")
        self.workdir = self.tmp.name
        self.stream = "it-" + uuid.uuid4().hex[:10]
        self.rng = random.Random(self.stream)

    def tearDown(self):
        harness.delete_stream(self.stream)
        self.tmp.cleanup()

    def assertDeliveredExactlyOnce(self, producer, out_dir):
        expected = producer.expected_by_shard()
        delivered = harness.read_envelopes(out_dir, self.stream)
        for shard in sorted(set(expected) | set(delivered)):
            want = expected.get(shard, [])
            got = [(s, k, d) for s, k, d, _ in delivered.get(shard, [])]
            seqs = [int(s) for s, _, _ in got]
            self.assertEqual(len(seqs), len(set(seqs)), f"{shard}: duplicated records")
            self.assertEqual(seqs, sorted(seqs), f"{shard}: out of order")
            self.assertEqual(len(got), len(want), f"{shard}: record count")
            for i, (g, w) in enumerate(zip(got, want)):
                self.assertEqual(g, w, f"{shard}: record {i} differs")

    def test_every_record_once_then_only_new_ones(self):
        harness.create_stream(self.stream, 4)
        producer = Producer(self.stream)
        records = sample_records(3000, self.rng)
        # One record near the 1 MiB limit (data + partition key ≤ 1 MiB).
        big_key = "big"
        records.append((big_key, bytes(self.rng.randrange(256) for _ in range(1024 * 1024 - 64))))
        producer.put(records)
        self.assertEqual(len(producer.sent), 3001)
        self.assertEqual(len(producer.expected_by_shard()), 4, "records spread over 4 shards")

        c = Connector(self.workdir, self.stream, buffer_records=250)
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertDeliveredExactlyOnce(producer, c.out)

        # A second run after more records delivers just the new ones.
        files_before = {
            p for recs in harness.read_envelopes(c.out, self.stream).values() for *_, p in recs
        }
        new = sample_records(700, self.rng, prefix="second")
        sent_before = len(producer.sent)
        producer.put(new)
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertDeliveredExactlyOnce(producer, c.out)
        new_seqs = {s for _, s, _, _ in producer.sent[sent_before:]}
        for recs in harness.read_envelopes(c.out, self.stream).values():
            for seq, _, _, path in recs:
                if path not in files_before:
                    self.assertIn(seq, new_seqs, f"{path} repeats an old record")

    def test_sigterm_mid_stream_and_restart_lose_and_duplicate_nothing(self):
        harness.create_stream(self.stream, 4)
        producer = Producer(self.stream)
        producer.put(sample_records(4000, self.rng))
        c = Connector(self.workdir, self.stream, buffer_records=10,
                      extra_pipeline="records_per_call = 100")
        proc = c.start()
        harness.wait_until(
            lambda: harness.count_records(c.out, self.stream) >= 200 or proc.poll() is not None,
            120,
            "the first files",
        )
        self.assertIsNone(proc.poll(), c.log_text())
        self.assertEqual(c.terminate(signal.SIGTERM), 0, c.log_text())
        delivered = harness.count_records(c.out, self.stream)
        self.assertGreater(delivered, 0)
        self.assertLess(delivered, len(producer.sent), "the stop must come mid-stream")
        producer.put(sample_records(500, self.rng, prefix="after"))
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertDeliveredExactlyOnce(producer, c.out)

    def test_kill_9_at_any_moment_loses_and_duplicates_nothing(self):
        harness.create_stream(self.stream, 4)
        producer = Producer(self.stream)
        producer.put(sample_records(3000, self.rng))
        # Small batches cut by count and by age: many pending ranges to replay.
        c = Connector(self.workdir, self.stream, buffer_records=15, max_age="300ms")
        harness.kill_9_rounds(
            self, c, lambda: harness.count_records(c.out, self.stream), rounds=3, step=150,
            after_kill=lambda r: producer.put(sample_records(200, self.rng, prefix=f"kill{r}-")))
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertDeliveredExactlyOnce(producer, c.out)

    def test_gzip_and_zstd_files_hold_every_record(self):
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        producer.put(sample_records(600, self.rng))
        for compression in ("gzip", "zstd"):
            workdir = os.path.join(self.workdir, compression)
            os.makedirs(workdir)
            c = Connector(workdir, self.stream, buffer_records=150,
                          extra_emitter=f'compression = "{compression}"')
            self.assertEqual(c.run_once(), 0, c.log_text())
            suffix = ".gz" if compression == "gzip" else ".zst"
            names = [n for _, _, ns in os.walk(c.out) for n in ns]
            self.assertTrue(names and all(n.endswith(".jsonl" + suffix) for n in names), names)
            self.assertDeliveredExactlyOnce(producer, c.out)

    def test_two_pipelines_on_one_stream_keep_their_own_checkpoints(self):
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        producer.put(sample_records(400, self.rng))
        # Pipeline "files" (envelope) plus a second one writing raw files.
        second_out = os.path.join(self.workdir, "raw-out")
        c = Connector(self.workdir, self.stream, buffer_records=100)
        with open(c.config, "a") as f:
            f.write(f"""
[[pipeline]]
name = "raw"
stream = "{self.stream}"
[pipeline.buffer]
max_records = 7
[pipeline.emitter]
type = "file"
directory = "{second_out}"
format = "raw"
""")
        # The raw sink is broken at first (its directory is a plain file): it
        # fails at its first batch while the envelope pipeline has moved on
        # (a failing pipeline stops the others gracefully). The raw
        # pipeline's checkpoint must not follow the other's.
        with open(second_out, "w") as f:
            f.write("in the way")
        self.assertEqual(c.run_once(), 1, c.log_text())
        os.remove(second_out)
        producer.put(sample_records(100, self.rng, prefix="more"))
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertDeliveredExactlyOnce(producer, c.out)
        expected = producer.expected_by_shard()
        for shard, records in expected.items():
            files = []
            for dirpath, _, names in os.walk(os.path.join(second_out, self.stream, shard)):
                files += [os.path.join(dirpath, n) for n in names if not n.startswith(".")]
            files.sort(key=lambda p: int(os.path.basename(p).split("-")[0]))
            raw = b"".join(open(p, "rb").read() for p in files)
            self.assertEqual(raw, b"".join(d for _, _, d in records), shard)

    def test_split_and_merge_while_consuming(self):
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        producer.put(sample_records(600, self.rng, prefix="before"))
        c = Connector(self.workdir, self.stream, buffer_records=50, max_age="1s")
        proc = c.start()
        try:
            harness.wait_until(
                lambda: harness.count_records(c.out, self.stream) >= 100 or proc.poll() is not None,
                120,
                "consumption to start",
            )
            shards = harness.list_shards(self.stream)
            first = shards[0]
            lo = int(first["HashKeyRange"]["StartingHashKey"])
            hi = int(first["HashKeyRange"]["EndingHashKey"])
            harness.aws(
                "split-shard",
                "--stream-name", self.stream,
                "--shard-to-split", first["ShardId"],
                "--new-starting-hash-key", str((lo + hi) // 2),
            )
            harness.wait_stream_active(self.stream)
            producer.put(sample_records(600, self.rng, prefix="split"))

            # Merge the two children of the split (adjacent hash ranges).
            open_shards = sorted(
                (s for s in harness.list_shards(self.stream)
                 if "EndingSequenceNumber" not in s["SequenceNumberRange"]),
                key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]),
            )
            children = [s for s in open_shards if s.get("ParentShardId") == first["ShardId"]]
            self.assertEqual(len(children), 2)
            harness.aws(
                "merge-shards",
                "--stream-name", self.stream,
                "--shard-to-merge", children[0]["ShardId"],
                "--adjacent-shard-to-merge", children[1]["ShardId"],
            )
            harness.wait_stream_active(self.stream)
            producer.put(sample_records(600, self.rng, prefix="merge"))
            harness.wait_until(
                lambda: harness.count_records(c.out, self.stream) >= len(producer.sent)
                or proc.poll() is not None,
                180,
                "every record to be delivered",
            )
            self.assertIsNone(proc.poll(), c.log_text())
        finally:
            if proc.poll() is None:
                self.assertEqual(c.terminate(signal.SIGTERM), 0, c.log_text())
        self.assertDeliveredExactlyOnce(producer, c.out)

        # Parents before children: each child started reading only after
        # every parent was read to its end.
        log = c.log_text().splitlines()

        def line_of(text):
            for i, line in enumerate(log):
                if text in line:
                    return i
            self.fail(f"no log line with {text!r}")

        for s in harness.list_shards(self.stream):
            for parent in (s.get("ParentShardId"), s.get("AdjacentParentShardId")):
                if parent:
                    self.assertLess(
                        line_of(f"shard {parent}: read to its end"),
                        line_of(f"shard {s['ShardId']}: reading from"),
                        f"{s['ShardId']} started before its parent {parent} ended",
                    )


if __name__ == "__main__":
    unittest.main()
