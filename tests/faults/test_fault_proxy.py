"""The fault proxy against the real stand-ins, with real clients: the AWS CLI,
botocore, curl (libcurl) and raw sockets where exact bytes matter.

Needs KC_KINESIS_ENDPOINT, KC_S3_ENDPOINT and KC_DYNAMODB_ENDPOINT (scripts/test
sets them); without them the service tests skip, or fail under
KC_REQUIRE_SERVICES=1, as the integration tests do. The rule syntax and
operation names are checked without any service.
"""

import base64
import contextlib
import hashlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import botocore.session  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import (  # noqa: E402
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

import harness  # noqa: E402
import standins  # noqa: E402
from fault_proxy import (  # noqa: E402
    FaultProxy,
    Rule,
    aws_error,
    delay,
    drop,
    http_status,
    operation_of,
    parse_rule,
    reset,
    truncate,
)

PTEE = "ProvisionedThroughputExceededException"


# ------------------------------------------------------------- clients


def cli(service, endpoint, *args, access_key=harness.ACCESS_KEY):
    """The real AWS CLI through `endpoint`, without retries, so that an
    injected error is what it reports."""
    env = harness.client_env(access_key=access_key)
    env.update(AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard", AWS_EC2_METADATA_DISABLED="true",
               AWS_CLI_AUTO_PROMPT="off")
    cmd = [harness.AWS_CLI, "--endpoint-url", endpoint, "--output", "json",
           "--cli-read-timeout", "10", "--cli-connect-timeout", "5", service, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def client(service, endpoint, read_timeout=10, access_key=harness.ACCESS_KEY):
    """A botocore client for `endpoint` that tries each call once."""
    session = botocore.session.Session()
    session.set_config_variable("config_file", os.devnull)
    session.set_config_variable("credentials_file", os.devnull)
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                    read_timeout=read_timeout, s3={"addressing_style": "path"})
    return session.create_client(service, region_name=harness.REGION, endpoint_url=endpoint,
                                 aws_access_key_id=access_key,
                                 aws_secret_access_key=harness.SECRET_KEY, config=config)


def s3_client(endpoint, **kwargs):
    return client("s3", endpoint, access_key=harness.S3_ACCESS_KEY, **kwargs)


def outcome(call):
    """"ok", or the error code of the ClientError `call` raised."""
    try:
        call()
        return "ok"
    except ClientError as e:
        return e.response["Error"]["Code"]


def signed_kinesis_request(endpoint, operation, payload=b"{}", chunked=False):
    """The bytes of a Kinesis request signed for `endpoint`, for clients that
    speak through a raw socket; with `chunked` the body is sent in chunks."""
    netloc = urllib.parse.urlsplit(endpoint).netloc
    request = AWSRequest("POST", endpoint + "/", data=payload, headers={
        "X-Amz-Target": f"Kinesis_20131202.{operation}",
        "Content-Type": "application/x-amz-json-1.1",
    })
    SigV4Auth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "kinesis",
              harness.REGION).add_auth(request)
    lines = ["POST / HTTP/1.1", f"Host: {netloc}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        body = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 3]), payload[i:i + 3])
                        for i in range(0, len(payload), 3)) + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(payload)}")
        body = payload
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def curl_kinesis(endpoint, operation, payload, times=1):
    """libcurl, the client kinesis-connect is built on: `times` signed
    requests in one curl run, so on one kept-alive connection. Returns the
    exit status, the HTTP status of each request and curl's stderr."""
    args = ["curl", "-sS"]
    for i in range(times):
        if i:
            args.append("--next")
        args += ["--aws-sigv4", f"aws:amz:{harness.REGION}:kinesis",
                 "-u", f"{harness.ACCESS_KEY}:{harness.SECRET_KEY}",
                 "-H", f"X-Amz-Target: Kinesis_20131202.{operation}",
                 "-H", "Content-Type: application/x-amz-json-1.1",
                 "--data-binary", payload, "-o", os.devnull, "-w", "%{http_code}\\n",
                 endpoint + "/"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout.split(), out.stderr


def connect(endpoint):
    parts = urllib.parse.urlsplit(endpoint)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def read_response(stream):
    """(status, {lower-case name: value}, body) from a file of a socket,
    the body as long as Content-Length says or as long as it lasts."""
    status = int(stream.readline().split()[1])
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", 0)))
    return status, headers, body


def read_until_closed(sock):
    """Every byte until the peer closes, and how: "eof" or "reset"."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, "reset"
        if not chunk:
            return data, "eof"
        data += chunk


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- tests


class FaultProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kinesis_endpoint = harness.endpoint()
        cls.s3_endpoint = harness.s3_endpoint()
        cls.dynamodb_endpoint = harness.dynamodb_endpoint()
        cls.kinesis = client("kinesis", cls.kinesis_endpoint)
        cls.s3 = s3_client(cls.s3_endpoint)
        cls.stream = f"fault-proxy-{uuid.uuid4().hex[:12]}"
        cls.kinesis.create_stream(StreamName=cls.stream, ShardCount=1)
        harness.wait_until(
            lambda: cls.kinesis.describe_stream_summary(StreamName=cls.stream)
            ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE",
            60, f"stream {cls.stream} to be ACTIVE")
        cls.shard = cls.kinesis.list_shards(StreamName=cls.stream)["Shards"][0]["ShardId"]
        cls.prefix = f"fault-proxy/{uuid.uuid4().hex[:12]}/"

    @classmethod
    def tearDownClass(cls):
        try:
            cls.kinesis.delete_stream(StreamName=cls.stream)
        except Exception:
            pass
        cls.kinesis.close()
        cls.s3.close()

    def client(self, service, endpoint, **kwargs):
        made = client(service, endpoint, **kwargs)
        self.addCleanup(made.close)
        return made

    def proxy(self, upstream=None, **kwargs):
        proxy = FaultProxy(upstream or self.kinesis_endpoint, **kwargs).start()
        self.addCleanup(proxy.stop)
        return proxy

    def stream_data(self):
        """Every record's data now in the test's stream, read directly."""
        it = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=self.shard,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        data = []
        while it:
            page = self.kinesis.get_records(ShardIterator=it, Limit=10000)
            data += [r["Data"] for r in page["Records"]]
            if not page["Records"]:
                return data
            it = page.get("NextShardIterator")
        return data

    # -- forwarding

    def test_cli_calls_through_the_proxy_keep_valid_signatures(self):
        kinesis = self.proxy()
        out = cli("kinesis", kinesis.endpoint, "describe-stream", "--stream-name", self.stream)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(self.shard, out.stdout)

        dynamodb = self.proxy(self.dynamodb_endpoint)
        out = cli("dynamodb", dynamodb.endpoint, "list-tables")
        self.assertEqual(out.returncode, 0, out.stderr)

        s3 = self.proxy(self.s3_endpoint)
        out = cli("s3api", s3.endpoint, "list-objects-v2", "--bucket", harness.S3_BUCKET,
                  "--prefix", self.prefix, access_key=harness.S3_ACCESS_KEY)
        self.assertEqual(out.returncode, 0, out.stderr)

        self.assertEqual(kinesis.counts, {"DescribeStream": 1})
        self.assertEqual(dynamodb.counts, {"ListTables": 1})
        self.assertEqual(s3.counts, {"ListObjectsV2": 1})

    def test_libcurl_keeps_one_connection_for_many_requests(self):
        if not shutil.which("curl"):
            self.skipTest("curl is not installed")
        proxy = self.proxy()
        rc, statuses, stderr = curl_kinesis(proxy.endpoint, "DescribeStreamSummary",
                                            '{"StreamName": "%s"}' % self.stream, times=5)
        self.assertEqual((rc, statuses), (0, ["200"] * 5), stderr)
        self.assertEqual(proxy.counts, {"DescribeStreamSummary": 5})
        self.assertEqual(proxy.connections, 1)

    def test_chunked_and_plain_requests_share_a_connection(self):
        proxy = self.proxy()
        payload = b'{"StreamName": "%s"}' % self.stream.encode()
        with connect(proxy.endpoint) as sock, sock.makefile("rb") as stream:
            for chunked in (False, True, False):
                sock.sendall(signed_kinesis_request(proxy.endpoint, "DescribeStreamSummary",
                                                    payload, chunked=chunked))
                status, _, body = read_response(stream)
                self.assertEqual(status, 200, body)
                self.assertIn(self.stream.encode(), body)
        self.assertEqual(proxy.counts, {"DescribeStreamSummary": 3})
        self.assertEqual(proxy.connections, 1)

    def test_large_s3_objects_pass_byte_for_byte(self):
        proxy = self.proxy(self.s3_endpoint)
        with tempfile.TemporaryDirectory() as tmp:
            single = os.path.join(tmp, "single")
            multi = os.path.join(tmp, "multi")
            with open(single, "wb") as f:
                f.write(os.urandom(5 * 1024 * 1024 + 123))
            with open(multi, "wb") as f:
                f.write(os.urandom(12 * 1024 * 1024 + 7))

            key = self.prefix + "single"
            out = cli("s3api", proxy.endpoint, "put-object", "--bucket", harness.S3_BUCKET,
                      "--key", key, "--body", single, access_key=harness.S3_ACCESS_KEY)
            self.assertEqual(out.returncode, 0, out.stderr)
            back = os.path.join(tmp, "single.back")
            out = cli("s3api", proxy.endpoint, "get-object", "--bucket", harness.S3_BUCKET,
                      "--key", key, back, access_key=harness.S3_ACCESS_KEY)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(_digest(back), _digest(single))
            direct = self.s3.get_object(Bucket=harness.S3_BUCKET, Key=key)["Body"].read()
            self.assertEqual(hashlib.sha256(direct).hexdigest(), _digest(single))

            # `aws s3 cp` splits 12 MiB into parts of 8 MiB.
            url = f"s3://{harness.S3_BUCKET}/{self.prefix}multi"
            out = cli("s3", proxy.endpoint, "cp", "--quiet", multi, url,
                      access_key=harness.S3_ACCESS_KEY)
            self.assertEqual(out.returncode, 0, out.stderr)
            direct = self.s3.get_object(Bucket=harness.S3_BUCKET, Key=self.prefix + "multi")
            direct = direct["Body"].read()
            self.assertEqual((len(direct), hashlib.sha256(direct).hexdigest()),
                             (os.path.getsize(multi), _digest(multi)), "stored object")
            out = cli("s3", proxy.endpoint, "cp", "--quiet", url, multi + ".back",
                      access_key=harness.S3_ACCESS_KEY)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual((os.path.getsize(multi + ".back"), _digest(multi + ".back")),
                             (os.path.getsize(multi), _digest(multi)), "downloaded object")

        counts = proxy.counts
        self.assertEqual(counts["PutObject"], 1)
        self.assertEqual(counts["CreateMultipartUpload"], 1)
        self.assertEqual(counts["UploadPart"], 2)
        self.assertEqual(counts["CompleteMultipartUpload"], 1)
        self.assertGreaterEqual(counts["GetObject"], 2)
        self.assertEqual(counts.get("HeadObject"), 1)

    # -- injected answers

    def test_injected_errors_reach_the_cli_as_their_codes(self):
        kinesis = self.proxy()
        rule = kinesis.add(Rule("GetRecords", aws_error(PTEE)))
        it = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=self.shard,
                                             ShardIteratorType="LATEST")["ShardIterator"]
        out = cli("kinesis", kinesis.endpoint, "get-records", "--shard-iterator", it)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(f"({PTEE}) when calling the GetRecords operation", out.stderr)
        self.assertEqual(rule.hits, 1)

        dynamodb = self.proxy(self.dynamodb_endpoint)
        dynamodb.add(Rule("ListTables", aws_error("ThrottlingException")))
        out = cli("dynamodb", dynamodb.endpoint, "list-tables")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("(ThrottlingException) when calling the ListTables operation", out.stderr)

        s3 = self.proxy(self.s3_endpoint)
        s3.add(Rule("ListObjectsV2", aws_error("SlowDown", 503)))
        out = cli("s3api", s3.endpoint, "list-objects-v2", "--bucket", harness.S3_BUCKET,
                  access_key=harness.S3_ACCESS_KEY)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("(SlowDown) when calling the ListObjectsV2 operation", out.stderr)

    def test_error_answers_have_the_services_formats(self):
        proxy = self.proxy()
        kinesis = self.client("kinesis", proxy.endpoint)
        it = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=self.shard,
                                             ShardIteratorType="LATEST")["ShardIterator"]
        for code, status in (("ExpiredIteratorException", 400), ("InternalFailure", 500)):
            proxy.clear()
            proxy.add(Rule("GetRecords", aws_error(code, status, "injected")))
            with self.assertRaises(ClientError) as raised:
                kinesis.get_records(ShardIterator=it)
            response = raised.exception.response
            self.assertEqual(response["Error"], {"Code": code, "Message": "injected"})
            self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], status)
            self.assertEqual(response["ResponseMetadata"]["HTTPHeaders"]["content-type"],
                             "application/x-amz-json-1.1")

        proxy.clear()
        proxy.add(Rule("ListStreams", http_status(503, b"busy")))
        with self.assertRaises(ClientError) as raised:
            kinesis.list_streams()
        self.assertEqual(raised.exception.response["ResponseMetadata"]["HTTPStatusCode"], 503)

        dynamodb_proxy = self.proxy(self.dynamodb_endpoint)
        dynamodb_proxy.add(Rule("ListTables", aws_error(PTEE)))
        with self.assertRaises(ClientError) as raised:
            self.client("dynamodb", dynamodb_proxy.endpoint).list_tables()
        response = raised.exception.response
        self.assertEqual(response["Error"]["Code"], PTEE)
        self.assertEqual(response["ResponseMetadata"]["HTTPHeaders"]["content-type"],
                         "application/x-amz-json-1.0")

        s3_proxy = self.proxy(self.s3_endpoint)
        s3 = s3_client(s3_proxy.endpoint)
        self.addCleanup(s3.close)
        s3_proxy.add(Rule("GetObject", aws_error("InternalError", 500, "try again")))
        s3_proxy.add(Rule("HeadObject", aws_error("SlowDown", 503)))
        with self.assertRaises(ClientError) as raised:
            s3.get_object(Bucket=harness.S3_BUCKET, Key=self.prefix + "absent")
        self.assertEqual(raised.exception.response["Error"]["Code"], "InternalError")
        self.assertEqual(raised.exception.response["Error"]["Message"], "try again")
        with self.assertRaises(ClientError) as raised:
            s3.head_object(Bucket=harness.S3_BUCKET, Key=self.prefix + "absent")
        # A HEAD answer has no body: botocore can only name the status.
        self.assertEqual(raised.exception.response["ResponseMetadata"]["HTTPStatusCode"], 503)

    def test_times_after_and_first_rule_wins(self):
        proxy = self.proxy()
        kinesis = self.client("kinesis", proxy.endpoint)
        first = proxy.add(Rule("ListStreams", aws_error("LimitExceededException"), times=3,
                               after=2))
        # Sees only the requests the first rule lets pass: 1, 2, then 6 on.
        later = proxy.add(Rule("*", aws_error("InternalFailure", 500), times=1, after=2))
        seen = [outcome(kinesis.list_streams) for _ in range(8)]
        self.assertEqual(seen, ["ok", "ok"] + ["LimitExceededException"] * 3
                         + ["InternalFailure", "ok", "ok"])
        self.assertEqual((first.hits, first.matched), (3, 8))
        self.assertEqual((later.hits, later.matched), (1, 5))
        self.assertTrue(first.wait(3, timeout=0))
        self.assertFalse(later.wait(2, timeout=0))
        self.assertEqual(proxy.rules, [first, later])
        self.assertEqual(proxy.snapshot(), {"ListStreams": 8})

        proxy.clear()
        proxy.reset_counts()
        self.assertEqual(outcome(kinesis.list_streams), "ok")
        self.assertEqual(proxy.counts, {"ListStreams": 1})

    def test_probability_is_reproducible_with_a_seed(self):
        def pattern(proxy):
            kinesis = self.client("kinesis", proxy.endpoint)
            rule = proxy.add(Rule("ListStreams", aws_error("LimitExceededException"),
                                  probability=0.5))
            seen = [outcome(kinesis.list_streams) != "ok" for _ in range(24)]
            self.assertEqual(rule.hits, sum(seen))
            proxy.clear()
            return seen

        one = self.proxy(seed=1234)
        first = pattern(one)
        self.assertTrue(0 < sum(first) < len(first), first)
        self.assertEqual(pattern(self.proxy(seed=1234)), first)
        one.seed = 1234
        self.assertEqual(pattern(one), first)
        self.assertNotEqual(pattern(self.proxy(seed=99)), first)

    def test_callable_match_sees_the_request(self):
        proxy = self.proxy()
        kinesis = self.client("kinesis", proxy.endpoint)
        seen = []

        def only_key_b(request):
            seen.append((request.method, request.path, request.operation,
                         request.target, request.headers.get("content-type")))
            return request.operation == "PutRecord" and request.json()["PartitionKey"] == "b"

        rule = proxy.add(Rule(only_key_b, aws_error(PTEE)))
        put = lambda key: outcome(lambda: kinesis.put_record(  # noqa: E731
            StreamName=self.stream, PartitionKey=key, Data=b"callable"))
        self.assertEqual([put("a"), put("b"), put("c")], ["ok", PTEE, "ok"])
        self.assertEqual(rule.hits, 1)
        self.assertEqual(seen[0], ("POST", "/", "PutRecord", "Kinesis_20131202.PutRecord",
                                   "application/x-amz-json-1.1"))

    def test_concurrent_clients_are_counted_exactly(self):
        proxy = self.proxy(seed=5)
        rule = proxy.add(Rule("PutRecord", aws_error(PTEE), probability=0.25))
        tag = uuid.uuid4().hex.encode()
        results, errors = [], []

        def put_records(worker):
            try:
                with contextlib.closing(client("kinesis", proxy.endpoint)) as kinesis:
                    for i in range(25):
                        data = b"%s-%d-%d" % (tag, worker, i)
                        results.append((data, outcome(lambda: kinesis.put_record(
                            StreamName=self.stream, PartitionKey=str(i), Data=data))))
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=put_records, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 100)
        self.assertEqual({o for _, o in results} - {"ok", PTEE}, set())
        written = {d for d, o in results if o == "ok"}
        self.assertEqual(rule.hits, 100 - len(written))
        self.assertTrue(0 < rule.hits < 100)
        self.assertEqual(proxy.counts, {"PutRecord": 100})
        self.assertEqual({d for d in self.stream_data() if d.startswith(tag)}, written)

    # -- broken connections

    def test_drop_after_forwarding_keeps_the_write(self):
        proxy = self.proxy()
        lost = b"dropped-" + uuid.uuid4().hex.encode()
        kept = b"forwarded-" + uuid.uuid4().hex.encode()
        for action, data in ((drop(), lost), (drop(forward=True), kept)):
            rule = proxy.add(Rule("PutRecord", action, times=1))
            out = cli("kinesis", proxy.endpoint, "put-record", "--stream-name", self.stream,
                      "--partition-key", "k", "--data", base64.b64encode(data).decode())
            self.assertNotEqual(out.returncode, 0, out.stdout)
            self.assertIn("Connection was closed", out.stderr)
            self.assertEqual(rule.hits, 1)
            proxy.remove(rule)
        self.assertEqual(proxy.counts, {"PutRecord": 2})
        data = self.stream_data()
        self.assertIn(kept, data)
        self.assertNotIn(lost, data)

    def test_truncate_and_reset_are_errors_to_the_clients(self):
        payload = '{"StreamName": "%s"}' % self.stream
        proxy = self.proxy()
        if shutil.which("curl"):
            # curl's exit statuses: 18 partial file, 52 empty reply, 56 receive error.
            for action, statuses in ((truncate(10), {18}), (reset(), {52, 56}),
                                     (reset(after_bytes=40), {56})):
                rule = proxy.add(Rule("DescribeStream", action, times=1))
                rc, _, stderr = curl_kinesis(proxy.endpoint, "DescribeStream", payload)
                self.assertIn(rc, statuses, f"{action!r}: {stderr}")
                self.assertEqual(rule.hits, 1)
                proxy.remove(rule)

        # botocore (urllib3 1.x) does not hold a JSON answer to its
        # Content-Length, so the CLI only sees the resets there...
        for action in (reset(), reset(after_bytes=40)):
            rule = proxy.add(Rule("DescribeStream", action, times=1))
            out = cli("kinesis", proxy.endpoint, "describe-stream", "--stream-name", self.stream)
            self.assertNotEqual(out.returncode, 0, f"{action!r}: {out.stdout}")
            self.assertIn("Connection was closed", out.stderr)
            self.assertEqual(rule.hits, 1)
            proxy.remove(rule)

        # ...but it does check the length of an object it downloads.
        s3_proxy = self.proxy(self.s3_endpoint)
        key = self.prefix + "truncated"
        self.s3.put_object(Bucket=harness.S3_BUCKET, Key=key, Body=os.urandom(100_000))
        rule = s3_proxy.add(Rule("GetObject", truncate(1000)))
        with tempfile.TemporaryDirectory() as tmp:
            out = cli("s3api", s3_proxy.endpoint, "get-object", "--bucket", harness.S3_BUCKET,
                      "--key", key, os.path.join(tmp, "out"), access_key=harness.S3_ACCESS_KEY)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertEqual(rule.hits, 1)

    def test_truncate_and_reset_bytes_on_the_wire(self):
        proxy = self.proxy()
        request = signed_kinesis_request(proxy.endpoint, "DescribeStream",
                                         b'{"StreamName": "%s"}' % self.stream.encode())
        with connect(proxy.endpoint) as sock, sock.makefile("rb") as stream:
            sock.sendall(request)
            status, headers, whole = read_response(stream)
        self.assertEqual(status, 200, whole)
        self.assertEqual(int(headers["content-length"]), len(whole))

        proxy.add(Rule("DescribeStream", truncate(7), times=1))
        with connect(proxy.endpoint) as sock:
            sock.sendall(request)
            received, how = read_until_closed(sock)
        head, _, body = received.partition(b"\r\n\r\n")
        self.assertEqual(how, "eof")
        self.assertIn(b"\r\nContent-Length: %d\r\n" % len(whole), head + b"\r\n")
        self.assertEqual(body, whole[:7])

        proxy.add(Rule("DescribeStream", reset(after_bytes=25), times=1))
        with connect(proxy.endpoint) as sock:
            sock.sendall(request)
            received, how = read_until_closed(sock)
        self.assertEqual(how, "reset")
        self.assertEqual(len(received), 25)
        self.assertTrue(received.startswith(b"HTTP/1.1 200 OK\r\n"), received)

    def test_delay_delays(self):
        proxy = self.proxy()
        kinesis = self.client("kinesis", proxy.endpoint)
        proxy.add(Rule("ListStreams", delay(0.6), times=1))
        proxy.add(Rule("ListStreams", delay(0.3, then=aws_error("InternalFailure", 500)),
                       times=1))
        started = time.monotonic()
        self.assertEqual(outcome(kinesis.list_streams), "ok")
        self.assertGreaterEqual(time.monotonic() - started, 0.6)
        started = time.monotonic()
        self.assertEqual(outcome(kinesis.list_streams), "InternalFailure")
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(proxy.counts, {"ListStreams": 2})

    def test_delay_after_forwarding_lets_the_write_happen(self):
        proxy = self.proxy()
        rule = proxy.add(Rule("PutRecord", delay(5, forward_first=True), times=1))
        data = b"slow-" + uuid.uuid4().hex.encode()
        kinesis = self.client("kinesis", proxy.endpoint, read_timeout=0.5)
        started = time.monotonic()
        with self.assertRaises(ReadTimeoutError):
            kinesis.put_record(StreamName=self.stream, PartitionKey="k", Data=data)
        self.assertGreaterEqual(time.monotonic() - started, 0.5)
        self.assertEqual(rule.hits, 1)
        self.assertIn(data, self.stream_data())

    # -- outages

    def test_stopped_upstream_gives_502_until_it_is_back(self):
        # A kinesalite of the test's own, stopped and started on its port.
        tmp = tempfile.mkdtemp(prefix="fault-proxy-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        kinesalite = standins.StandIn("kinesalite", tmp)
        self.addCleanup(kinesalite.stop)
        proxy = self.proxy(kinesalite.start())
        kinesis = self.client("kinesis", proxy.endpoint)
        self.assertEqual(outcome(kinesis.list_streams), "ok")

        kinesalite.stop()
        with self.assertRaises(ClientError) as raised:
            kinesis.list_streams()
        metadata = raised.exception.response["ResponseMetadata"]
        self.assertEqual(metadata["HTTPStatusCode"], 502)
        self.assertEqual(metadata["HTTPHeaders"]["x-fault-proxy"], "upstream-error")
        out = cli("kinesis", proxy.endpoint, "list-streams")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("502", out.stderr)

        kinesalite.start()
        self.assertEqual(outcome(kinesis.list_streams), "ok")

    def test_proxy_restarts_on_its_port(self):
        proxy = self.proxy()
        endpoint = proxy.endpoint
        kinesis = self.client("kinesis", endpoint)
        self.assertEqual(outcome(kinesis.list_streams), "ok")
        proxy.stop()
        with self.assertRaises((EndpointConnectionError, ConnectionClosedError)):
            kinesis.list_streams()
        with self.assertRaises(EndpointConnectionError):
            self.client("kinesis", endpoint).list_streams()
        proxy.start()
        self.assertEqual(proxy.endpoint, endpoint)
        self.assertEqual(outcome(self.client("kinesis", endpoint).list_streams), "ok")

    def test_a_down_upstream_gives_502_on_a_kept_connection(self):
        proxy = self.proxy(f"http://127.0.0.1:{free_port()}")
        request = signed_kinesis_request(proxy.endpoint, "ListStreams")
        with connect(proxy.endpoint) as sock, sock.makefile("rb") as stream:
            for _ in range(2):
                sock.sendall(request)
                status, headers, body = read_response(stream)
                self.assertEqual(status, 502, body)
                self.assertEqual(headers["x-fault-proxy"], "upstream-error")
        self.assertEqual(proxy.connections, 1)

    # -- command line

    def test_command_line(self):
        rule = "ListStreams:aws_error:LimitExceededException,times=1"
        command = [sys.executable, os.path.join(HERE, "fault_proxy.py"), "--upstream",
                   self.kinesis_endpoint, "--seed", "3", "--rule", rule]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as proc:
            try:
                ready, _, _ = select.select([proc.stdout], [], [], 30)
                self.assertTrue(ready, "no endpoint printed within 30 s")
                endpoint = proc.stdout.readline().strip()
                self.assertRegex(endpoint, r"^http://127\.0\.0\.1:\d+$")
                kinesis = self.client("kinesis", endpoint)
                self.assertEqual([outcome(kinesis.list_streams) for _ in range(2)],
                                 ["LimitExceededException", "ok"])
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=30), 0, proc.stderr.read())
            finally:
                if proc.poll() is None:
                    proc.kill()

        bad = subprocess.run([sys.executable, os.path.join(HERE, "fault_proxy.py"),
                              "--upstream", self.kinesis_endpoint, "--rule", "ListStreams:nap"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("unknown action", bad.stderr)


def _digest(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class RuleSyntaxTest(unittest.TestCase):
    """No services needed."""

    def test_rules_from_the_command_line(self):
        rule = parse_rule(f"GetRecords:aws_error:{PTEE},p=0.3")
        self.assertEqual((rule.match, rule.probability, rule.times, rule.after),
                         ("GetRecords", 0.3, None, 0))
        self.assertEqual((rule.action.code, rule.action.status), (PTEE, 400))

        rule = parse_rule("GetRecords:aws_error:InternalFailure:500:no: luck,times=2,after=10")
        self.assertEqual((rule.action.code, rule.action.status, rule.action.message),
                         ("InternalFailure", 500, "no: luck"))
        self.assertEqual((rule.times, rule.after), (2, 10))

        self.assertTrue(parse_rule("PutRecords:drop:forward").action.forward)
        self.assertFalse(parse_rule("PutRecords:drop").action.forward)
        self.assertEqual(parse_rule("*:reset").action.after_bytes, 0)
        self.assertEqual(parse_rule("*:reset:12").action.after_bytes, 12)
        self.assertEqual(parse_rule("GetObject:truncate:100").action.keep_bytes, 100)
        self.assertEqual(parse_rule("*:http_status:503").action.status, 503)

        slow = parse_rule("PutObject:delay:1.5:forward_first:http_status:503").action
        self.assertEqual((slow.seconds, slow.forward_first, slow.then.status), (1.5, True, 503))
        self.assertIsNone(parse_rule("*:delay:0.5").action.then)

        for bad in ("GetRecords", "GetRecords:", "GetRecords:nap", "x:delay", "x:truncate",
                    "x:drop:maybe", "x:reset,times", "x:reset,often=2", "x:reset,p=2"):
            with self.assertRaises(ValueError, msg=bad):
                parse_rule(bad)

    def test_operation_names(self):
        def s3(method, path, **headers):
            return operation_of(method, path, headers)

        cases = [
            (s3("PUT", "/b/k"), "PutObject"),
            (s3("PUT", "/b/dir/k%20x"), "PutObject"),
            (s3("GET", "/b/k"), "GetObject"),
            (s3("HEAD", "/b/k"), "HeadObject"),
            (s3("DELETE", "/b/k"), "DeleteObject"),
            (s3("GET", "/b?list-type=2&prefix=a%2F"), "ListObjectsV2"),
            (s3("GET", "/b/?list-type=2"), "ListObjectsV2"),
            (s3("GET", "/b?prefix=a"), "ListObjects"),
            (s3("POST", "/b/k?uploads"), "CreateMultipartUpload"),
            (s3("POST", "/b/k?uploads="), "CreateMultipartUpload"),
            (s3("PUT", "/b/k?partNumber=2&uploadId=xyz"), "UploadPart"),
            (s3("POST", "/b/k?uploadId=xyz"), "CompleteMultipartUpload"),
            (s3("DELETE", "/b/k?uploadId=xyz"), "AbortMultipartUpload"),
            (s3("GET", "/b/k?uploadId=xyz"), "ListParts"),
            (s3("PUT", "/b/k", **{"x-amz-copy-source": "/b/j"}), "CopyObject"),
            (s3("PUT", "/b/k?tagging"), "PutObjectTagging"),
            (s3("GET", "/b?location"), "GetBucketLocation"),
            (s3("PUT", "/b"), "CreateBucket"),
            (s3("HEAD", "/b"), "HeadBucket"),
            (s3("POST", "/b?delete"), "DeleteObjects"),
            (s3("GET", "/"), "ListBuckets"),
            (operation_of("POST", "/", {"X-Amz-Target": "Kinesis_20131202.GetRecords"}),
             "GetRecords"),
            (operation_of("POST", "/", {"x-amz-target": "DynamoDB_20120810.PutItem"}), "PutItem"),
        ]
        for got, want in cases:
            self.assertEqual(got, want)

    def test_rules_check_their_arguments(self):
        with self.assertRaises(TypeError):
            Rule("GetRecords", "drop")
        with self.assertRaises(ValueError):
            Rule("GetRecords", drop(), probability=1.5)
        with self.assertRaises(ValueError):
            Rule("GetRecords", drop(), after=-1)
        with self.assertRaises(ValueError):
            FaultProxy("https://127.0.0.1:1")
        with self.assertRaises(ValueError):
            FaultProxy("http://127.0.0.1:1/prefix")


if __name__ == "__main__":
    unittest.main()
