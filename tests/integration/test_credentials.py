"""The credentials chain where users run it, against local stand-ins for STS,
EC2 instance metadata, the container endpoint and the SSO portal
(tests/stand-ins/credentials_server.py), which also fronts a Kinesis
stand-in and accepts only currently valid keys with their session token.

For each way of getting credentials, `kinesis-connect status` must reach
Kinesis with the same access key id that botocore, resolving the same
environment and files against the same stand-ins, arrives at
(credentials_oracle.py). Bad input must give a clear error naming the
provider and the fix, with no secret in any output. And a daemon whose
credentials expire every 40 seconds, for 80 seconds (KC_SOAK=1,
scripts/soak: every minute for three minutes) keeps delivering, with one STS call per
renewal however many pipelines share them.
"""

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SERVER = os.path.join(ROOT, "tests", "stand-ins", "credentials_server.py")
KINESALITE = os.path.join(ROOT, "tests", "stand-ins", "kinesalite.js")
ORACLE = os.path.join(HERE, "credentials_oracle.py")

SOAK = os.environ.get("KC_SOAK") == "1"

BASE_KEY = harness.ACCESS_KEY      # long-term keys the stand-in knows
BASE_SECRET = harness.SECRET_KEY
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.web-identity-payload.signature-part"
CONTAINER_TOKEN = "container-authorization-token-value"
SSO_TOKEN = "sso-access-token-from-the-cache"
ACCOUNT = "123456789012"
STREAM = "credentials-it"


