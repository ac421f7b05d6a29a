"""Servers that answer badly on purpose, and records made to hurt: the fault
proxy in front of kinesalite rewrites, inflates or trickles the answers, and
the real AWS CLI puts records that expand to far more than they weigh.
kinesis-connect must end each case with a clear error or a bounded retry,
its memory bounded, and nothing written outside its output directory.

Each test prints the peak RSS of the process (from wait4), the figure the
bound in the test is set against.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_proxy import Action, FaultProxy, Response, Rule, drop, truncate  # noqa: E402
from oracle import harness  # noqa: E402
from test_postgres_pipeline import PASSWORD, pg_url, psql, url_with_password  # noqa: E402

MAGIC = b"\xf3\x89\x9a\xc2"


# ------------------------------------------------------- KPL aggregates


def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number, payload):
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def aggregate(keys, records):
    """A KPL aggregate: `keys` is the partition key table, `records` a list
    of (key index, data bytes). Written by hand so that a test can make what
    no producer library would (keys as long as it likes)."""
    import hashlib

    message = b"".join(_field(1, k.encode()) for k in keys)
    for index, data in records:
        user = _varint(1 << 3 | 0) + _varint(index) + _field(3, data)
        message += _field(3, user)
    return MAGIC + message + hashlib.md5(message).digest()


# ------------------------------------------------------------- actions


class Rewrite(Action):
    """Forwards the request and answers with `change(request, answer)`
    instead of kinesalite's JSON answer (a dict, or bytes as they are)."""

    def __init__(self, change):
        self.change = change

    def apply(self, exchange):
        answer = exchange.forward()
        if answer.status != 200:
            exchange.send(answer)
            return
        body = self.change(exchange.request, json.loads(answer.body))
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        exchange.send(Response.make(exchange.request, 200, body, "application/x-amz-json-1.1"))

    def __repr__(self):
        return "rewrite()"


