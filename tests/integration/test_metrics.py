"""The daemon's /metrics, /health and /ready, scraped by a real Prometheus.

Records written with the AWS CLI go through kinesis-connect into files while
a Prometheus server (Debian's, started here on loopback) scrapes the daemon
every second. Prometheus's HTTP API must then report, per shard, exactly the
records the files hold, and the lag Kinesis reports at the tip (0);
`promtool check metrics` must accept the scraped text as it is.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Connector, Producer  # noqa: E402

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, method="GET"):
    """(status, body) of an HTTP call; errors are answers too."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Prometheus:
    """A Prometheus server scraping `target` (host:port) every second."""

    def __init__(self, workdir, target):
        if not os.access(PROMETHEUS, os.X_OK):
            harness._missing("prometheus is not installed; scripts/install-deps installs it")
        self.port = free_port()
        config = os.path.join(workdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kinesis-connect
    static_configs:
      - targets: ["{target}"]
""")
        self.log = open(os.path.join(workdir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(workdir, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=self.log)
        harness.wait_until(lambda: self._up(), 60, "Prometheus answering")

    def _up(self):
        try:
            return get(f"http://127.0.0.1:{self.port}/-/ready")[0] == 200
        except OSError:
            return False

    def query(self, promql):
        """The vector result of an instant query: {labels tuple: value}."""
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?" +
               urllib.parse.urlencode({"query": promql}))
        status, body = get(url)
        if status != 200:
            raise AssertionError(f"query {promql}: {status} {body}")
        out = {}
        for r in json.loads(body)["data"]["result"]:
            out[tuple(sorted(r["metric"].items()))] = float(r["value"][1])
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-metrics-")
        self.workdir = self.tmp.name
        self.stream = "metrics-" + uuid.uuid4().hex[:10]

    def tearDown(self):
        harness.delete_stream(self.stream)
        self.tmp.cleanup()

    def start_connector(self):
        c = Connector(self.workdir, self.stream, buffer_records=100, max_age="500ms")
        with open(c.config, "a") as f:
            f.write('\n[metrics]\nlisten = "127.0.0.1:0"\n')
        c.start()
        self.addCleanup(lambda: c.proc.poll() is None and c.terminate())
        pattern = r"metrics: http://127\.0\.0\.1:(\d+)/metrics"
        harness.wait_for_connector(c, lambda: re.search(pattern, c.log_text()), 30,
                                   "the metrics address in the log")
        return c, f"127.0.0.1:{re.search(pattern, c.log_text()).group(1)}"

    def test_prometheus_sees_every_record_emitted_and_the_lag(self):
        harness.create_stream(self.stream, 3)
        producer = Producer(self.stream)
        producer.put([(f"key-{i}", f"record {i}".encode()) for i in range(900)])
        by_shard = producer.expected_by_shard()

        c, address = self.start_connector()
        base = f"http://{address}"
        harness.wait_for_connector(c, lambda: get(base + "/ready")[0] == 200, 60, "/ready")
        self.assertEqual(get(base + "/health"), (200, "ok\n"))

        prometheus = Prometheus(self.workdir, address)
        self.addCleanup(prometheus.stop)

        def emitted_per_shard():
            got = prometheus.query(
                f'kinesis_connect_records_emitted_total{{pipeline="files",stream="{self.stream}"}}')
            return {dict(k)["shard"]: v for k, v in got.items()}

        want = {shard: float(len(records)) for shard, records in by_shard.items()}
        harness.wait_until(lambda: emitted_per_shard() == want, 90,
                           f"Prometheus to report {want} emitted")
        delivered = harness.read_envelopes(c.out, self.stream)
        self.assertEqual({s: float(len(r)) for s, r in delivered.items()}, want)
        for labels in prometheus.query("kinesis_connect_records_emitted_total"):
            self.assertEqual(dict(labels)["sink"], "file")

        # At the tip, Kinesis reports no lag for any shard.
        lag = harness.wait_until(
            lambda: (lambda v: v if len(v) == 3 and set(v.values()) == {0.0} else None)(
                prometheus.query(f'kinesis_connect_millis_behind_latest{{stream="{self.stream}"}}')),
            60, "every shard's lag at 0")
        self.assertEqual(len(lag), 3)
        read = prometheus.query(f'sum(kinesis_connect_records_read_total{{stream="{self.stream}"}})')
        self.assertEqual(list(read.values()), [900.0])
        batches = prometheus.query(
            f'sum(kinesis_connect_emit_duration_seconds_count{{stream="{self.stream}"}})')
        self.assertGreaterEqual(list(batches.values())[0], 9.0)  # 300 a shard, 100 a batch
        self.assertEqual(prometheus.query("sum(kinesis_connect_shards)"), {(): 3.0})
        self.assertTrue(prometheus.query("process_resident_memory_bytes > 0"))

        # The text as scraped passes promtool's checks.
        status, text = get(base + "/metrics")
        self.assertEqual(status, 200)
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                               capture_output=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout.decode() + check.stderr.decode())

        self.assertEqual(get(base + "/nothing-here")[0], 404)
        self.assertEqual(get(base + "/metrics", method="POST")[0], 405)
        self.assertEqual(get(base + "/ready", method="HEAD"), (200, ""))

        self.assertEqual(c.terminate(), 0, c.log_text())

    def test_a_backfill_off_a_terminal_logs_its_progress(self):
        harness.create_stream(self.stream, 2)
        Producer(self.stream).put([(f"key-{i}", b"x" * 200) for i in range(400)])
        c = Connector(self.workdir, self.stream, buffer_records=50, max_age="200ms",
                      log_format="json")
        with open(c.log, "w") as log:
            rc = subprocess.run([harness.binary(), "run", "-c", c.config, "--once",
                                 "--stats-interval", "100ms"] + c.log_args(),
                                env=c.env(), stdout=log, stderr=log, timeout=120).returncode
        self.assertEqual(rc, 0, c.log_text())
        with open(c.log) as f:
            lines = [json.loads(line) for line in f]
        progress = [e["msg"] for e in lines if e["msg"].startswith("progress of pipeline files: ")]
        self.assertTrue(progress, c.log_text())
        self.assertRegex(progress[-1], r"^progress of pipeline files: [\d,]+ records, [\d.]+ MB, ")
        self.assertEqual({e.get("pipeline") for e in lines if "shard" in e}, {"files"})

if __name__ == "__main__":
    unittest.main()