def expected_key(role, identity):
    """The access key id the stand-in issues for `role` to `identity`."""
    return "ASIA" + hashlib.sha256(f"{role}|{identity}".encode()).hexdigest()[:16].upper()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stands:
    """A Kinesis stand-in that checks no signature, behind the credentials
    stand-in, which checks them all."""

    def __init__(self, workdir):
        port = free_port()
        self.kinesalite = subprocess.Popen(
            ["node", KINESALITE, "--port", str(port), "--no-verify"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        upstream = f"http://127.0.0.1:{port}"

        def up():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
            except OSError:
                return False

        harness.wait_until(up, 30, "the Kinesis stand-in to listen")
        self.log = open(os.path.join(workdir, "credentials-server.log"), "w")
        self.server = subprocess.Popen(
            [sys.executable, SERVER, "--kinesis-upstream", upstream],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.server.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise AssertionError(f"credentials stand-in did not start: {line!r}")
        self.url = line.split()[-1]

    def control(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_control/" + path, data=data,
                                     method="GET" if body is None else "POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def stop(self):
        for proc in (self.server, self.kinesalite):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()


class CredentialsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.binary()
        if shutil.which("node") is None:
            harness._missing("node is not installed; run scripts/install-deps")
        cls.dir = tempfile.mkdtemp(prefix="kc-credentials-it-")
        cls.stands = Stands(cls.dir)
        cls.stands.control("config", {
            "base_keys": {BASE_KEY: BASE_SECRET},
            "web_identity_tokens": {WEB_TOKEN: "valid", "expired-web-token": "expired"},
            "container_token": CONTAINER_TOKEN,
            "imds_role": "instance-role",
            "sso_tokens": {SSO_TOKEN: "valid"},
        })
        harness.create_stream(STREAM, 1, endpoint=cls.stands.url)

    @classmethod
    def tearDownClass(cls):
        cls.stands.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.stands.control("reset", {})
        self.work = tempfile.mkdtemp(prefix="case-", dir=self.dir)
        self.home = os.path.join(self.work, "home")
        os.makedirs(os.path.join(self.home, ".aws"))

    # --- helpers ----------------------------------------------------------------------

    def env(self, **extra):
        """A clean environment: no keys, the shared files of this case, no
        instance metadata unless a case asks for it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(HOME=self.home, AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE=os.path.join(self.home, ".aws", "config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.home, ".aws", "credentials"))
        env.update(extra)
        return env

    def write(self, name, text):
        path = os.path.join(self.home, ".aws", name) if "/" not in name else name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def config(self, aws_extra="", endpoints=True, emitter=None):
        path = os.path.join(self.work, "connect.toml")
        sts = f'sts = "{self.stands.url}"\nsso = "{self.stands.url}"\n' if endpoints else ""
        with open(path, "w") as f:
            f.write(f"""
[aws]
region = "us-east-1"
{aws_extra}
[aws.endpoints]
kinesis = "{self.stands.url}"
{sts}
[checkpoint]
store = "file"
path = "{os.path.join(self.work, "state")}"
app = "it"

[[pipeline]]
name = "files"
stream = "{STREAM}"
[pipeline.emitter]
{emitter or f'type = "file"{chr(10)}directory = "{os.path.join(self.work, "out")}"'}
""")
        return path

    def status(self, env, aws_extra="", endpoints=True, timeout=60):
        return subprocess.run([harness.binary(), "status", "-c", self.config(aws_extra, endpoints)],
                              env=env, capture_output=True, text=True, timeout=timeout)

    def oracle(self, env, profile=None):
        args = [sys.executable, ORACLE] + (["--profile", profile] if profile else [])
        out = subprocess.run(args, env={**env, "KC_ORACLE_ENDPOINT": self.stands.url,
                                  "AWS_DEFAULT_REGION": "us-east-1"},
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.strip()

    def assert_no_secrets(self, text):
        for secret in (BASE_SECRET, WEB_TOKEN, CONTAINER_TOKEN, SSO_TOKEN):
            self.assertNotIn(secret, text)

    def assert_resolves(self, env, key, provider_says, profile=None, aws_extra=""):
        """kinesis-connect reaches Kinesis with `key`, and so does botocore."""
        self.stands.control("reset", {})
        out = self.status(env, aws_extra)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        creds = [line for line in out.stdout.splitlines() if line.startswith("credentials:")]
        self.assertEqual(len(creds), 1, out.stdout)
        self.assertIn(provider_says, creds[0])
        self.assert_no_secrets(out.stdout + out.stderr)
        kinesis = self.stands.control("stats")["kinesis"]
        self.assertEqual(kinesis["rejected"], [])
        self.assertGreater(len(kinesis["accepted_key_ids"]), 0)
        self.assertEqual(set(kinesis["accepted_key_ids"]), {key})
        self.assertEqual(self.oracle(env, profile), key)

    # --- each provider, against the oracle --------------------------------------------------

    def test_web_identity_from_the_environment(self):
        # Without a line break: botocore sends the file as it is, while
        # kinesis-connect trims it (the unit tests cover that).
        token = self.write(os.path.join(self.work, "token"), WEB_TOKEN)
        role = f"arn:aws:iam::{ACCOUNT}:role/pod"
        env = self.env(AWS_WEB_IDENTITY_TOKEN_FILE=token, AWS_ROLE_ARN=role,
                       AWS_ROLE_SESSION_NAME="pod-1")
        self.assert_resolves(env, expected_key(role, WEB_TOKEN), "web identity")

    def test_web_identity_with_the_sts_endpoint_from_the_environment(self):
        token = self.write(os.path.join(self.work, "token"), WEB_TOKEN)
        role = f"arn:aws:iam::{ACCOUNT}:role/pod"
        env = self.env(AWS_WEB_IDENTITY_TOKEN_FILE=token, AWS_ROLE_ARN=role,
                       AWS_ENDPOINT_URL_STS=self.stands.url)
        out = self.status(env, endpoints=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(set(self.stands.control("stats")["kinesis"]["accepted_key_ids"]),
                         {expected_key(role, WEB_TOKEN)})

    def test_a_chain_of_source_profiles(self):
        self.write("credentials", f"[base]\naws_access_key_id = {BASE_KEY}\n"
                                  f"aws_secret_access_key = {BASE_SECRET}\n")
        middle = f"arn:aws:iam::{ACCOUNT}:role/middle"
        top = f"arn:aws:iam::{ACCOUNT}:role/top"
        self.write("config", f"[profile middle]\nrole_arn = {middle}\nsource_profile = base\n"
                             f"[profile top]\nrole_arn = {top}\nsource_profile = middle\n"
                             "external_id = partner-7\nrole_session_name = it\n")
        key = expected_key(top, expected_key(middle, BASE_KEY))
        self.assert_resolves(self.env(AWS_PROFILE="top"), key, "role " + top)
        self.assertEqual(self.stands.control("stats")["sts"]["AssumeRole"], 4)  # two each

    def test_credential_source_environment_with_a_configured_profile(self):
        role = f"arn:aws:iam::{ACCOUNT}:role/from-env"
        self.write("config", f"[profile envrole]\nrole_arn = {role}\n"
                             "credential_source = Environment\n")
        env = self.env(AWS_ACCESS_KEY_ID=BASE_KEY, AWS_SECRET_ACCESS_KEY=BASE_SECRET)
        self.assert_resolves(env, expected_key(role, BASE_KEY), "role " + role,
                             profile="envrole", aws_extra='profile = "envrole"')

    def test_a_profile_with_a_web_identity_token_file(self):
        token = self.write(os.path.join(self.work, "token"), WEB_TOKEN)
        role = f"arn:aws:iam::{ACCOUNT}:role/profile-web"
        self.write("config", f"[profile web]\nrole_arn = {role}\n"
                             f"web_identity_token_file = {token}\n")
        self.assert_resolves(self.env(AWS_PROFILE="web"), expected_key(role, WEB_TOKEN),
                             "web identity token")

    def test_credential_process(self):
        helper = self.write(os.path.join(self.work, "helper.py"),
                            "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': "
                            f"'{BASE_KEY}', 'SecretAccessKey': '{BASE_SECRET}'}}))\n")
        role = f"arn:aws:iam::{ACCOUNT}:role/after-process"
        self.write("config", f"[profile tool]\ncredential_process = {sys.executable} {helper}\n"
                             f"[profile chained]\nrole_arn = {role}\nsource_profile = tool\n")
        self.assert_resolves(self.env(AWS_PROFILE="tool"), BASE_KEY, "credential_process")
        self.assert_resolves(self.env(AWS_PROFILE="chained"), expected_key(role, BASE_KEY),
                             "role " + role)

    def test_the_container_endpoint(self):
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.stands.url + "/container/task",
                       AWS_CONTAINER_AUTHORIZATION_TOKEN=CONTAINER_TOKEN)
        key = expected_key(f"arn:aws:iam::{ACCOUNT}:role/container", "container")
        self.assert_resolves(env, key, "container credentials endpoint")

    def test_instance_metadata(self):
        env = self.env(AWS_EC2_METADATA_SERVICE_ENDPOINT=self.stands.url + "/")
        env.pop("AWS_EC2_METADATA_DISABLED")
        self.assert_resolves(env, expected_key("instance-role", "imds:instance-role"),
                             "EC2 instance metadata")

    def test_an_sso_session(self):
        self.write("config", "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\n"
                             "sso_region = us-east-1\n"
                             f"[profile dev]\nsso_session = corp\nsso_account_id = {ACCOUNT}\n"
                             "sso_role_name = Reader\n")
        cache = os.path.join(self.home, ".aws", "sso", "cache",
                             hashlib.sha1(b"corp").hexdigest() + ".json")
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        self.write(cache, json.dumps({"startUrl": "https://d-1.awsapps.com/start",
                                      "region": "us-east-1", "accessToken": SSO_TOKEN,
                                      "expiresAt": expires}))
        self.assert_resolves(self.env(AWS_PROFILE="dev"),
                             expected_key("Reader", f"sso:{ACCOUNT}:Reader"), "SSO role Reader")

    def test_a_role_on_top_of_the_chain(self):
        role = f"arn:aws:iam::{ACCOUNT}:role/writer"
        env = self.env(AWS_ACCESS_KEY_ID=BASE_KEY, AWS_SECRET_ACCESS_KEY=BASE_SECRET)
        out = self.status(env, aws_extra=f'role_arn = "{role}"\nexternal_id = "x-9"')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("role " + role + " assumed with", out.stdout)
        self.assertEqual(set(self.stands.control("stats")["kinesis"]["accepted_key_ids"]),
                         {expected_key(role, BASE_KEY)})

    def test_a_sink_writes_as_a_role_of_its_own(self):
        target = "credentials-it-copy"
        harness.create_stream(target, 1, endpoint=self.stands.url)
        self.addCleanup(harness.delete_stream, target, self.stands.url)
        sent = [f"record-{i}".encode() for i in range(5)]
        harness.aws("put-records", endpoint=self.stands.url, input_json={
            "StreamName": STREAM,
            "Records": [{"Data": base64.b64encode(d).decode(), "PartitionKey": "k"}
                        for d in sent]})
        writer = "arn:aws:iam::210987654321:role/writer"
        config = self.config(emitter=f'type = "kinesis"\nstream = "{target}"\n'
                                     f'role_arn = "{writer}"\nexternal_id = "copy-1"')
        self.stands.control("reset", {})
        env = self.env(AWS_ACCESS_KEY_ID=BASE_KEY, AWS_SECRET_ACCESS_KEY=BASE_SECRET)
        out = subprocess.run([harness.binary(), "run", "-c", config, "--once"], env=env,
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        kinesis = self.stands.control("stats")["kinesis"]
        self.assertEqual(kinesis["rejected"], [])
        # Read as the process, written as the sink's role.
        self.assertEqual(set(kinesis["accepted_key_ids"]), {BASE_KEY, expected_key(writer, BASE_KEY)})
        copied = [d for records in harness.read_stream(target, self.stands.url).values()
                  for _, _, d in records]
        self.assertEqual(copied, sent)

    # --- bad input -----------------------------------------------------------------------

    def assert_fails(self, env, *says, aws_extra=""):
        started = time.monotonic()
        out = self.status(env, aws_extra)
        took = time.monotonic() - started
        text = out.stdout + out.stderr
        self.assertNotEqual(out.returncode, 0, text)
        for s in says:
            self.assertIn(s, text)
        self.assert_no_secrets(text)
        return took

    def test_bad_input_is_a_clear_error_without_secrets(self):
        role = f"arn:aws:iam::{ACCOUNT}:role/pod"
        token = os.path.join(self.work, "token")
        missing = self.env(AWS_WEB_IDENTITY_TOKEN_FILE=token, AWS_ROLE_ARN=role)
        self.assert_fails(missing, "web identity token file " + token, "AWS_WEB_IDENTITY_TOKEN_FILE")
        self.write(token, "\n")
        self.assert_fails(missing, "is empty")
        self.write(token, "expired-web-token")
        self.assert_fails(missing, "ExpiredTokenException")
        self.write(token, WEB_TOKEN)
        denied = self.env(AWS_WEB_IDENTITY_TOKEN_FILE=token,
                          AWS_ROLE_ARN=f"arn:aws:iam::{ACCOUNT}:role/denied")
        self.stands.control("config", {"denied_roles": [f"arn:aws:iam::{ACCOUNT}:role/denied"]})
        self.assert_fails(denied, "AccessDenied", "role/denied")
        self.stands.control("config", {"faults": {"sts": ["malformed"] * 3}})
        self.assert_fails(missing, "AssumeRoleWithWebIdentity", "not XML")

        self.write("config", "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
                             "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
                             "[profile fails]\ncredential_process = false\n"
                             f"[profile garbage]\ncredential_process = echo {BASE_SECRET}\n"
                             "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\n"
                             "sso_region = us-east-1\n"
                             "[profile dev]\nsso_session = corp\nsso_account_id = 1\n"
                             "sso_role_name = R\n")
        self.assert_fails(self.env(AWS_PROFILE="a"), "loop", "'a' -> 'b' -> 'a'")
        self.assert_fails(self.env(AWS_PROFILE="fails"), "credential_process of profile 'fails'",
                          "exited with status 1", "run the command by hand")
        self.assert_fails(self.env(AWS_PROFILE="garbage"), "not a JSON object")
        cache = os.path.join(self.home, ".aws", "sso", "cache",
                             hashlib.sha1(b"corp").hexdigest() + ".json")
        self.write(cache, json.dumps({"accessToken": SSO_TOKEN,
                                      "expiresAt": "2020-01-01T00:00:00Z"}))
        self.assert_fails(self.env(AWS_PROFILE="dev"), "expired at 2020-01-01",
                          "aws sso login --profile dev")

        self.stands.control("config", {"faults": {"container": ["malformed"] * 3}})
        self.assert_fails(self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.stands.url + "/container/t",
                                   AWS_CONTAINER_AUTHORIZATION_TOKEN=CONTAINER_TOKEN),
                          "container credentials endpoint", "not a JSON object")
        self.assert_fails(self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.1/creds"),
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an https:// URL")

    def test_an_unreachable_instance_metadata_service_falls_through_quickly(self):
        env = self.env(AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{free_port()}")
        env.pop("AWS_EC2_METADATA_DISABLED")
        took = self.assert_fails(env, "no AWS credentials found", "EC2 instance metadata",
                                 "did not answer")
        self.assertLess(took, 10, "the chain should give up on IMDS at once")


class RolloverTest(unittest.TestCase):
    """Credentials that expire every LIFETIME seconds, for DURATION seconds,
    under eight pipelines: every record delivered, no call refused after the
    first, one STS call per renewal (at half the lifetime)."""

    PIPELINES = 8
    # Credentials count as expired 15 s early (CachedCredentials'
    # kExpirySlack): a lifetime under 30 s would be renewed at that slack,
    # not at half the lifetime.
    LIFETIME, DURATION = (60, 180) if SOAK else (40, 80)
    ROLLOVERS = DURATION * 2 // LIFETIME

    def setUp(self):
        harness.binary()
        if shutil.which("node") is None:
            harness._missing("node is not installed; run scripts/install-deps")
        self.dir = tempfile.mkdtemp(prefix="kc-rollover-it-")
        self.stands = Stands(self.dir)
        self.stands.control("config", {
            "base_keys": {BASE_KEY: BASE_SECRET},
            "web_identity_tokens": {WEB_TOKEN: "valid"},
            "lifetime_seconds": self.LIFETIME,
            "deterministic_keys": False,
        })

    def tearDown(self):
        self.stands.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def put(self, stream, first, count):
        entries = [{"Data": base64.b64encode(f"{stream}-{i}".encode()).decode(),
                    "PartitionKey": str(i)} for i in range(first, first + count)]
        out = harness.aws("put-records", endpoint=self.stands.url,
                          input_json={"StreamName": stream, "Records": entries})
        self.assertEqual(out.get("FailedRecordCount", 0), 0)

    def test_a_daemon_outlives_its_credentials(self):
        streams = [f"rollover-{i}" for i in range(self.PIPELINES)]
        for s in streams:
            harness.create_stream(s, 1, endpoint=self.stands.url)
        token = os.path.join(self.dir, "token")
        with open(token, "w") as f:
            f.write(WEB_TOKEN)
        out = os.path.join(self.dir, "out")
        pipelines = "".join(f"""
[[pipeline]]
name = "p{i}"
stream = "{s}"
poll_interval = "500ms"
[pipeline.buffer]
max_records = 50
max_age = "2s"
[pipeline.emitter]
type = "file"
directory = "{out}"
format = "envelope"
""" for i, s in enumerate(streams))
        config = os.path.join(self.dir, "connect.toml")
        with open(config, "w") as f:
            f.write(f"""
[aws]
region = "us-east-1"
[aws.endpoints]
kinesis = "{self.stands.url}"
sts = "{self.stands.url}"
[checkpoint]
store = "file"
path = "{os.path.join(self.dir, "state")}"
app = "it"
{pipelines}""")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(HOME=self.dir, AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_WEB_IDENTITY_TOKEN_FILE=token,
                   AWS_ROLE_ARN=f"arn:aws:iam::{ACCOUNT}:role/rollover")
        log_path = os.path.join(self.dir, "connect.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([harness.binary(), "run", "-c", config], env=env,
                                    stdout=log, stderr=log)
        sent = {s: 0 for s in streams}
        try:
            deadline = time.monotonic() + self.DURATION + 5
            while time.monotonic() < deadline:
                for s in streams:
                    self.put(s, sent[s], 20)
                    sent[s] += 20
                # One round every few seconds, spread over the run; a daemon
                # that stops meanwhile ends the test.
                try:
                    proc.wait(timeout=4)
                    self.fail("the daemon stopped")
                except subprocess.TimeoutExpired:
                    pass

            def delivered():
                return all(harness.count_records(out, s) >= sent[s] for s in streams)

            harness.wait_until(delivered, 120, "every record delivered")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        with open(log_path) as f:
            log_text = f.read()
        for s in streams:
            records = [r for shard in harness.read_envelopes(out, s).values() for r in shard]
            self.assertEqual(sorted(d for _, _, d, _ in records),
                             sorted(f"{s}-{i}".encode() for i in range(sent[s])))
        stats = self.stands.control("stats")
        kinesis = stats["kinesis"]
        # The CLI's own calls (base keys) are among the accepted ones; the
        # daemon's are those with issued keys.
        issued = [k for k in kinesis["accepted_key_ids"] if k.startswith("ASIA")]
        self.assertEqual(kinesis["rejected"], [], log_text[-3000:])
        self.assertGreaterEqual(len(set(issued)), self.ROLLOVERS,
                                f"the credentials should have rolled over every "
                                f"~{self.LIFETIME // 2} s")
        renewals = stats["sts"]["AssumeRoleWithWebIdentity"]
        print(f"\nrollover: {self.PIPELINES} pipelines, {sum(sent.values())} records, "
              f"{len(issued)} Kinesis calls with {len(set(issued))} temporary keys, "
              f"{renewals} STS calls, {len(kinesis['rejected'])} refused", file=sys.stderr)
        # One chain for the whole process: one call per renewal (every half
        # lifetime), not one per pipeline or thread.
        self.assertLessEqual(renewals, self.ROLLOVERS + 3, stats["sts"])
        self.assertEqual(renewals, len(set(issued)))
        self.assertNotIn(WEB_TOKEN, log_text)


if __name__ == "__main__":
    unittest.main()
