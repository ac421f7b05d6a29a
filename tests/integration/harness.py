"""Shared pieces of the integration tests: the Kinesis stand-in started by the
test command, the real AWS command-line client to produce data, the
kinesis-connect binary under test, and an oracle that reads what the file sink
wrote.

Environment (set by scripts/test, or by hand):
  KC_KINESIS_ENDPOINT  URL of the (signature-verifying) Kinesis stand-in
  KC_REDIS_URL         redis://host:port of the redis-server for checkpoints
  KC_BINARY            path of the kinesis-connect executable
"""

import base64
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

AWS_CLI = "/usr/bin/aws"
ACCESS_KEY = "kc-test-key"
SECRET_KEY = "kc-test-secret"
REGION = "us-east-1"


def _missing(what):
    # scripts/test sets KC_REQUIRE_SERVICES: there a missing service is a failure,
    # not a reason to skip.
    if os.environ.get("KC_REQUIRE_SERVICES") == "1":
        raise AssertionError(what)
    raise unittest.SkipTest(what)


def endpoint():
    url = os.environ.get("KC_KINESIS_ENDPOINT")
    if not url:
        _missing("KC_KINESIS_ENDPOINT is not set; run the tests with scripts/test")
    return url


_shared_kinesis = endpoint  # for functions whose `endpoint` argument hides the name


def binary():
    path = os.environ.get("KC_BINARY")
    if not path or not os.access(path, os.X_OK):
        _missing("KC_BINARY does not name the kinesis-connect executable")
    return path


def client_env(secret=SECRET_KEY, access_key=ACCESS_KEY):
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=access_key,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_PAGER="",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def wait_until(predicate, timeout, what, interval=0.1):
    """Polls `predicate` until it returns a true value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_for_connector(connector, predicate, timeout, what, interval=0.2):
    """wait_until(predicate) while `connector`'s process runs: fails at
    once if it exits, and on either failure shows the end of its log."""
    proc = connector.proc
    try:
        wait_until(lambda: predicate() or proc.poll() is not None, timeout, what, interval)
    except AssertionError as e:
        raise AssertionError(f"{e}; the connector's log:\n{connector.log_text()[-6000:]}")
    if proc.poll() is not None:
        raise AssertionError(f"kinesis-connect exited ({proc.returncode}) while waiting for "
                             f"{what}; its log:\n{connector.log_text()[-6000:]}")


def aws(*args, input_json=None, endpoint=None):
    """Runs the real AWS CLI against the Kinesis stand-in (the shared one
    unless `endpoint` says otherwise) and returns its JSON output."""
    cmd = [AWS_CLI, "--endpoint-url", endpoint or _shared_kinesis(), "--output", "json", "kinesis",
           *args]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        if input_json is not None:
            json.dump(input_json, f)
            cmd += ["--cli-input-json", "file://" + f.name]
    try:
        out = subprocess.run(cmd, env=client_env(), capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(f.name)
    if out.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout) if out.stdout.strip() else {}


def s3_endpoint():
    url = os.environ.get("KC_S3_ENDPOINT")
    if not url:
        _missing("KC_S3_ENDPOINT is not set; run the tests with scripts/test")
    return url


def dynamodb_endpoint():
    url = os.environ.get("KC_DYNAMODB_ENDPOINT")
    if not url:
        _missing("KC_DYNAMODB_ENDPOINT is not set; run the tests with scripts/test")
    return url


def dynamodb(*args, endpoint=None):
    """The real AWS CLI against the DynamoDB stand-in (the shared one unless
    `endpoint` says otherwise); JSON output parsed."""
    cmd = [AWS_CLI, "--endpoint-url", endpoint or dynamodb_endpoint(), "--output", "json",
           "dynamodb", *args]
    out = subprocess.run(cmd, env=client_env(), capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError(f"aws dynamodb {' '.join(args)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout) if out.stdout.strip() else {}


def redis_url():
    url = os.environ.get("KC_REDIS_URL")
    if not url:
        _missing("KC_REDIS_URL is not set; run the tests with scripts/test")
    return url


def redis_cli(*args):
    """redis-cli against KC_REDIS_URL; its output without the final newline."""
    out = subprocess.run(["redis-cli", "-u", redis_url(), *args], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0 or out.stdout.startswith("ERR"):
        raise AssertionError(f"redis-cli {' '.join(args)} failed: {out.stdout}{out.stderr}")
    return out.stdout.rstrip("\n")


# The S3 stand-in knows one access key id; the Kinesis one accepts any.
S3_ACCESS_KEY = "S3RVER"
S3_BUCKET = "kc-test-bucket"


def s3api(*args, binary_out=None):
    """The real AWS CLI against the S3 stand-in; JSON output parsed."""
    cmd = [AWS_CLI, "--endpoint-url", s3_endpoint(), "--output", "json", "s3api", *args]
    if binary_out:
        cmd.append(binary_out)
    out = subprocess.run(cmd, env=client_env(access_key=S3_ACCESS_KEY), capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError(f"aws s3api {' '.join(args)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout) if out.stdout.strip() else {}


def s3_keys(prefix):
    listing = s3api("list-objects-v2", "--bucket", S3_BUCKET, "--prefix", prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


def s3_objects(prefix, bucket=None, endpoint=None):
    """{key: bytes} of every object under `prefix`, downloaded with one
    `aws s3 cp --recursive` (listing and GETs by the real client); the test
    bucket of the shared stand-in unless `bucket` and `endpoint` say
    otherwise."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [AWS_CLI, "--endpoint-url", endpoint or s3_endpoint(), "s3", "cp", "--recursive",
               "--quiet", f"s3://{bucket or S3_BUCKET}/{prefix}", tmp]
        run = subprocess.run(cmd, env=client_env(access_key=S3_ACCESS_KEY), capture_output=True,
                             text=True, timeout=300)
        if run.returncode != 0:
            raise AssertionError(f"aws s3 cp failed: {run.stderr.strip()}")
        for dirpath, _, names in os.walk(tmp):
            for n in names:
                path = os.path.join(dirpath, n)
                with open(path, "rb") as f:
                    out[prefix + os.path.relpath(path, tmp)] = f.read()
    return out


