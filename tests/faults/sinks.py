"""One class per sink for the fault tests: creates what the sink writes to,
makes a Connector for it, reads back what it holds for the oracle, and
cleans up. Each says what it promises: exactly once (files, S3,
PostgreSQL), or at least once with duplicates counted (Kinesis), and which
order it keeps (per shard, or per partition key; none for a table keyed by
the record's number)."""

import os
import subprocess
import sys
import tempfile
import uuid

import oracle
from oracle import harness


class Sink:
    name = "?"
    exactly_once = True
    # True when what a stop flushed reaches the sink only on the next run.
    loads_on_next_run = False
    ordered = True
    lane = staticmethod(oracle.by_shard)
    # Sink clients sign with this key id (S3's stand-in knows only its own).
    access_key = harness.ACCESS_KEY

    def __init__(self, workdir, stream):
        self.workdir = workdir
        self.stream = stream
        self.suffix = uuid.uuid4().hex[:10]

    def create(self):
        pass

    def drop(self):
        pass

    def emitter(self):
        raise NotImplementedError

    def checkpoint(self):
        return None  # the harness's file store

    def delivered(self):
        """{lane: [numbers in the order the sink holds them]}."""
        raise NotImplementedError

    def connector(self, **kwargs):
        """kinesis-connect writing to this sink; `endpoints` (see
        harness.Connector) puts a fault proxy or a stand-in of the test's
        own in front of a service."""
        kwargs.setdefault("buffer_records", 40)
        kwargs.setdefault("max_age", "300ms")
        return harness.Connector(self.workdir, self.stream, emitter=self.emitter(),
                                 checkpoint=self.checkpoint(), access_key=self.access_key,
                                 **kwargs)

    def verdict(self, producer):
        return oracle.judge(producer.sent, self.delivered(), self.lane, ordered=self.ordered)

    def unique_delivered(self):
        return len({n for numbers in self.delivered().values() for n in numbers})


class FileSink(Sink):
    name = "files"

    def emitter(self):
        self.out = os.path.join(self.workdir, "out")
        return f'type = "file"\ndirectory = "{self.out}"\nformat = "envelope"'

    def delivered(self):
        return oracle.files_delivered(self.out, self.stream)


class S3Sink(Sink):
    name = "s3"
    access_key = harness.S3_ACCESS_KEY

    def __init__(self, workdir, stream, bucket=None, endpoint=None):
        super().__init__(workdir, stream)
        self.prefix = f"faults/{self.stream}/"
        self.bucket = bucket or harness.S3_BUCKET
        self.endpoint = endpoint

    def emitter(self):
        return f'''type = "s3"
bucket = "{self.bucket}"
prefix = "{self.prefix}"
key = "{{shard}}/{{first}}-{{last}}.{{ext}}"
format = "envelope"
compression = "gzip"'''

    def delivered(self):
        return oracle.s3_delivered(self.prefix, bucket=self.bucket, endpoint=self.endpoint)