class Trickle(Action):
    """Forwards the request and sends the answer `rate` bytes a second, in
    tenths of a second, until it is sent or the client goes away."""

    def __init__(self, rate):
        self.rate = rate

    def apply(self, exchange):
        head, body = exchange.encode(exchange.forward())
        data = head + body
        step = max(1, self.rate // 10)
        try:
            for at in range(0, len(data), step):
                exchange.write(data[at:at + step])
                if not exchange.sleep(0.1):
                    break
        except OSError:
            pass  # the client gave up: what the test waits for
        exchange.close()

    def __repr__(self):
        return f"trickle({self.rate})"


# ---------------------------------------------------------------- tests


# Runs a command and writes "<peak RSS in KiB> <exit code>" to a file. The
# daemon is measured from this small process, not from the test's: a child
# inherits the peak RSS of the process it was forked from, and the test's
# own would hide the daemon's.
_LAUNCH = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
code = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as f:
    f.write(f"{usage.ru_maxrss} {code}")
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(connector, timeout=300, log_level="info"):
    """Runs `kinesis-connect run --once`: (exit code, peak RSS in MiB,
    seconds taken)."""
    started = time.monotonic()
    result = connector.config + ".rusage"
    args = [sys.executable, "-S", "-c", _LAUNCH, result, harness.binary(), "--log-level",
            log_level, "run", "-c", connector.config, "--once"] + connector.log_args()
    with open(connector.log, "a") as log:
        proc = subprocess.Popen(args, env=connector.env(), stdout=log, stderr=log,
                                start_new_session=True)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        raise AssertionError(f"kinesis-connect ran over {timeout} s:\n"
                             + connector.log_text()[-3000:])
    seconds = time.monotonic() - started
    with open(result) as f:
        rss_kib, code = (int(v) for v in f.read().split())
    os.remove(result)
    return code, rss_kib / 1024, seconds


def secret_forms(secret):
    """The ways a secret could be written down: as it is, in base64, in hex
    and URL-encoded."""
    import binascii
    import urllib.parse

    raw = secret.encode()
    return {secret, base64.b64encode(raw).decode().rstrip("="), binascii.hexlify(raw).decode(),
            urllib.parse.quote(secret, safe="")}


def assert_no_secrets(test, directory, secrets):
    """No file under `directory` (the logs, the output, the dead letters)
    holds any of `secrets` in any of its forms. The configuration files the
    test wrote hold them on purpose and are passed over."""
    forms = {form for secret in secrets for form in secret_forms(secret)}
    for root, _, names in os.walk(directory):
        for name in names:
            if name.endswith(".toml"):
                continue
            with open(os.path.join(root, name), "rb") as f:
                text = f.read().decode("latin-1")
            for form in forms:
                test.assertNotIn(form, text, f"a secret in {os.path.join(root, name)}")


def assert_json_logs(test, connector):
    """Every line of the connector's log is a JSON object with its time (UTC,
    milliseconds), level and message, whatever the servers sent."""
    with open(connector.log, "rb") as f:
        lines = f.read().decode("utf-8").splitlines()  # strict: the log is UTF-8
    test.assertTrue(lines, "an empty log")
    for line in lines:
        entry = json.loads(line)
        test.assertRegex(entry["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        test.assertIn(entry["level"], ("trace", "debug", "info", "warn", "error", "critical"))
        test.assertIsInstance(entry["msg"], str)


def files_under(directory):
    out = set()
    for root, _, names in os.walk(directory):
        for n in names:
            out.add(os.path.relpath(os.path.join(root, n), directory))
    return out


class HostileKinesis(unittest.TestCase):
    def setUp(self):
        harness.endpoint()
        # The work directory sits two levels down in a directory of the
        # test's own, so that a path escaping it by "../.." stays inside
        # something the test can look at.
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-hostile-")
        self.workdir = os.path.join(self.tmp.name, "a", "b")
        os.makedirs(self.workdir)
        self.stream = "hostile-" + uuid.uuid4().hex[:10]
        self.proxy = FaultProxy(upstream=harness.endpoint()).start()
        self.connectors = []

    def tearDown(self):
        self.proxy.stop()
        harness.delete_stream(self.stream)
        assert_no_secrets(self, self.tmp.name, [harness.SECRET_KEY])
        for c in self.connectors:
            if os.path.exists(c.log):
                assert_json_logs(self, c)
        self.tmp.cleanup()

    def connector(self, **kwargs):
        # JSON logs: the no-secrets check covers that format here (the text
        # format everywhere else), and every line must stay valid JSON
        # whatever the hostile server sends.
        c = harness.Connector(self.workdir, self.stream, log_format="json",
                              endpoints={"kinesis": self.proxy.endpoint}, **kwargs)
        self.connectors.append(c)
        return c

    def report(self, what, rss_mib, seconds):
        print(f"\n{what}: peak RSS {rss_mib:.1f} MiB, {seconds:.1f} s", file=sys.stderr)

    def test_a_shard_id_that_is_a_path_stops_before_any_file_is_written(self):
        harness.create_stream(self.stream, 1)
        harness.Producer(self.stream).put([("k", b"one"), ("k", b"two")])

        def escape(request, answer):
            for shard in answer.get("Shards", []):
                shard["ShardId"] = "../../escape"
            return answer

        rule = self.proxy.add(Rule("ListShards", Rewrite(escape)))
        c = self.connector()
        code, rss, seconds = run_measured(c)
        self.report("shard id ../../escape", rss, seconds)
        log = c.log_text()
        self.assertGreater(rule.hits, 0)
        self.assertNotEqual(code, 0, log[-2000:])
        self.assertIn('"../../escape" is not a shard id', log)
        self.assertIn(self.stream, log)
        written = files_under(self.tmp.name)
        self.assertFalse([f for f in written if "escape" in f], written)
        self.assertFalse(os.path.exists(c.out) and files_under(c.out), "nothing is delivered")

    def test_an_aggregate_of_64_kib_keys_passes_on_whole_in_little_memory(self):
        """3,000 empty user records sharing a key of 64 KiB: 200 MB once
        each has its own copy of the key. It is malformed (a key over 256
        bytes) and arrives as it was written."""
        harness.create_stream(self.stream, 1)
        bomb = aggregate(["k" * 65536], [(0, b"")] * 3000)
        self.assertLess(len(bomb), 100_000)
        harness.Producer(self.stream).put([("bomb", bomb)] * 5 + [("plain", b"after")])
        c = self.connector(buffer_records=50_000)
        code, rss, seconds = run_measured(c)
        self.report("5 aggregates of 3,000 records under a 64 KiB key", rss, seconds)
        log = c.log_text()
        self.assertEqual(code, 0, log[-2000:])
        self.assertIn("a partition key is longer than 256 bytes", log)
        records = [r for shard in harness.read_envelopes(c.out, self.stream).values()
                   for r in shard]
        self.assertEqual([r[2] for r in records], [bomb] * 5 + [b"after"])
        self.assertLess(rss, 32)

    def test_aggregates_that_expand_past_the_cap_are_expanded_a_part_at_a_time(self):
        """Three aggregates of 150,000 empty records under one key of 200
        bytes (Kinesis allows 256): under 1 MB each on the stream, some 55 MB
        each once expanded. A page holds all three; only one is expanded at
        a time, and every user record is delivered."""
        harness.create_stream(self.stream, 1)
        count = 150_000
        big = aggregate(["k" * 200], [(0, b"")] * count)
        self.assertLess(len(big), 1_000_000)
        harness.Producer(self.stream).put([("big", big)] * 3)
        c = self.connector(buffer_records=50_000,
                           emitter=f'type = "file"\ndirectory = "{self.workdir}/out"\n'
                                   'format = "lines"')
        code, rss, seconds = run_measured(c)
        self.report(f"3 aggregates of {count:,} records under a 200-byte key", rss, seconds)
        self.assertEqual(code, 0, c.log_text()[-2000:])
        lines = 0
        for name in files_under(c.out):
            with open(os.path.join(c.out, name), "rb") as f:
                lines += f.read().count(b"\n")
        self.assertEqual(lines, 3 * count)
        self.assertLess(rss, 160)

    def test_an_answer_longer_than_a_page_can_be_is_an_error(self):
        """A GetRecords answer of 40 MB, when a page holds at most 10 MB of
        data: the call ends once the answer passes the cap, and the shard
        stops with an error saying so."""
        harness.create_stream(self.stream, 1)
        harness.Producer(self.stream).put([("k", b"one")])

        def inflate(request, answer):
            answer["Padding"] = "x" * 40_000_000
            return answer

        self.proxy.add(Rule("GetRecords", Rewrite(inflate)))
        c = self.connector()
        code, rss, seconds = run_measured(c)
        self.report("a GetRecords answer of 40 MB", rss, seconds)
        log = c.log_text()
        self.assertNotEqual(code, 0, log[-2000:])
        self.assertIn("bytes, the most this call accepts", log)
        self.assertLess(rss, 32)

    def test_a_trickled_answer_is_abandoned_and_the_call_made_again(self):
        """The first GetRecords answer comes at 10 bytes a second: the call
        is dropped once it has moved less than 1 KiB a second for 30 s, and
        the next one reads the records."""
        harness.create_stream(self.stream, 1)
        producer = harness.Producer(self.stream)
        producer.put([("k", f"record {i}".encode()) for i in range(10)])
        rule = self.proxy.add(Rule("GetRecords", Trickle(10), times=1))
        c = self.connector()
        code, rss, seconds = run_measured(c, timeout=180, log_level="debug")
        self.report("the first GetRecords answer at 10 bytes a second", rss, seconds)
        log = c.log_text()
        self.assertEqual(code, 0, log[-2000:])
        self.assertEqual(rule.hits, 1)
        self.assertRegex(log, r"GetRecords on shard \S+: .*(too slow|[Tt]imeout).*retrying in")
        self.assertEqual(harness.count_records(c.out, self.stream), 10)
        self.assertGreaterEqual(seconds, 30)

    def test_an_answer_cut_short_is_retried_and_nothing_is_lost(self):
        """Three GetRecords answers in a row end 40 bytes into their body,
        the connection closed: each is a connection error, retried, and the
        records are delivered once."""
        harness.create_stream(self.stream, 1)
        harness.Producer(self.stream).put([("k", f"record {i}".encode()) for i in range(10)])
        rule = self.proxy.add(Rule("GetRecords", truncate(40), times=3))
        c = self.connector()
        code, rss, seconds = run_measured(c, timeout=180)
        self.report("three GetRecords answers cut short", rss, seconds)
        log = c.log_text()
        self.assertEqual(code, 0, log[-2000:])
        self.assertEqual(rule.hits, 3)
        self.assertRegex(log, r"GetRecords on shard \S+: .*retrying in")
        self.assertEqual(harness.count_records(c.out, self.stream), 10)

    def test_links_planted_where_the_sink_writes_are_never_written_through(self):
        """A first run shows which files the sink writes (their names follow
        from the records). Output and checkpoints are then removed, and a
        link to a file outside the output is planted at each of those names
        and at the temporary names a predictable scheme would use. The
        second run writes the same files: each a file of its own again, the
        linked file untouched."""
        harness.create_stream(self.stream, 2)
        harness.Producer(self.stream).put([(f"k{i}", f"record {i}".encode()) for i in range(40)])
        c = self.connector(buffer_records=10)
        code, _, _ = run_measured(c)
        self.assertEqual(code, 0, c.log_text()[-2000:])
        first = {}
        for name in files_under(c.out):
            with open(os.path.join(c.out, name), "rb") as f:
                first[name] = f.read()
        self.assertGreaterEqual(len(first), 4, first.keys())

        victim = os.path.join(self.tmp.name, "victim")
        with open(victim, "wb") as f:
            f.write(b"keep me")
        shutil.rmtree(os.path.join(self.workdir, "state"))
        planted = 0
        for name in first:
            path = os.path.join(c.out, name)
            directory, base = os.path.split(path)
            os.remove(path)
            for link in (path, path + ".tmp", os.path.join(directory, f".{base}.tmp")):
                os.symlink(victim, link)
                planted += 1
        code, _, _ = run_measured(c)
        self.assertEqual(code, 0, c.log_text()[-2000:])
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), b"keep me")
        for name, data in first.items():
            path = os.path.join(c.out, name)
            self.assertFalse(os.path.islink(path), path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), data, name)
        print(f"\n{planted} links planted at {len(first)} output names: none written through",
              file=sys.stderr)

    def test_a_server_that_never_moves_the_iterator_stops_the_shard(self):
        """Every GetRecords answer after the first gives back the iterator
        it was asked with and the same records: the shard would read them
        for ever. It stops with an error instead, the records delivered
        once."""
        harness.create_stream(self.stream, 1)
        harness.Producer(self.stream).put([("k", f"record {i}".encode()) for i in range(5)])
        first = {}

        def stuck(request, answer):
            if not first:
                first["records"] = answer["Records"]
                first["iterator"] = answer.get("NextShardIterator")
                return answer
            answer["Records"] = first["records"]
            answer["NextShardIterator"] = request.json()["ShardIterator"]
            answer["MillisBehindLatest"] = 1000
            return answer

        self.proxy.add(Rule("GetRecords", Rewrite(stuck)))
        c = self.connector(buffer_records=5)  # the five are emitted before the shard stops
        code, rss, seconds = run_measured(c, timeout=120)
        self.report("an iterator that never moves", rss, seconds)
        log = c.log_text()
        self.assertNotEqual(code, 0, log[-2000:])
        self.assertIn("the server does not move the shard forward", log)
        self.assertEqual(harness.count_records(c.out, self.stream), 5)