def redshift_loader_pipeline(name, stream, url, table, columns, file_table, manifest_prefix):
    """TOML of a pipeline that loads the CSV objects named on manifest
    stream `stream` into `table` of the PostgreSQL at `url`, standing in for
    Redshift (load_target = "postgres"), a few objects a load."""
    listed = ", ".join(f'"{c}"' for c in columns)
    return f"""
[[pipeline]]
name = "{name}"
stream = "{stream}"
start_at = "trim_horizon"
poll_interval = "200ms"
shard_discovery_interval = "1s"
[pipeline.buffer]
max_records = 3
max_age = "300ms"
[pipeline.emitter]
type = "redshift"
url = "{url}"
table = "{table}"
columns = [{listed}]
file_table = "{file_table}"
bucket = "{S3_BUCKET}"
manifest_prefix = "{manifest_prefix}"
copy_format = "csv"
load_target = "postgres"
"""


def create_stream(name, shards, endpoint=None):
    aws("create-stream", "--stream-name", name, "--shard-count", str(shards), endpoint=endpoint)
    wait_stream_active(name, endpoint=endpoint)


def delete_stream(name, endpoint=None):
    """Best effort: frees the stand-in's shards (it limits an account to 100)."""
    try:
        aws("delete-stream", "--stream-name", name, endpoint=endpoint)
    except AssertionError:
        pass