class PostgresSink(Sink):
    name = "postgres"

    def __init__(self, workdir, stream, url=None):
        super().__init__(workdir, stream)
        self.url = url  # a server of the test's own; else the shared one

    def create(self):
        self.url = self.url or os.environ.get("KC_POSTGRES_URL") or harness._missing(
            "KC_POSTGRES_URL is not set; run the tests with scripts/test")
        self.table = "faults_rows_" + self.suffix
        self.checkpoints = "faults_checkpoints_" + self.suffix
        self.psql(f"CREATE TABLE {self.table} (id bigserial PRIMARY KEY, data text NOT NULL)")

    def drop(self):
        self.psql(f"DROP TABLE IF EXISTS {self.table}; DROP TABLE IF EXISTS {self.checkpoints}")

    def psql(self, sql):
        out = subprocess.run(["psql", self.url, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
                              "-c", sql], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def checkpoint(self):
        # Batches commit with their checkpoints: exactly once.
        return f'store = "postgres"\nurl = "{self.url}"\ntable = "{self.checkpoints}"'

    def emitter(self):
        return f'type = "postgres"\nurl = "{self.url}"\ntable = "{self.table}"\ncolumn = "data"'

    def verdict(self, producer):
        numbers = oracle.postgres_delivered(self.url, self.table)
        return oracle.judge(producer.sent,
                            oracle.lanes_from_numbers(producer.sent, numbers, self.lane),
                            self.lane)

    def unique_delivered(self):
        return len(set(oracle.postgres_delivered(self.url, self.table)))


class RedshiftSink(PostgresSink):
    """The S3 manifest flow into Redshift, with PostgreSQL standing in for
    Redshift: pipeline one writes each batch as a CSV object and puts its key
    on a manifest stream; pipeline two COPYs the objects into a table,
    recording the loaded objects in the same transaction. Exactly once and
    in order per source shard, across both pipelines and their crashes."""
    name = "redshift"
    access_key = harness.S3_ACCESS_KEY
    # A stop flushes the first pipeline; the second loads those objects on
    # its next run.
    loads_on_next_run = True

    def create(self):
        self.url = self.url or os.environ.get("KC_POSTGRES_URL") or harness._missing(
            "KC_POSTGRES_URL is not set; run the tests with scripts/test")
        self.table = "faults_flow_" + self.suffix
        self.files = "faults_flow_files_" + self.suffix
        self.prefix = f"faults/{self.stream}/"
        self.manifest_stream = self.stream + "-manifests"
        self.psql(f"CREATE TABLE {self.table} (id bigserial PRIMARY KEY, n bigint NOT NULL, "
                  "key text NOT NULL)")
        harness.create_stream(self.manifest_stream, 1)

    def drop(self):
        self.psql(f"DROP TABLE IF EXISTS {self.table}; DROP TABLE IF EXISTS {self.files}")
        harness.delete_stream(self.manifest_stream)

    def checkpoint(self):
        return None  # the harness's file store, for both pipelines

    def emitter(self):
        return f'''type = "s3_manifest"
bucket = "{harness.S3_BUCKET}"
prefix = "{self.prefix}data/"
key = "{{shard}}/{{first}}-{{last}}.{{ext}}"
format = "csv"
fields = ["n", "key"]
manifest_stream = "{self.manifest_stream}"'''

    def connector(self, **kwargs):
        c = super().connector(**kwargs)
        with open(c.config, "a") as f:
            f.write(harness.redshift_loader_pipeline(
                "load", self.manifest_stream, self.url, self.table, ["n", "key"], self.files,
                self.prefix + "manifests/"))
        return c

    def numbers(self):
        return oracle.postgres_delivered(self.url, self.table, column="n", value=int)

    def verdict(self, producer):
        return oracle.judge(producer.sent,
                            oracle.lanes_from_numbers(producer.sent, self.numbers(), self.lane),
                            self.lane)

    def unique_delivered(self):
        return len(set(self.numbers()))

    def staged(self):
        """How many records the CSV objects in S3 hold: what the first
        pipeline has written."""
        objects = harness.s3_objects(self.prefix + "data/")
        return sum(len(body.splitlines()) for body in objects.values())


class KinesisSink(Sink):
    """Another stream, with each key's records in order (`ordered = true`):
    at least once, so a replay after a crash puts records again."""
    name = "kinesis"
    exactly_once = False
    lane = staticmethod(oracle.by_key)

    def __init__(self, workdir, stream, endpoint=None):
        super().__init__(workdir, stream)
        # A kinesalite of the test's own, where the target stream keeps the
        # source's name (a copy into another region); else a stream of its
        # own on the shared one.
        self.endpoint = endpoint

    def create(self):
        self.target = self.stream if self.endpoint else self.stream + "-copy"
        harness.create_stream(self.target, 2, endpoint=self.endpoint)

    def drop(self):
        if not self.endpoint:  # a stand-in of the test's own goes with its directory
            harness.delete_stream(self.target)

    def emitter(self):
        where = f'\nendpoint = "{self.endpoint}"' if self.endpoint else ""
        return f'type = "kinesis"\nstream = "{self.target}"\nordered = true{where}'

    def delivered(self):
        by_key = {}
        for records in oracle.kinesis_delivered(self.target, endpoint=self.endpoint).values():
            for key, n in records:
                by_key.setdefault(key, []).append(n)
        return by_key


class DynamoDbSink(Sink):
    """A table keyed by the record's number: a replay overwrites the same
    items, and the table keeps no order."""
    name = "dynamodb"
    ordered = False

    def __init__(self, workdir, stream, endpoint=None):
        super().__init__(workdir, stream)
        self.endpoint = endpoint  # a dynalite of the test's own; else the shared one

    def create(self):
        self.table = "faults-" + self.suffix
        harness.dynamodb("create-table", "--table-name", self.table, "--billing-mode",
                         "PAY_PER_REQUEST", "--attribute-definitions",
                         "AttributeName=n,AttributeType=N", "--key-schema",
                         "AttributeName=n,KeyType=HASH", endpoint=self.endpoint)

    def drop(self):
        if not self.endpoint:  # a stand-in of the test's own goes with its directory
            harness.dynamodb("delete-table", "--table-name", self.table)

    def emitter(self):
        return f'type = "dynamodb"\ntable = "{self.table}"\nhash_key = "n"'

    def delivered(self):
        return {"table": oracle.dynamodb_delivered(self.table, endpoint=self.endpoint)}


class SinkTestCase:
    """Mixed into the fault tests' unittest classes, whose `sink` names a
    Sink class: each test gets a work directory, a stream name and the
    sink's own table, stream or prefix, all removed afterwards."""
    sink = None
    name_prefix = "faults"

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix=f"kc-{self.name_prefix}-")
        self.stream = f"{self.name_prefix}-{uuid.uuid4().hex[:10]}"
        self.s = self.sink(self.tmp.name, self.stream)
        self.s.create()

    def tearDown(self):
        connector = getattr(self, "connector_running", None)
        if connector and connector.proc and connector.proc.poll() is None:
            connector.proc.kill()
            connector.proc.wait(timeout=30)
        harness.delete_stream(self.stream)
        self.s.drop()
        self.tmp.cleanup()

    def start(self, connector, **kwargs):
        """Starts `connector`; a test that fails leaves no process behind."""
        self.connector_running = connector
        return connector.start(**kwargs)

    def deliver_all(self, connector, producer, what="", timeout=300):
        return deliver_all(self, self.s, connector, producer, what, timeout)


def deliver_all(test, sink, connector, producer, what="", timeout=300):
    """With `connector` running: waits until `sink` holds every record put,
    stops it with SIGTERM (it must exit 0), prints the oracle's verdict and
    fails `test` unless it holds. Returns the verdict."""
    want = len(producer.sent)
    harness.wait_for_connector(connector, lambda: sink.unique_delivered() >= want, timeout,
                               f"all {want} records in the {sink.name} sink", interval=1.0)
    test.assertEqual(connector.terminate(), 0, connector.log_text()[-3000:])
    verdict = sink.verdict(producer)
    print(f"\n{sink.name}{what}: {verdict.summary()}", file=sys.stderr)
    test.assertTrue(verdict.ok(sink.exactly_once), verdict.summary())
    return verdict
