"""Checks credentials_server.py with botocore as the client: STS, IMDSv2, the
container endpoint, the SSO portal and the Kinesis front, as botocore's own
clients and credential providers see them.

    python3 -m unittest -v tests/stand-ins/test_credentials_server.py
"""

import hashlib
import http.client
import http.server
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from botocore.utils import InstanceMetadataFetcher

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "credentials_server.py")

BASE_KEY = "AKIDSTANDINBASEKEY01"
BASE_SECRET = "base-secret/with+odd=characters"
ROLE_ARN = "arn:aws:iam::123456789012:role/kc-reader"
WEB_TOKEN = "eyJ.web-identity.valid"
WEB_TOKEN_EXPIRED = "eyJ.web-identity.expired"
SSO_TOKEN = "sso-access-token-valid"
SSO_TOKEN_EXPIRED = "sso-access-token-expired"
CONTAINER_TOKEN = "Bearer container-secret-token"
IMDS_ROLE = "kc-instance-role"

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5, read_timeout=10)

BASELINE = {
    "lifetime_seconds": 3600,
    "deterministic_keys": True,
    "base_keys": {BASE_KEY: BASE_SECRET},
    "web_identity_tokens": {WEB_TOKEN: "valid", WEB_TOKEN_EXPIRED: "expired"},
    "sso_tokens": {SSO_TOKEN: "valid", SSO_TOKEN_EXPIRED: "expired"},
    "container_token": CONTAINER_TOKEN,
    "imds_role": IMDS_ROLE,
    "hang_seconds": 30,
}


def hermetic_environment(extra=None):
    """The environment for botocore: no real credentials, configuration files
    or proxies can leak in."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy",
                                                             "all_proxy")}
    scratch = tempfile.gettempdir()
    env.update({
        "AWS_CONFIG_FILE": os.path.join(scratch, "kc-no-such-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(scratch, "kc-no-such-aws-credentials"),
        "BOTO_CONFIG": os.path.join(scratch, "kc-no-such-boto-config"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.update(extra or {})
    return env


def start_server(*extra_args):
    """Starts the stand-in; returns (process, base URL)."""
    proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", *extra_args],
                            stdout=subprocess.PIPE, env=hermetic_environment())
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    line = proc.stdout.readline().decode() if ready else ""
    match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", line)
    if not match:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the stand-in did not start (first line {line!r})")
    return proc, match.group(1)


def stop_server(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()
    return proc.returncode


class StandInCase(unittest.TestCase):
    upstream = None

    @classmethod
    def setUpClass(cls):
        os.environ.update(hermetic_environment())
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            os.environ.pop(name, None)
        args = ("--kinesis-upstream", cls.upstream_url()) if cls.upstream else ()
        cls.proc, cls.url = start_server(*args)
        cls.port = int(cls.url.rsplit(":", 1)[1])
        cls.session = botocore.session.get_session()

    @classmethod
    def upstream_url(cls):
        return None

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.proc)

    def setUp(self):
        self.control("POST", "/_control/reset")
        self.control("POST", "/_control/config", BASELINE)
        self.clients = []

    def tearDown(self):
        for made in self.clients:
            made.close()

    # --- helpers -------------------------------------------------------------

    def raw(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def control(self, method, path, obj=None):
        body = json.dumps(obj) if obj is not None else None
        status, _, data = self.raw(method, path, body,
                                   {"Content-Type": "application/json"} if body else None)
        self.assertEqual(status, 200, data)
        return json.loads(data)

    def configure(self, **settings):
        return self.control("POST", "/_control/config", settings)

    def stats(self):
        return self.control("GET", "/_control/stats")

    def client(self, service, key=BASE_KEY, secret=BASE_SECRET, token=None):
        made = self.session.create_client(
            service, region_name="us-east-1", endpoint_url=self.url,
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
            config=NO_RETRIES)
        self.clients.append(made)
        return made

    def assume_role(self, key=BASE_KEY, secret=BASE_SECRET, token=None, role=ROLE_ARN):
        sts = self.client("sts", key, secret, token)
        return sts.assume_role(RoleArn=role, RoleSessionName="kc-test")["Credentials"]

    def assert_client_error(self, code, call, *args, status=None, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(*args, **kwargs)
        error = caught.exception.response
        self.assertEqual(error["Error"]["Code"], code, error)
        if status is not None:
            self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], status)
        return error

    def wait_until_expired(self, issued_ok, deadline_seconds=6):
        """Polls `issued_ok` (True while the credentials still work) until it
        reports False."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if not issued_ok():
                return
            time.sleep(0.2)
        self.fail("the credentials did not expire in time")

    def run_botocore_chain(self, env):
        """Resolves credentials through botocore's default chain in a fresh
        process with `env` and returns them."""
        script = ("import json, botocore.session\n"
                  "c = botocore.session.get_session().get_credentials()\n"
                  "f = c.get_frozen_credentials() if c else None\n"
                  "print(json.dumps(f and {'method': c.method, 'key': f.access_key,\n"
                  "                       'secret': f.secret_key, 'token': f.token}))\n")
        with tempfile.TemporaryDirectory() as home:
            result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                    timeout=20,
                                    env=hermetic_environment(dict(env, HOME=home)))
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        return json.loads(result.stdout)