def wait_stream_active(name, endpoint=None):
    def active():
        s = aws("describe-stream-summary", "--stream-name", name, endpoint=endpoint)
        return s["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"

    wait_until(active, 60, f"stream {name} to be ACTIVE", interval=0.2)


def list_shards(name, endpoint=None):
    return aws("list-shards", "--stream-name", name, endpoint=endpoint)["Shards"]


def shorten_sink_retry_for(connector, duration="5s"):
    """Sets the pipeline's sink_retry_for: how long an unreachable sink or
    checkpoint store is waited out (an hour by default) before the run
    fails, for tests of that failure."""
    with open(connector.config) as f:
        config = f.read()
    anchor = 'shard_discovery_interval = "1s"\n'
    assert anchor in config, config
    config = config.replace(anchor, anchor + f'sink_retry_for = "{duration}"\n', 1)
    with open(connector.config, "w") as f:
        f.write(config)


def kill_9_rounds(test, connector, progress, rounds, step, after_start=None, after_kill=None,
                  interval=0.1):
    """Crashes `connector` in the middle of its work `rounds` times: starts
    it, waits until `progress()` (a count of what has reached the sink) has
    grown by `step`, and kills it with SIGKILL. A process that exits by
    itself before that fails the test. `after_start(round)` runs once the
    process is started (e.g. to keep records arriving while it works),
    `after_kill(round)` once it is dead."""
    for round_ in range(rounds):
        proc = connector.start()
        target = progress() + step
        if after_start:
            after_start(round_)
        try:
            wait_until(lambda: progress() >= target or proc.poll() is not None, 120,
                       f"progress before kill {round_}", interval=interval)
        except AssertionError as e:
            raise AssertionError(f"{e}; the connector's log:\n{connector.log_text()[-6000:]}")
        test.assertIsNone(proc.poll(), connector.log_text())
        proc.kill()
        proc.wait(timeout=30)
        if after_kill:
            after_kill(round_)


def assert_example_validates(test, filename, summary):
    """`kinesis-connect validate` accepts examples/configs/<filename> and
    prints `summary` (e.g. "ok, 2 pipelines")."""
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "configs", filename)
    out = subprocess.run([binary(), "validate", "-c", example], capture_output=True, text=True,
                         timeout=60)
    test.assertEqual(out.returncode, 0, out.stderr)
    test.assertIn(summary, out.stdout)


def read_stream(name, endpoint=None):
    """Every record now in stream `name`, per shard, oldest first, read with
    the real client: {shard_id: [(sequence_number, partition_key, data)]}."""
    by_shard = {}
    for shard in list_shards(name, endpoint=endpoint):
        shard_id = shard["ShardId"]
        it = aws("get-shard-iterator", "--stream-name", name, "--shard-id", shard_id,
                 "--shard-iterator-type", "TRIM_HORIZON", endpoint=endpoint)["ShardIterator"]
        records = by_shard.setdefault(shard_id, [])
        while it:
            page = aws("get-records", "--shard-iterator", it, "--limit", "10000",
                       endpoint=endpoint)
            for r in page["Records"]:
                records.append((r["SequenceNumber"], r["PartitionKey"],
                                base64.b64decode(r["Data"])))
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            it = page.get("NextShardIterator")
    return by_shard


class Producer:
    """Writes records with `aws kinesis put-records` and remembers where each
    landed, as Kinesis reported it: the oracle's expected contents."""

    def __init__(self, stream):
        self.stream = stream
        self.sent = []  # (shard_id, sequence_number, partition_key, data bytes)

    def put(self, records):
        """records: list of (partition_key, data bytes); sent in PutRecords
        calls of at most 500 records and 4.5 MB, retrying failed entries."""
        pending = list(records)
        while pending:
            batch, size = [], 0
            while pending and len(batch) < 500:
                key, data = pending[0]
                if batch and size + len(data) + len(key) > 4_500_000:
                    break
                batch.append(pending.pop(0))
                size += len(data) + len(key)
            self._put_batch(batch)

    def _put_batch(self, batch):
        todo = batch
        for _ in range(10):
            entries = [
                {"Data": base64.b64encode(d).decode(), "PartitionKey": k} for k, d in todo
            ]
            out = aws("put-records", input_json={"StreamName": self.stream, "Records": entries})
            failed = []
            for (key, data), result in zip(todo, out["Records"]):
                if "SequenceNumber" in result:
                    self.sent.append((result["ShardId"], result["SequenceNumber"], key, data))
                else:
                    failed.append((key, data))
            if not failed:
                return
            todo = failed
        raise AssertionError(f"{len(todo)} records could not be written")

    def expected_by_shard(self):
        by_shard = {}
        for shard, seq, key, data in self.sent:
            by_shard.setdefault(shard, []).append((seq, key, data))
        for records in by_shard.values():
            records.sort(key=lambda r: int(r[0]))
        return by_shard