class HostileS3(unittest.TestCase):
    """The Redshift loader (load_target = "postgres", PostgreSQL standing in
    for Redshift) given objects made to hurt, through the fault proxy in
    front of s3rver, which notes every object asked for."""

    def setUp(self):
        harness.endpoint()
        harness.s3_endpoint()
        pg_url()
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-hostile-s3-")
        suffix = uuid.uuid4().hex[:10]
        self.stream = "hostile-manifest-" + suffix
        self.streams = [self.stream]
        self.prefix = f"it/hostile-{suffix}/"
        self.table = "hostile_" + suffix
        self.file_table = "hostile_files_" + suffix
        psql(f"CREATE TABLE {self.table} (id text, name text, n bigint)")
        self.proxy = FaultProxy(upstream=harness.s3_endpoint()).start()
        self.fetched = []  # paths of the GetObject calls
        self.connectors = []

        def note(request):
            if request.operation == "GetObject":
                self.fetched.append(request.url_path)
            return False

        self.proxy.add(Rule(note, drop()))  # never fires: it only notes

    def tearDown(self):
        self.proxy.stop()
        for stream in self.streams:
            harness.delete_stream(stream)
        assert_no_secrets(self, self.tmp.name, [harness.SECRET_KEY, PASSWORD])
        for c in self.connectors:
            if os.path.exists(c.log):
                assert_json_logs(self, c)
        psql(f"DROP TABLE IF EXISTS {self.table}; DROP TABLE IF EXISTS {self.file_table}")
        self.tmp.cleanup()

    def put_object(self, name, data):
        path = os.path.join(self.tmp.name, "upload")
        with open(path, "wb") as f:
            f.write(data)
        key = self.prefix + name
        harness.s3api("put-object", "--bucket", harness.S3_BUCKET, "--key", key, "--body", path)
        return key

    def connector(self, workdir, compression, extra="", stream=None):
        stream = stream or self.stream
        os.makedirs(workdir)
        c = harness.Connector(workdir, stream, access_key=harness.S3_ACCESS_KEY, log_format="json")
        self.connectors.append(c)
        pipeline = harness.redshift_loader_pipeline(
            "loader", stream, url_with_password(), self.table, ["id", "name", "n"],
            self.file_table, self.prefix + "manifests/")
        with open(c.config, "w") as f:
            f.write(f"""
[aws]
region = "{harness.REGION}"
endpoint = "{harness.endpoint()}"
[aws.endpoints]
s3 = "{self.proxy.endpoint}"
kinesis = "{harness.endpoint()}"
[checkpoint]
store = "file"
path = "{workdir}/state"
app = "it"
{pipeline}compression = "{compression}"
max_object_size = "1MiB"
max_loaded_size = "8MiB"
{extra}""")
        return c

    def count(self):
        return int(psql(f"SELECT count(*) FROM {self.table}").strip())

    def test_bombs_and_oversized_objects_stop_the_loader_with_nothing_loaded(self):
        import gzip
        import random

        rng = random.Random(5)
        cases = [
            ("gzip bomb", "gzip", gzip.compress(b"1,a,2\n" * (3 << 20)),
             "decompresses to more than 8388608 bytes"),
            # A zstd frame header claiming 64 GiB of content, and nothing after.
            ("zstd frame claiming 64 GiB", "zstd",
             b"\x28\xb5\x2f\xfd\xc0\x00" + (64 << 30).to_bytes(8, "little"),
             "zstd data ends early"),
            ("object over max_object_size", "none",
             b"".join(f"{rng.random()},x,{i}\n".encode() for i in range(60_000)),
             "longer than 1048576 bytes"),
        ]
        for i, (what, compression, data, reason) in enumerate(cases):
            with self.subTest(what):
                stream = f"{self.stream}-{i}"
                self.streams.append(stream)
                harness.create_stream(stream, 1)
                key = self.put_object(f"case-{i}", data)
                harness.Producer(stream).put([("k", key.encode())])
                c = self.connector(os.path.join(self.tmp.name, f"run-{i}"), compression,
                                   stream=stream)
                code, rss, seconds = run_measured(c, timeout=180)
                print(f"\n{what} ({len(data):,} bytes stored): peak RSS {rss:.1f} MiB, "
                      f"{seconds:.1f} s", file=sys.stderr)
                log = c.log_text()
                self.assertEqual(code, 1, log[-2000:])
                self.assertIn(f"s3://{harness.S3_BUCKET}/{key}", log)
                self.assertIn(reason, log)
                self.assertEqual(self.count(), 0)
                self.assertLess(rss, 48)
                # Nothing was checkpointed: the next run meets the same object.
                code, _, _ = run_measured(c, timeout=180)
                self.assertEqual(code, 1)
                self.assertEqual(c.log_text().count(reason), 2 * log.count(reason))

    def test_an_object_in_another_bucket_is_dead_lettered_and_never_fetched(self):
        harness.create_stream(self.stream, 1)
        good = self.put_object("good.csv", b"g1,good,1\n")
        stolen = "s3://another-bucket/secrets.csv"
        harness.Producer(self.stream).put([("k", good.encode()), ("k", stolen.encode())])
        letters = os.path.join(self.tmp.name, "letters")
        c = self.connector(os.path.join(self.tmp.name, "run"), "none",
                           f'[pipeline.dead_letter]\ntype = "file"\ndirectory = "{letters}"\n')
        code, rss, seconds = run_measured(c, timeout=180)
        log = c.log_text()
        self.assertEqual(code, 0, log[-2000:])
        self.assertEqual(self.count(), 1)
        self.assertNotIn("/another-bucket/secrets.csv", self.fetched)
        self.assertIn(f"/{harness.S3_BUCKET}/{good}", self.fetched)
        written = [os.path.join(r, n) for r, _, names in os.walk(letters) for n in names]
        self.assertEqual(len(written), 1, written)
        with open(written[0]) as f:
            letter = json.load(f)
        self.assertIn('bucket \\"another-bucket\\"', json.dumps(letter))


if __name__ == "__main__":
    unittest.main()