class CredentialServicesTest(StandInCase):
    # --- STS AssumeRole --------------------------------------------------------

    def test_assume_role_gives_deterministic_key_ids(self):
        first = self.assume_role()
        second = self.assume_role()
        expected = "ASIA" + hashlib.sha256(
            f"{ROLE_ARN}|{BASE_KEY}".encode()).hexdigest()[:16].upper()
        self.assertEqual(first["AccessKeyId"], expected)
        self.assertEqual(second["AccessKeyId"], expected)
        self.assertNotEqual(first["SecretAccessKey"], second["SecretAccessKey"])
        self.assertNotEqual(first["SessionToken"], second["SessionToken"])
        self.assertGreaterEqual(len(first["SessionToken"]), 64)
        remaining = first["Expiration"].timestamp() - time.time()
        self.assertTrue(3590 < remaining <= 3602, remaining)
        other = self.assume_role(role="arn:aws:iam::123456789012:role/other")
        self.assertNotEqual(other["AccessKeyId"], expected)
        stats = self.stats()
        self.assertEqual(stats["sts"]["AssumeRole"], 3)
        self.assertEqual([i["access_key_id"] for i in stats["issued"]],
                         [expected, expected, other["AccessKeyId"]])
        self.assertNotIn(first["SecretAccessKey"], json.dumps(stats))
        self.assertNotIn(first["SessionToken"], json.dumps(stats))

    def test_assume_role_answer_parses(self):
        answer = self.client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="kc-test")
        self.assertEqual(answer["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::123456789012:assumed-role/kc-reader/kc-test")
        self.assertTrue(answer["AssumedRoleUser"]["AssumedRoleId"].endswith(":kc-test"))
        self.assertTrue(answer["ResponseMetadata"]["RequestId"])

    def test_non_deterministic_keys_are_unique(self):
        self.configure(deterministic_keys=False)
        first, second = self.assume_role(), self.assume_role()
        self.assertNotEqual(first["AccessKeyId"], second["AccessKeyId"])
        for creds in (first, second):
            self.assertRegex(creds["AccessKeyId"], r"^ASIA\d{16}$")

    def test_assume_role_with_an_issued_key(self):
        issued = self.assume_role()
        chained = self.assume_role(issued["AccessKeyId"], issued["SecretAccessKey"],
                                   issued["SessionToken"])
        expected = "ASIA" + hashlib.sha256(
            f"{ROLE_ARN}|{issued['AccessKeyId']}".encode()).hexdigest()[:16].upper()
        self.assertEqual(chained["AccessKeyId"], expected)
        # The key without its session token is not known.
        self.assert_client_error("InvalidClientTokenId", self.assume_role,
                                 issued["AccessKeyId"], issued["SecretAccessKey"])

    def test_assume_role_refusals(self):
        self.assert_client_error("InvalidClientTokenId", self.assume_role,
                                 "AKIDUNKNOWN000000000", BASE_SECRET, status=403)
        self.assert_client_error("SignatureDoesNotMatch", self.assume_role,
                                 BASE_KEY, "wrong-secret", status=403)
        sts = self.client("sts")
        self.assert_client_error("ValidationError", sts.assume_role, RoleArn=ROLE_ARN,
                                 RoleSessionName="bad name!", status=400)
        self.assert_client_error("ValidationError", sts.assume_role,
                                 RoleArn="arn:aws:s3:::not-a-role-arn",
                                 RoleSessionName="kc-test", status=400)
        body = "Action=AssumeRole&Version=2011-06-15&RoleArn=" + ROLE_ARN
        status, headers, data = self.raw(
            "POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", data)
        self.assertEqual(headers["Content-Type"], "text/xml")

    def test_expired_issued_key_gives_expired_token(self):
        self.configure(lifetime_seconds=1)
        issued = self.assume_role()

        def still_valid():
            try:
                self.assume_role(issued["AccessKeyId"], issued["SecretAccessKey"],
                                 issued["SessionToken"])
                return True
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "ExpiredToken")
                self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 403)
                return False

        self.wait_until_expired(still_valid)

    # --- STS AssumeRoleWithWebIdentity ------------------------------------------

    def test_web_identity(self):
        sts = self.client("sts")
        answer = sts.assume_role_with_web_identity(
            RoleArn=ROLE_ARN, RoleSessionName="kc-web", WebIdentityToken=WEB_TOKEN)
        expected = "ASIA" + hashlib.sha256(
            f"{ROLE_ARN}|{WEB_TOKEN}".encode()).hexdigest()[:16].upper()
        self.assertEqual(answer["Credentials"]["AccessKeyId"], expected)
        self.assertTrue(answer["SubjectFromWebIdentityToken"])
        self.assertEqual(answer["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::123456789012:assumed-role/kc-reader/kc-web")
        self.assert_client_error("InvalidIdentityToken", sts.assume_role_with_web_identity,
                                 RoleArn=ROLE_ARN, RoleSessionName="kc-web",
                                 WebIdentityToken="not-a-known-token", status=400)
        self.assert_client_error("ExpiredTokenException", sts.assume_role_with_web_identity,
                                 RoleArn=ROLE_ARN, RoleSessionName="kc-web",
                                 WebIdentityToken=WEB_TOKEN_EXPIRED, status=400)
        self.assertEqual(self.stats()["sts"]["AssumeRoleWithWebIdentity"], 3)

    # --- faults ------------------------------------------------------------------

    def test_sts_faults_are_served_in_order(self):
        self.configure(faults={"sts": ["malformed", "throttle", "empty"]})
        with self.assertRaises(ResponseParserError):
            self.assume_role()
        self.assert_client_error("Throttling", self.assume_role, status=400)
        with self.assertRaises((ResponseParserError, KeyError)):
            self.assume_role()
        self.assertTrue(self.assume_role()["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(self.stats()["sts"]["AssumeRole"], 4)

    def test_error500_and_hang_faults(self):
        self.configure(hang_seconds=0.5, faults={"container": ["error500", "hang"]})
        headers = {"Authorization": CONTAINER_TOKEN}
        status, _, _ = self.raw("GET", "/container/x", headers=headers)
        self.assertEqual(status, 500)
        started = time.monotonic()
        status, _, data = self.raw("GET", "/container/x", headers=headers)
        self.assertGreaterEqual(time.monotonic() - started, 0.45)
        self.assertEqual(status, 200)
        self.assertIn("AccessKeyId", json.loads(data))

    def test_bad_configuration_is_refused(self):
        for bad in ({"faults": {"sts": ["explode"]}}, {"no_such_setting": 1},
                    {"web_identity_tokens": {"t": "maybe"}}, {"lifetime_seconds": "1"}):
            status, _, _ = self.raw("POST", "/_control/config", json.dumps(bad))
            self.assertEqual(status, 400, bad)

    # --- IMDSv2 --------------------------------------------------------------------

    def test_imds_through_botocore_chain(self):
        found = self.run_botocore_chain({
            "AWS_EC2_METADATA_DISABLED": "false",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.url + "/",
        })
        self.assertEqual(found["method"], "iam-role")
        expected = "ASIA" + hashlib.sha256(
            f"{IMDS_ROLE}|imds:{IMDS_ROLE}".encode()).hexdigest()[:16].upper()
        self.assertEqual(found["key"], expected)
        imds = self.stats()["imds"]
        self.assertEqual((imds["token"], imds["credentials"]), (1, 1))

    def test_imds_fetcher(self):
        fetcher = InstanceMetadataFetcher(timeout=5, num_attempts=1, base_url=self.url,
                                          env={})
        try:
            fetched = fetcher.retrieve_iam_role_credentials()
        finally:
            fetcher._session.close()
        self.assertEqual(fetched["role_name"], IMDS_ROLE)
        self.assertTrue(fetched["access_key"].startswith("ASIA"))
        self.assertRegex(fetched["expiry_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_imds_protocol(self):
        role_path = "/latest/meta-data/iam/security-credentials/"
        status, _, _ = self.raw("GET", role_path)
        self.assertEqual(status, 401)
        status, _, _ = self.raw("PUT", "/latest/api/token")
        self.assertEqual(status, 400)
        for bad in ("0", "21601", "abc"):
            status, _, _ = self.raw("PUT", "/latest/api/token",
                                    headers={"X-aws-ec2-metadata-token-ttl-seconds": bad})
            self.assertEqual(status, 400, bad)
        status, _, _ = self.raw("PUT", "/latest/api/token",
                                headers={"X-aws-ec2-metadata-token-ttl-seconds": "60",
                                         "X-Forwarded-For": "10.0.0.1"})
        self.assertEqual(status, 403)
        status, headers, token = self.raw(
            "PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "1"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["X-aws-ec2-metadata-token-ttl-seconds"], "1")
        with_token = {"X-aws-ec2-metadata-token": token.decode()}
        status, _, data = self.raw("GET", role_path, headers=with_token)
        self.assertEqual((status, data), (200, IMDS_ROLE.encode()))
        status, _, _ = self.raw("GET", role_path + "other-role", headers=with_token)
        self.assertEqual(status, 404)
        status, _, data = self.raw("GET", role_path + IMDS_ROLE, headers=with_token)
        self.assertEqual(status, 200)
        document = json.loads(data)
        self.assertEqual((document["Code"], document["Type"]), ("Success", "AWS-HMAC"))
        for field in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration", "LastUpdated"):
            self.assertIn(field, document)

        def token_works():
            return self.raw("GET", role_path, headers=with_token)[0] == 200

        self.wait_until_expired(token_works)
        self.configure(imds_role=None)
        status, _, token = self.raw(
            "PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        status, _, _ = self.raw("GET", role_path,
                                headers={"X-aws-ec2-metadata-token": token.decode()})
        self.assertEqual(status, 404)

    # --- container credentials --------------------------------------------------

    def test_container_through_botocore_chain(self):
        found = self.run_botocore_chain({
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url + "/container/x",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_TOKEN,
        })
        self.assertEqual(found["method"], "container-role")
        expected = "ASIA" + hashlib.sha256(
            b"arn:aws:iam::123456789012:role/container|container").hexdigest()[:16].upper()
        self.assertEqual(found["key"], expected)
        self.assertEqual(self.stats()["container"], 1)

    def test_container_authorization(self):
        status, _, data = self.raw("GET", "/v2/credentials/abc")
        self.assertEqual(status, 401)
        self.assertIn("message", json.loads(data))
        status, _, _ = self.raw("GET", "/v2/credentials/abc",
                                headers={"Authorization": "Bearer wrong"})
        self.assertEqual(status, 403)
        self.configure(container_token=None)
        status, _, data = self.raw("GET", "/v2/credentials/abc")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data)["RoleArn"], "arn:aws:iam::123456789012:role/container")

    # --- SSO portal --------------------------------------------------------------

    def test_sso_get_role_credentials(self):
        sso = self.client("sso")
        answer = sso.get_role_credentials(roleName="ReadOnly", accountId="111122223333",
                                          accessToken=SSO_TOKEN)["roleCredentials"]
        expected = "ASIA" + hashlib.sha256(
            b"ReadOnly|sso:111122223333:ReadOnly").hexdigest()[:16].upper()
        self.assertEqual(answer["accessKeyId"], expected)
        self.assertTrue(answer["sessionToken"])
        remaining = answer["expiration"] / 1000 - time.time()
        self.assertTrue(3590 < remaining <= 3602, remaining)
        for token in ("unknown-token", SSO_TOKEN_EXPIRED):
            error = self.assert_client_error(
                "UnauthorizedException", sso.get_role_credentials, roleName="ReadOnly",
                accountId="111122223333", accessToken=token, status=401)
            self.assertEqual(error["Error"]["Message"], "Session token not found or invalid")
        self.assertEqual(self.stats()["sso"], 3)

    # --- Kinesis front --------------------------------------------------------------

    def test_kinesis_front_checks_signatures(self):
        issued = self.assume_role()
        kinesis = self.client("kinesis", issued["AccessKeyId"], issued["SecretAccessKey"],
                              issued["SessionToken"])
        self.assert_client_error("ResourceNotFoundException", kinesis.list_streams,
                                 status=400)
        base = self.client("kinesis")
        self.assert_client_error("ResourceNotFoundException", base.describe_stream,
                                 StreamName="kc-stream")
        wrong = self.client("kinesis", issued["AccessKeyId"], "wrong-secret",
                            issued["SessionToken"])
        self.assert_client_error("InvalidSignatureException", wrong.list_streams, status=400)
        unknown = self.client("kinesis", issued["AccessKeyId"], issued["SecretAccessKey"],
                              "not-a-session-token")
        self.assert_client_error("UnrecognizedClientException", unknown.list_streams,
                                 status=400)
        kinesis_stats = self.stats()["kinesis"]
        self.assertEqual(kinesis_stats["accepted"], 2)
        self.assertEqual(kinesis_stats["accepted_key_ids"], [issued["AccessKeyId"], BASE_KEY])
        self.assertEqual([r["reason"] for r in kinesis_stats["rejected"]],
                         ["bad-signature", "unknown-token"])

    def test_kinesis_front_refuses_expired_issuance(self):
        self.configure(lifetime_seconds=1)
        issued = self.assume_role()
        kinesis = self.client("kinesis", issued["AccessKeyId"], issued["SecretAccessKey"],
                              issued["SessionToken"])

        def still_valid():
            try:
                kinesis.list_streams()
            except ClientError as e:
                code = e.response["Error"]["Code"]
                if code == "ResourceNotFoundException":
                    return True
                self.assertEqual(code, "ExpiredTokenException")
                return False
            self.fail("no upstream: the call cannot succeed")

        self.wait_until_expired(still_valid)
        rejected = self.stats()["kinesis"]["rejected"]
        self.assertEqual(rejected[-1], {"key_id": issued["AccessKeyId"], "reason": "expired"})

    def test_kinesis_faults(self):
        self.configure(faults={"kinesis": ["throttle", "error500"]})
        kinesis = self.client("kinesis")
        self.assert_client_error("ProvisionedThroughputExceededException",
                                 kinesis.list_streams, status=400)
        self.assert_client_error("InternalFailure", kinesis.list_streams, status=500)
        self.assert_client_error("ResourceNotFoundException", kinesis.list_streams)
        self.assertEqual(self.stats()["kinesis"]["accepted"], 1)

    def test_unknown_path(self):
        status, _, data = self.raw("GET", "/nothing/here")
        self.assertEqual((status, json.loads(data)), (404, {"message": "no such stand-in path"}))


class RecordingUpstream(http.server.BaseHTTPRequestHandler):
    """A stand-in for kinesalite that records what reaches it."""
    protocol_version = "HTTP/1.1"
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        RecordingUpstream.seen.append((self.path, dict(self.headers), body))
        answer = json.dumps({"StreamNames": ["from-upstream"], "HasMoreStreams": False})
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("x-amzn-RequestId", "upstream-request-id")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args):
        pass


class KinesisUpstreamTest(StandInCase):
    upstream = True

    @classmethod
    def upstream_url(cls):
        cls.fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingUpstream)
        threading.Thread(target=cls.fake.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{cls.fake.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.fake.shutdown()
        cls.fake.server_close()

    def test_accepted_requests_reach_the_upstream_unchanged(self):
        RecordingUpstream.seen.clear()
        issued = self.assume_role()
        kinesis = self.client("kinesis", issued["AccessKeyId"], issued["SecretAccessKey"],
                              issued["SessionToken"])
        answer = kinesis.list_streams()
        self.assertEqual(answer["StreamNames"], ["from-upstream"])
        self.assertEqual(answer["ResponseMetadata"]["RequestId"], "upstream-request-id")
        self.assertEqual(len(RecordingUpstream.seen), 1)
        path, headers, body = RecordingUpstream.seen[0]
        self.assertEqual(path, "/")
        self.assertEqual(headers["X-Amz-Target"], "Kinesis_20131202.ListStreams")
        self.assertIn(f"Credential={issued['AccessKeyId']}/", headers["Authorization"])
        self.assertEqual(headers["X-Amz-Security-Token"], issued["SessionToken"])
        self.assertEqual(json.loads(body), {})
        wrong = self.client("kinesis", BASE_KEY, "wrong-secret")
        self.assert_client_error("InvalidSignatureException", wrong.list_streams)
        self.assertEqual(len(RecordingUpstream.seen), 1)


class LifecycleTest(unittest.TestCase):
    def test_signals_stop_the_server_cleanly(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            proc, url = start_server()
            proc.send_signal(signum)
            self.assertEqual(proc.wait(10), 0)
            self.assertEqual(proc.stdout.read(), b"")
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main()