def read_envelopes(directory, stream, with_sub=False):
    """Every record the file sink wrote for `stream`, per shard, in file order
    (files sorted by their first position), with the file it came from:
    (sequence number, partition key, data, path), or with `with_sub`
    (sequence number, sub-sequence number, partition key, data, path)."""
    by_shard = {}
    root = os.path.join(directory, stream)
    if not os.path.isdir(root):
        return by_shard
    for shard in sorted(os.listdir(root)):
        files = []
        for dirpath, _, names in os.walk(os.path.join(root, shard)):
            for n in names:
                if n.endswith((".jsonl", ".jsonl.gz", ".jsonl.zst")):
                    # "<seq>[.<sub>]-<seq>[.<sub>].<ext>": sorted by (seq, sub).
                    first = n.split("-")[0].split(".")
                    sub = int(first[1]) if len(first) > 1 and first[1].isdigit() else 0
                    files.append(((int(first[0]), sub), os.path.join(dirpath, n)))
                elif not (n.startswith(".") and ".tmp." in n):
                    raise AssertionError(f"unexpected file {os.path.join(dirpath, n)}")
        records = []
        for _, path in sorted(files):
            for line in read_file(path).split(b"\n"):
                if not line:
                    continue
                o = json.loads(line)
                if set(o) != {
                    "shard_id",
                    "sequence_number",
                    "sub_sequence_number",
                    "partition_key",
                    "approximate_arrival_timestamp",
                    "data",
                }:
                    raise AssertionError(f"{path}: unexpected keys {sorted(o)}")
                if o["shard_id"] != shard:
                    raise AssertionError(f"{path}: record of shard {o['shard_id']}")
                data = base64.b64decode(o["data"])
                if with_sub:
                    records.append((o["sequence_number"], o["sub_sequence_number"],
                                    o["partition_key"], data, path))
                else:
                    records.append((o["sequence_number"], o["partition_key"], data, path))
        by_shard[shard] = records
    return by_shard


def read_file(path):
    """A sink file's bytes, decompressed by the standard tools when the name
    says it is compressed (so the files are checked as users will read them)."""
    if path.endswith(".gz"):
        return subprocess.run(["gzip", "-dc", path], check=True, capture_output=True).stdout
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-qdc", path], check=True, capture_output=True).stdout
    with open(path, "rb") as f:
        return f.read()


def count_records(directory, stream):
    return sum(len(v) for v in read_envelopes(directory, stream).values())


