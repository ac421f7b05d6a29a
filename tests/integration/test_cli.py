"""kinesis-connect as a user meets it: validate, exit codes, clear errors for
bad input from the outside world, status, and the example program."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Connector, Producer  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "faults"))
from fault_proxy import FaultProxy, Rule, aws_error  # noqa: E402


def run(args, env=None, timeout=120):
    return subprocess.run(
        [harness.binary(), *args],
        env=env or harness.client_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kc-cli-")
        self.stream = "cli-" + uuid.uuid4().hex[:10]

    def tearDown(self):
        harness.delete_stream(self.stream)
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_validate_lists_every_problem_with_line_and_key(self):
        path = self.write(
            "bad.toml",
            '[aws]\nregion = "us-east-1"\n\n[[pipeline]]\nname = "p"\nstream = "s"\n'
            '[pipeline.buffer]\nmax_recrods = 5\nmax_age = "30"\n'
            '[pipeline.emitter]\ntype = "file"\nformat = "jsonl"\n',
        )
        out = run(["validate", "-c", path])
        self.assertEqual(out.returncode, 2, out)
        lines = out.stderr.strip().splitlines()
        self.assertIn(f"{path}:8: pipeline[0].buffer.max_recrods: unknown key", out.stderr)
        self.assertIn("did you mean 'max_records'", out.stderr)
        self.assertIn(f"{path}:9: pipeline[0].buffer.max_age:", out.stderr)
        self.assertIn(f"{path}:10: pipeline[0].emitter.directory: missing required key", out.stderr)
        self.assertIn(f"{path}:12: pipeline[0].emitter.format: unknown format 'jsonl'", out.stderr)
        self.assertEqual(lines[-1], f"4 problems in {path}")
        # run refuses the same file with the same exit code.
        self.assertEqual(run(["run", "-c", path, "--once"]).returncode, 2)

    def test_validate_accepts_the_shipped_example(self):
        example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "configs", "files.toml")
        out = run(["validate", "-c", example])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("ok, 1 pipeline", out.stdout)

    def test_version_names_the_commit_and_the_libraries(self):
        out = run(["--version"])
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertRegex(lines[0], r"^kinesis-connect \d+\.\d+\.\d+$")
        self.assertRegex(lines[1], r"^commit ([0-9a-f]{12}(\+changes)?|unknown), build type \S+$")
        libraries = dict(line.split(None, 1) for line in lines[2:])
        for name in ("libcurl", "OpenSSL", "simdjson", "libpq", "prometheus-cpp", "civetweb"):
            self.assertRegex(libraries.get(name, ""), r"^\d+\.\d+", f"{name} in {out.stdout}")

    def test_log_options_before_or_after_the_subcommand_and_in_the_file(self):
        example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "configs",
                               "files.toml")
        for args in (["--log-format", "json", "validate", "-c", example],
                     ["validate", "-c", example, "--log-level", "debug", "--log-format", "text"]):
            out = run(args)
            self.assertEqual(out.returncode, 0, out.stderr)
        out = run(["validate", "-c", example, "--log-format", "xml"])
        self.assertEqual(out.returncode, 2)
        self.assertIn("--log-format", out.stderr)
        path = self.write("log.toml", '[log]\nlevel = "loud"\nformat = "json"\n[[pipeline]]\n'
                          'name = "p"\nstream = "s"\n[pipeline.emitter]\ntype = "stdout"\n')
        out = run(["validate", "-c", path])
        self.assertEqual(out.returncode, 2)
        self.assertIn(f"{path}:2: log.level: unknown log level 'loud'", out.stderr)

    def test_environment_variables_in_the_config(self):
        path = self.write("env.toml", '[[pipeline]]\nname = "p"\nstream = "${KC_IT_STREAM}"\n'
                          '[pipeline.emitter]\ntype = "file"\n'
                          'directory = "${KC_IT_DIR:-out}"\n')
        env = harness.client_env()
        env.pop("KC_IT_STREAM", None)
        out = run(["validate", "-c", path], env=env)
        self.assertEqual(out.returncode, 2, out)
        self.assertIn(f"{path}:3: pipeline[0].stream: the environment variable KC_IT_STREAM is "
                      "not set", out.stderr)
        env["KC_IT_STREAM"] = "orders"
        out = run(["validate", "-c", path], env=env)
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_missing_stream_is_a_runtime_error_naming_the_fix(self):
        c = Connector(self.tmp.name, self.stream)
        self.assertEqual(c.run_once(), 1)
        log = c.log_text()
        self.assertIn(f"stream '{self.stream}' does not exist", log)
        self.assertIn("fix `stream` in pipeline 'files'", log)
        # validate --online and check find it too; an existing stream passes.
        for args in (["validate", "--online", "-c", c.config], ["check", "-c", c.config]):
            out = run(args)
            self.assertEqual(out.returncode, 1, out)
            self.assertIn(f"FAIL  pipeline files: stream '{self.stream}' does not exist", out.stdout)
        harness.create_stream(self.stream, 2)
        out = run(["check", "-c", c.config])
        self.assertEqual(out.returncode, 0, out)
        self.assertIn(f"ok    pipeline files: stream {self.stream}: ACTIVE, 2 open shards", out.stdout)

    def test_a_kinesis_sink_that_resolves_to_the_stream_read_is_refused(self):
        # The sink names a region and endpoint of its own, which turn out to
        # be [aws]'s: the same stream, which it would feed back to itself.
        emitter = (f'type = "kinesis"\nstream = "{self.stream}"\n'
                   f'region = "{harness.REGION}"\nendpoint = "{harness.endpoint()}"')
        c = Connector(self.tmp.name, self.stream, emitter=emitter)
        self.assertEqual(c.run_once(), 2)
        log = c.log_text()
        self.assertIn(f"emitter.stream '{self.stream}' in {harness.REGION} at "
                      f"{harness.endpoint()} is the stream the pipeline reads", log)

    def test_an_unreachable_kinesis_endpoint_fails_the_run_naming_it(self):
        # Nothing listens on port 1: the checks at the start ask a few
        # times, then the run fails with the address in the error, before
        # any pipeline starts its own retries.
        c = Connector(self.tmp.name, self.stream, endpoints={"kinesis": "http://127.0.0.1:1"})
        self.assertEqual(c.run_once(timeout=180), 1)
        log = c.log_text()
        self.assertIn(f"check failed: pipeline files: stream {self.stream}: "
                      "DescribeStreamSummary failed after 3 attempts", log)
        self.assertIn("request to http://127.0.0.1:1/ failed: Couldn't connect to server", log)
        self.assertNotIn("ListShards", log)
        # `check` says the same, one line per check.
        out = run(["check", "-c", c.config])
        self.assertEqual(out.returncode, 1, out)
        self.assertRegex(out.stdout, r"(?m)^ok    credentials: ")
        self.assertIn(f"FAIL  pipeline files: stream {self.stream}: DescribeStreamSummary failed",
                      out.stdout)

    def test_wrong_secret_is_refused_and_never_logged(self):
        harness.create_stream(self.stream, 1)
        c = Connector(self.tmp.name, self.stream)
        env = harness.client_env(secret="definitely-wrong-secret-1234")
        for log_format in ("text", "json"):
            with open(c.log, "w") as log:
                rc = subprocess.run(
                    [harness.binary(), "run", "-c", c.config, "--once", "--log-format",
                     log_format],
                    env=env, stdout=log, stderr=log, timeout=120,
                ).returncode
            self.assertEqual(rc, 1)
            log = c.log_text()
            self.assertIn("InvalidSignatureException", log)
            self.assertNotIn("definitely-wrong-secret-1234", log)
            if log_format == "json":
                with open(c.log) as f:
                    errors = [e for e in map(json.loads, f) if e["level"] == "error"]
                self.assertTrue(errors, log)
                self.assertTrue(errors[0]["msg"].startswith("check failed: pipeline files: "
                                                            f"stream {self.stream}: "), log)
                self.assertEqual(errors[0]["error_code"], "authentication", log)

    def test_second_signal_exits_at_once_while_an_emit_is_stuck(self):
        # The bucket is there (the check at the start passes), but every
        # PutObject is answered 503, so the first batch's emit keeps
        # retrying. The first SIGTERM waits for it; the second ends the
        # process at once, with exit code 1.
        harness.create_stream(self.stream, 1)
        Producer(self.stream).put([(f"k{i}", b"x") for i in range(5)])
        proxy = FaultProxy(upstream=harness.s3_endpoint()).start()
        self.addCleanup(proxy.stop)
        proxy.add(Rule(match="PutObject", action=aws_error("ServiceUnavailable", 503)))
        c = Connector(self.tmp.name, self.stream, buffer_records=5,
                      access_key=harness.S3_ACCESS_KEY, endpoints={"s3": proxy.endpoint},
                      emitter='type = "s3"\nbucket = "kc-test-bucket"')
        proc = c.start()
        harness.wait_until(lambda: "retrying in" in c.log_text() or proc.poll() is not None,
                           60, "the emit to retry")
        self.assertIsNone(proc.poll(), c.log_text())
        proc.send_signal(signal.SIGTERM)
        harness.wait_until(lambda: "stopping; emitting and checkpointing" in c.log_text(), 30,
                           "the first signal to be seen")
        self.assertIsNone(proc.poll(), "the first signal must wait for the stuck emit")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 1, c.log_text())
        self.assertIn("second signal: exiting now", c.log_text())

    def test_status_shows_shards_and_checkpoints(self):
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        producer.put([(f"k{i}", f"v{i}".encode()) for i in range(50)])
        c = Connector(self.tmp.name, self.stream)
        self.assertEqual(c.run_once(), 0, c.log_text())
        out = run(["status", "-c", c.config])
        self.assertEqual(out.returncode, 0, out.stderr)
        last = {}
        for shard, seq, _, _ in producer.sent:
            last[shard] = max(last.get(shard, 0), int(seq))
        for shard, seq in last.items():
            row = next(line for line in out.stdout.splitlines() if shard in line)
            self.assertIn("open", row)
            self.assertIn(str(seq), row)
            self.assertIn("0 ms", row)
        creds = next(line for line in out.stdout.splitlines() if line.startswith("credentials:"))
        self.assertIn("(using environment variables", creds)
        self.assertNotIn(harness.SECRET_KEY, out.stdout + out.stderr)

    def test_own_client_creates_writes_and_the_connector_reads_it_back(self):
        # CreateStream, DescribeStreamSummary and PutRecords of the project's
        # own client, signed and checked by the stand-in; the AWS CLI confirms.
        produce = os.environ.get("KC_PRODUCE")
        if not produce:
            self.skipTest("KC_PRODUCE is not set")
        out = subprocess.run(
            [produce, "--create", "3", self.stream, "1500", "200", harness.endpoint()],
            env=harness.client_env(), capture_output=True, text=True, timeout=120,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("produced 1500 records of 200 bytes", out.stdout)
        self.assertEqual(len(harness.list_shards(self.stream)), 3)
        c = Connector(self.tmp.name, self.stream, buffer_records=400)
        self.assertEqual(c.run_once(), 0, c.log_text())
        self.assertEqual(harness.count_records(c.out, self.stream), 1500)

    def test_example_program_with_its_own_transformer_and_filter(self):
        example = os.environ.get("KC_EXAMPLE")
        if not example:
            self.skipTest("KC_EXAMPLE is not set")
        harness.create_stream(self.stream, 2)
        producer = Producer(self.stream)
        records = [(f"k{i}", (b"heartbeat" if i % 4 == 0 else f"event {i}".encode())) for i in range(40)]
        producer.put(records)
        out_dir = os.path.join(self.tmp.name, "example-out")
        env = harness.client_env()
        out = subprocess.run([example, self.stream, out_dir, harness.endpoint()], env=env,
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("40 records read, 30 written, 10 dropped", out.stdout)
        lines = []
        for dirpath, _, names in os.walk(os.path.join(out_dir, self.stream)):
            for n in names:
                with open(os.path.join(dirpath, n)) as f:
                    lines += f.read().splitlines()
        self.assertEqual(len(lines), 30)
        self.assertTrue(all(line.startswith('{"key":"k') for line in lines), lines[:3])


if __name__ == "__main__":
    unittest.main()
