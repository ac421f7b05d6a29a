"""The oracle of the fault tests: numbered records go into a stream, a sink's
contents come out, and the verdict says whether the delivery promise held.

Every record carries its number: its data is the JSON object
{"n": <number>, "key": <partition key>, "pad": "..."}, so every sink can
hold it (a file line, an S3 object line, a PostgreSQL text column, a
DynamoDB item keyed by "n", a record of another stream) and the oracle can
name what went missing.

What is checked, per lane (a source shard, or a partition key where the sink
keeps only each key's order):
- every record put is delivered (none missing) and nothing else is;
- in the order it was put: the first delivery of each record comes after the
  first delivery of every record put before it in the lane;
- exactly once for the sinks that promise it (files, S3, PostgreSQL);
  for the others duplicates are counted and reported, not failed.

The producer is the real AWS CLI (harness.Producer), which also reports the
shard and sequence number Kinesis gave each record: the expected contents.
"""

import base64
import csv
import gzip
import io
import json
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402


def record_data(n, key, pad=0):
    return json.dumps({"n": n, "key": key, "pad": "x" * pad}, separators=(",", ":")).encode()


def number_of(data):
    """The number a delivered record carries; raises on anything else."""
    return json.loads(data)["n"]


class NumberedProducer:
    """Puts numbered records into `stream` with the AWS CLI, spread over
    `keys` partition keys, and remembers where Kinesis put each one."""

    def __init__(self, stream, keys=16, pad=0):
        self.stream = stream
        self.keys = keys
        self.pad = pad
        self.next = 0
        self._producer = harness.Producer(stream)
        self._lock = threading.Lock()
        self._thread = None
        self._stop = threading.Event()
        self.error = None

    def put(self, count):
        with self._lock:
            first, self.next = self.next, self.next + count
            records = [(f"k{n % self.keys}", record_data(n, f"k{n % self.keys}", self.pad))
                       for n in range(first, first + count)]
            self._producer.put(records)

    def start(self, total, per_call=50):
        """Keeps putting in the background, `per_call` records a call, until
        `total` records in all were put or stop() is called."""
        def run():
            try:
                while not self._stop.is_set() and self.next < total:
                    self.put(min(per_call, total - self.next))
            except Exception as e:  # reported by stop()
                self.error = e
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def stop(self):
        """Waits for the background putting to end (stopping it early) and
        raises what it failed with."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=600)
        if self.error:
            raise self.error

    def wait(self, timeout=1800):
        """Waits until the background putting is done; raises its error."""
        if self._thread:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                raise AssertionError(f"producer still running after {timeout}s")
        if self.error:
            raise self.error

    @property
    def sent(self):
        """(shard, sequence number, partition key, data) of every record put."""
        with self._lock:
            return list(self._producer.sent)


class Verdict:
    def __init__(self, missing, unexpected, duplicates, out_of_order, delivered, expected):
        self.missing = missing  # numbers put but not delivered
        self.unexpected = unexpected  # numbers delivered but never put
        self.duplicates = duplicates  # deliveries beyond the first
        self.out_of_order = out_of_order  # [(lane, description)]
        self.delivered = delivered  # deliveries in all
        self.expected = expected  # records put

    def summary(self):
        parts = [f"{self.expected} put, {self.delivered} delivered",
                 f"{len(self.missing)} missing", f"{self.duplicates} duplicates",
                 f"{len(self.out_of_order)} lanes out of order"]
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} never put")
        text = ", ".join(parts)
        if self.missing:
            text += f"; first missing: {sorted(self.missing)[:10]}"
        if self.unexpected:
            text += f"; never put: {sorted(self.unexpected)[:10]}"
        for lane, what in self.out_of_order[:3]:
            text += f"; {lane}: {what}"
        return text

    def ok(self, exactly_once):
        return (not self.missing and not self.unexpected and not self.out_of_order
                and (self.duplicates == 0 or not exactly_once))


def judge(sent, delivered, lane_of_sent, ordered=True):
    """`sent`: the producer's records; `delivered`: {lane: [numbers in the
    order the sink holds them]}; `lane_of_sent(shard, key)`: the lane a
    record put to `shard` with `key` belongs to. `ordered=False` for sinks
    that keep no order (a table keyed by the number)."""
    expected_by_lane = {}
    for shard, _, key, data in sorted(sent, key=lambda r: (r[0], int(r[1]))):
        expected_by_lane.setdefault(lane_of_sent(shard, key), []).append(number_of(data))
    expected = {n for ns in expected_by_lane.values() for n in ns}
    seen, duplicates, count = set(), 0, 0
    out_of_order = []
    for lane, numbers in delivered.items():
        firsts = []
        for n in numbers:
            count += 1
            if n in seen:
                duplicates += 1
            else:
                seen.add(n)
                firsts.append(n)
        if not ordered:
            continue
        present = set(firsts)
        want = [n for n in expected_by_lane.get(lane, []) if n in present]
        got = [n for n in firsts if n in expected]
        if got != want:
            at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                      min(len(got), len(want)))
            out_of_order.append((lane, f"delivery {at}: got {got[at:at + 5]}, "
                                       f"expected {want[at:at + 5]}"))
    return Verdict(sorted(expected - seen), sorted(seen - expected), duplicates, out_of_order,
                   count, len(sent))


def by_shard(shard, key):
    return shard


def by_key(shard, key):
    return key


# ------------------------------------------------------------------ sinks


def files_delivered(directory, stream):
    """The file sink (format "envelope"): {shard: [numbers in file order]}."""
    return {shard: [number_of(r[2]) for r in records]
            for shard, records in harness.read_envelopes(directory, stream).items()}


def s3_delivered(prefix, bucket=None, endpoint=None):
    """The S3 sink (format "envelope", keys "<shard>/<first>-<last>.<ext>"
    under `prefix`): {shard: [numbers in key order]}."""
    out = {}
    objects = harness.s3_objects(prefix, bucket=bucket, endpoint=endpoint)

    def first_position(key):
        return int(key.rsplit("/", 1)[1].split("-")[0].split(".")[0])

    for key, body in sorted(objects.items(), key=lambda kv: first_position(kv[0])):
        if key.endswith(".gz"):
            body = gzip.decompress(body)
        for line in body.split(b"\n"):
            if line:
                o = json.loads(line)
                out.setdefault(o["shard_id"], []).append(number_of(base64.b64decode(o["data"])))
    return out


def postgres_delivered(url, table, column="data", value=None):
    """A table with an identity column `id` that a sink fills: by default
    the postgres sink's, whose text column `data` holds each record; else
    `column` holds what `value` turns into a record's number. The numbers in
    insertion order, one list, judged per shard by the caller through
    `lanes_from_numbers`."""
    value = value or number_of
    out = subprocess.run(
        ["psql", url, "-X", "-q", "-At", "-c",
         f"COPY (SELECT {column} FROM {table} ORDER BY id) TO STDOUT WITH (FORMAT csv)"],
        capture_output=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError(f"psql failed: {out.stderr.decode().strip()}")
    rows = [r[0] for r in csv.reader(io.StringIO(out.stdout.decode(), newline=""))]
    return [value(r) for r in rows]


def kinesis_delivered(stream, endpoint=None):
    """Records of a target stream, read with the AWS CLI: [(partition key,
    number)] per target shard, oldest first."""
    return {shard: [(key, number_of(data)) for _, key, data in records]
            for shard, records in harness.read_stream(stream, endpoint=endpoint).items()}


def dynamodb_delivered(table, endpoint=None):
    """Numbers of the items of a DynamoDB table keyed by "n" (a scan with
    the AWS CLI): one lane, order unknown."""
    numbers, start = [], None
    while True:
        args = ["scan", "--table-name", table, "--projection-expression", "n"]
        if start:
            args += ["--exclusive-start-key", json.dumps(start)]
        page = harness.dynamodb(*args, endpoint=endpoint)
        numbers += [int(item["n"]["N"]) for item in page.get("Items", [])]
        start = page.get("LastEvaluatedKey")
        if not start:
            return numbers


def lanes_from_numbers(sent, numbers, lane_of_sent):
    """Sorts one list of delivered numbers into lanes by where each number
    was put (numbers never put go to the lane "?")."""
    lane_of = {number_of(data): lane_of_sent(shard, key) for shard, _, key, data in sent}
    out = {}
    for n in numbers:
        out.setdefault(lane_of.get(n, "?"), []).append(n)
    return out