class Connector:
    """kinesis-connect with a config file in a fresh work directory."""

    def __init__(self, workdir, stream, buffer_records=100, max_age="2s", extra_pipeline="",
                 extra_emitter="", emitter=None, access_key=ACCESS_KEY, checkpoint=None,
                 endpoints=None, log_format=None, extra_top="", extra_env=None):
        self.workdir = workdir
        # Variables added to the process's environment (e.g. for ${NAME} in
        # the file).
        self.extra_env = dict(extra_env or {})
        # "text" or "json" (--log-format, given after the subcommand); None:
        # KC_TEST_LOG_FORMAT, else the default.
        self.log_format = log_format or os.environ.get("KC_TEST_LOG_FORMAT")
        self.out = os.path.join(workdir, "out")
        self.config = os.path.join(workdir, "connect.toml")
        self.log = os.path.join(workdir, "connect.log")
        emitter_toml = emitter or f"""type = "file"
directory = "{self.out}"
format = "envelope"
{extra_emitter}"""
        state = os.path.join(workdir, "state")
        checkpoint_toml = checkpoint or f'store = "file"\npath = "{state}"\napp = "it"'
        # `endpoints` ({"kinesis": url, "s3": url, ...}) replaces the shared
        # stand-ins' addresses, e.g. with a fault proxy or a stand-in of the
        # test's own.
        chosen = {"kinesis": endpoint()}
        for service, variable in (("s3", "KC_S3_ENDPOINT"), ("dynamodb", "KC_DYNAMODB_ENDPOINT")):
            if os.environ.get(variable):
                chosen[service] = os.environ[variable]
        chosen.update(endpoints or {})
        aws_extra = "[aws.endpoints]" + "".join(f'\n{k} = "{v}"' for k, v in chosen.items())
        with open(self.config, "w") as f:
            f.write(
                f"""
[aws]
region = "{REGION}"
endpoint = "{chosen["kinesis"]}"
{aws_extra}

[checkpoint]
{checkpoint_toml}
{extra_top}

[[pipeline]]
name = "files"
stream = "{stream}"
start_at = "trim_horizon"
poll_interval = "200ms"
shard_discovery_interval = "1s"
{extra_pipeline}

[pipeline.buffer]
max_records = {buffer_records}
max_bytes = "4MiB"
max_age = "{max_age}"

[pipeline.emitter]
{emitter_toml}
"""
            )
        self.proc = None
        self.access_key = access_key

    def env(self):
        env = client_env(access_key=self.access_key)
        env.update(self.extra_env)
        return env

    def log_args(self):
        return ["--log-format", self.log_format] if self.log_format else []

    def run_once(self, timeout=300):
        with open(self.log, "a") as log:
            out = subprocess.run(
                [binary(), "run", "-c", self.config, "--once"] + self.log_args(),
                env=self.env(),
                stdout=log,
                stderr=log,
                timeout=timeout,
            )
        return out.returncode

    def start(self, stats_interval=None, log_level=None):
        """Starts `kinesis-connect run`; with `stats_interval` (e.g. "200ms")
        it logs its counts that often, for stats(). `log_level` (or
        KC_TEST_LOG_LEVEL, e.g. debug to see every retry) sets its log level."""
        log = open(self.log, "a")
        args = [binary()]
        log_level = log_level or os.environ.get("KC_TEST_LOG_LEVEL")
        if log_level:
            args += ["--log-level", log_level]
        args += ["run", "-c", self.config] + self.log_args()
        if stats_interval:
            args += ["--stats-interval", stats_interval]
        self.proc = subprocess.Popen(args, env=self.env(), stdout=log, stderr=log)
        log.close()
        return self.proc

    def terminate(self, sig=signal.SIGTERM, timeout=120):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def stats(self, pipeline="files"):
        """The counts the last stats line of `pipeline` in the log gives:
        {"read": n, "emitted": n, "batches": n, ...}, or None before the
        first one."""
        found = None
        for m in re.finditer(
                r"pipeline " + re.escape(pipeline) + r": (\d+) records read, (\d+) emitted "
                r"\((\d+) bytes\) in (\d+) batches, (\d+) filtered, (\d+) dead-lettered",
                self.log_text()):
            found = dict(zip(("read", "emitted", "bytes", "batches", "filtered",
                              "dead_lettered"), map(int, m.groups())))
        return found

    def log_text(self):
        """The log; with JSON logs, the message of each line (a line that is
        not JSON as it is), so that tests read both formats alike."""
        with open(self.log, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if self.log_format != "json":
            return text
        lines = []
        for line in text.splitlines():
            try:
                lines.append(json.loads(line)["msg"])
            except (ValueError, KeyError, TypeError):
                lines.append(line)
        return "\n".join(lines) + "\n"
