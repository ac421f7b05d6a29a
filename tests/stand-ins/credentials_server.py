#!/usr/bin/env python3
"""Local stand-in for the AWS services that hand out temporary credentials,
plus a signature-checking front for Kinesis, in one HTTP server on 127.0.0.1.

    python3 tests/stand-ins/credentials_server.py [--port N]
            [--kinesis-upstream URL] [--verbose]

Port 0 (the default) picks a free port. Once bound, the server prints one line,
"listening on http://127.0.0.1:PORT", to stdout and serves until SIGTERM or
SIGINT, then exits 0. Nothing else goes to stdout; --verbose logs requests to
stderr.

What it answers, each in the wire format of the real service:

  STS (query protocol)    POST / (form body) or GET /?Action=...:
                          AssumeRole (SigV4-signed, service "sts") and
                          AssumeRoleWithWebIdentity (unsigned)
  EC2 IMDSv2              PUT /latest/api/token,
                          GET /latest/meta-data/iam/security-credentials/[ROLE]
  ECS / EKS containers    GET /v2/credentials/... and GET /container/...
  IAM Identity Center     GET /federation/credentials?account_id=&role_name=
  Kinesis front           POST with X-Amz-Target: Kinesis_20131202.*: the
                          SigV4 signature is checked, then the request goes on
                          unchanged to --kinesis-upstream
  control API             /_control/config, /_control/stats, /_control/reset
                          (JSON; see ControlApi below)

Every credential handed out (an "issuance") has its own fresh secret and
session token; its access key id is derived from the role and the caller
(deterministic_keys) so that two independent clients can be compared. A
request signed with an issued key is accepted only with that issuance's
session token and only until it expires (the server's clock, whole seconds,
the same instant as the Expiration it reported).

The request time in X-Amz-Date is not compared with the clock, and only header
authentication is supported (no presigned URLs, no chunked payload signing).
"""

import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import math
import re
import secrets
import signal
import socketserver
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from datetime import datetime, timezone
from xml.sax.saxutils import escape as xml_escape

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
STS_VERSION = "2011-06-15"
KINESIS_PREFIX = "Kinesis_20131202."
KINESIS_JSON = "application/x-amz-json-1.1"
CONTAINER_ROLE_ARN = "arn:aws:iam::123456789012:role/container"
SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
MAX_BODY_BYTES = 16 * 1024 * 1024

SERVICES = ("sts", "imds", "container", "sso", "kinesis")
FAULTS = ("malformed", "throttle", "error500", "hang", "empty")
TOKEN_STATES = ("valid", "expired")

DEFAULTS = {
    "lifetime_seconds": 3600,
    "deterministic_keys": True,
    "base_keys": {},
    "web_identity_tokens": {},
    "container_token": None,
    "imds_role": None,
    "sso_tokens": {},
    # Not in the original brief: how long a "hang" fault sleeps.
    "hang_seconds": 30,
    # Role ARNs that STS refuses to anyone with AccessDenied.
    "denied_roles": [],
}


def rfc3339(unix_seconds):
    """2026-12-07T15:00:00Z for a unix time (whole seconds, UTC)."""
    moment = datetime.fromtimestamp(int(unix_seconds), tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def request_id():
    return str(uuid.uuid4())


class Issuance:
    """One set of temporary credentials handed out by one of the services."""

    __slots__ = ("service", "access_key_id", "secret", "token", "expires")

    def __init__(self, service, access_key_id, secret, token, expires):
        self.service = service
        self.access_key_id = access_key_id
        self.secret = secret
        self.token = token
        self.expires = expires  # unix seconds, an integer


class ConfigError(ValueError):
    pass


def _check_number(name, value, minimum=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _check_string_map(name, value, allowed_values=None):
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be an object")
    for key, item in value.items():
        if not isinstance(item, str) or not key:
            raise ConfigError(f"{name} must map non-empty strings to strings")
        if allowed_values is not None and item not in allowed_values:
            raise ConfigError(f"{name} values must be one of {', '.join(allowed_values)}")
    return dict(value)


def _check_optional_string(name, value):
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(f"{name} must be a non-empty string or null")
    return value


class State:
    """Configuration, fault queues, issued credentials and counters, shared by
    every request thread under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.config = json.loads(json.dumps(DEFAULTS))
        self.counter = 0  # for non-deterministic key ids; never reset
        self.imds_tokens = {}  # IMDS session token -> unix expiry (kept by reset)
        self._clear()

    def _clear(self):
        self.faults = {service: [] for service in SERVICES}
        self.issued = []
        self.by_token = {}
        self.stats = {
            "sts": {"AssumeRole": 0, "AssumeRoleWithWebIdentity": 0},
            "imds": {"token": 0, "credentials": 0, "role_list": 0},
            "container": 0,
            "sso": 0,
            "kinesis": {"accepted": 0, "accepted_key_ids": [], "rejected": []},
        }

    # --- control ---------------------------------------------------------

    def merge_config(self, update):
        if not isinstance(update, dict):
            raise ConfigError("the configuration must be a JSON object")
        checked = {}
        faults = None
        for name, value in update.items():
            if name == "faults":
                faults = self._check_faults(value)
                continue
            if name not in DEFAULTS:
                raise ConfigError(f"unknown setting {name!r}")
            if value is None:
                checked[name] = json.loads(json.dumps(DEFAULTS[name]))
            elif name == "lifetime_seconds":
                checked[name] = _check_number(name, value)
            elif name == "hang_seconds":
                checked[name] = _check_number(name, value, minimum=0)
            elif name == "deterministic_keys":
                if not isinstance(value, bool):
                    raise ConfigError("deterministic_keys must be true or false")
                checked[name] = value
            elif name == "base_keys":
                checked[name] = _check_string_map(name, value)
            elif name in ("web_identity_tokens", "sso_tokens"):
                checked[name] = _check_string_map(name, value, TOKEN_STATES)
            elif name == "denied_roles":
                if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
                    raise ConfigError("denied_roles must be a list of role ARNs")
                checked[name] = list(value)
            elif name == "container_token":
                checked[name] = _check_optional_string(name, value)
            elif name == "imds_role":
                role = _check_optional_string(name, value)
                if "/" in role:
                    raise ConfigError("imds_role must not contain '/'")
                checked[name] = role
        with self.lock:
            self.config.update(checked)
            if faults is not None:
                for service, names in faults.items():
                    self.faults[service] = list(names)
            return self._public_config()

    @staticmethod
    def _check_faults(value):
        if not isinstance(value, dict):
            raise ConfigError("faults must be an object of service -> list of fault names")
        for service, names in value.items():
            if service not in SERVICES:
                raise ConfigError(f"faults: unknown service {service!r} "
                                  f"(one of {', '.join(SERVICES)})")
            if not isinstance(names, list) or any(n not in FAULTS for n in names):
                raise ConfigError(f"faults[{service!r}] must be a list of "
                                  f"{', '.join(FAULTS)}")
        return value

    def public_config(self):
        with self.lock:
            return self._public_config()

    def _public_config(self):
        # Secrets and tokens stay out: only key ids and counts.
        c = self.config
        return {
            "lifetime_seconds": c["lifetime_seconds"],
            "deterministic_keys": c["deterministic_keys"],
            "hang_seconds": c["hang_seconds"],
            "base_key_ids": sorted(c["base_keys"]),
            "web_identity_tokens": len(c["web_identity_tokens"]),
            "sso_tokens": len(c["sso_tokens"]),
            "container_token_required": c["container_token"] is not None,
            "imds_role": c["imds_role"],
            "denied_roles": list(c["denied_roles"]),
            "faults": {s: list(q) for s, q in self.faults.items()},
        }

    def reset(self):
        with self.lock:
            self._clear()

    def snapshot_stats(self):
        with self.lock:
            out = json.loads(json.dumps(self.stats))
            out["issued"] = [
                {"service": i.service, "access_key_id": i.access_key_id, "expires": i.expires}
                for i in self.issued
            ]
            return out

    # --- requests --------------------------------------------------------

    def setting(self, name):
        with self.lock:
            value = self.config[name]
            return dict(value) if isinstance(value, dict) else value

    def take_fault(self, service):
        with self.lock:
            queue = self.faults[service]
            return queue.pop(0) if queue else None

    def count(self, service, key=None):
        with self.lock:
            if key is None:
                self.stats[service] += 1
            else:
                bucket = self.stats[service]
                bucket[key] = bucket.get(key, 0) + 1

    def issue(self, service, role, identity):
        """Hands out new credentials for `role`, asked for by `identity`."""
        with self.lock:
            now = time.time()
            expires = int(math.ceil(now + self.config["lifetime_seconds"]))
            if self.config["deterministic_keys"]:
                digest = hashlib.sha256(f"{role}|{identity}".encode()).hexdigest()
                key_id = "ASIA" + digest[:16].upper()
            else:
                self.counter += 1
                key_id = "ASIA" + str(self.counter).zfill(16)
            issuance = Issuance(service, key_id, secrets.token_urlsafe(30),
                                secrets.token_urlsafe(96), expires)
            self.issued.append(issuance)
            self.by_token[issuance.token] = issuance
            return issuance

    def signing_secret(self, key_id, session_token):
        """(secret, None) for a key that may sign now, or (None, reason)."""
        with self.lock:
            if session_token is None:
                secret = self.config["base_keys"].get(key_id)
                return (secret, None) if secret is not None else (None, "unknown-key")
            issuance = self.by_token.get(session_token)
            if issuance is None or issuance.access_key_id != key_id:
                return None, "unknown-token"
            if issuance.expires <= time.time():
                return None, "expired"
            return issuance.secret, None

    def kinesis_accepted(self, key_id):
        with self.lock:
            k = self.stats["kinesis"]
            k["accepted"] += 1
            k["accepted_key_ids"].append(key_id)

    def kinesis_rejected(self, key_id, reason):
        with self.lock:
            self.stats["kinesis"]["rejected"].append({"key_id": key_id, "reason": reason})

    def new_imds_token(self, ttl):
        token = secrets.token_urlsafe(42)
        with self.lock:
            now = time.time()
            for old in [t for t, until in self.imds_tokens.items() if until <= now]:
                del self.imds_tokens[old]
            self.imds_tokens[token] = now + ttl
        return token

    def imds_token_valid(self, token):
        with self.lock:
            until = self.imds_tokens.get(token)
            return until is not None and until > time.time()


# --- SigV4 ---------------------------------------------------------------


class AuthFailure(Exception):
    """kind: missing, incomplete, unknown-key, unknown-token, expired, scope,
    bad-signature."""

    def __init__(self, kind, message, key_id=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.key_id = key_id


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def canonical_uri(raw_path):
    """The path as every service but S3 signs it: dot segments and empty
    segments removed, then the (already encoded) path encoded once more."""
    if not raw_path:
        return "/"
    kept = []
    for segment in raw_path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    path = "/" + "/".join(kept)
    if raw_path.endswith("/") and kept:
        path += "/"
    return urllib.parse.quote(path.encode("latin-1"), safe="/~")


def canonical_query(raw_query):
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((
            urllib.parse.quote(urllib.parse.unquote_to_bytes(key), safe="-_.~"),
            urllib.parse.quote(urllib.parse.unquote_to_bytes(value), safe="-_.~"),
        ))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def verify_sigv4(state, method, raw_path, raw_query, headers, body, service):
    """Returns the access key id of a correctly signed request, or raises
    AuthFailure."""
    authorization = headers.get("Authorization")
    if authorization is None or not authorization.strip():
        raise AuthFailure("missing", "no Authorization header")
    algorithm, _, rest = authorization.strip().partition(" ")
    fields = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name.strip()] = value.strip()
    credential = fields.get("Credential")
    signed = fields.get("SignedHeaders")
    signature = fields.get("Signature")
    if algorithm != SIGV4_ALGORITHM or not credential or not signed or not signature:
        raise AuthFailure("incomplete", "Authorization header requires 'Credential', "
                          "'Signature' and 'SignedHeaders' parameters with the "
                          f"{SIGV4_ALGORITHM} algorithm")
    scope = credential.split("/")
    if len(scope) != 5 or not scope[0]:
        raise AuthFailure("incomplete", "the Credential of the Authorization header is not "
                          "KEY/DATE/REGION/SERVICE/aws4_request")
    key_id = scope[0]
    amz_date = headers.get("X-Amz-Date")
    if not amz_date:
        raise AuthFailure("incomplete", "Authorization header requires existence of an "
                          "'X-Amz-Date' header", key_id)

    secret, reason = state.signing_secret(key_id, headers.get("X-Amz-Security-Token"))
    if secret is None:
        if reason == "expired":
            raise AuthFailure(reason, "The security token included in the request is expired",
                              key_id)
        raise AuthFailure(reason, "The security token included in the request is invalid.",
                          key_id)

    date, region, scoped_service, terminator = scope[1:]
    if scoped_service != service:
        raise AuthFailure("scope", "Credential should be scoped to correct service: "
                          f"'{service}'.", key_id)
    if terminator != "aws4_request" or not region:
        raise AuthFailure("scope", "Credential should be scoped with a valid terminator: "
                          "'aws4_request'.", key_id)
    if amz_date[:8] != date:
        raise AuthFailure("scope", f"Date in Credential scope does not match YYYYMMDD from "
                          f"ISO-8601 version of date from HTTP: '{date}' != "
                          f"'{amz_date[:8]}', from '{amz_date}'.", key_id)

    names = signed.split(";")
    if "host" not in names:
        raise AuthFailure("bad-signature", "'Host' or ':authority' must be a 'SignedHeader' "
                          "in the AWS Authorization.", key_id)
    canonical_headers = ""
    for name in names:
        values = headers.get_all(name)
        if not values or name != name.lower():
            raise AuthFailure("bad-signature", f"signed header {name!r} is not in the request",
                              key_id)
        canonical_headers += name + ":" + ",".join(" ".join(v.split()) for v in values) + "\n"
    canonical_request = "\n".join([
        method,
        canonical_uri(raw_path),
        canonical_query(raw_query),
        canonical_headers,
        signed,
        hashlib.sha256(body).hexdigest(),
    ])
    string_to_sign = "\n".join([
        SIGV4_ALGORITHM,
        amz_date,
        "/".join(scope[1:]),
        hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
    ])
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, scoped_service)
    key = _hmac(key, "aws4_request")
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise AuthFailure("bad-signature", "The request signature we calculated does not match "
                          "the signature you provided. Check your AWS Secret Access Key and "
                          "signing method. Consult the service documentation for details.",
                          key_id)
    return key_id


# --- the HTTP server -------------------------------------------------------


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, state, upstream, verbose):
        self.state = state
        self.upstream = upstream
        self.verbose = verbose
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind looks the host name up; a loopback address
        # needs no lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class BadRequest(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stand-in"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection is dropped after this

    # --- plumbing ----------------------------------------------------------

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        if self.server.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    @property
    def state(self):
        return self.server.state

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BadRequest("malformed chunk size")
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise BadRequest("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit() or int(length) > MAX_BODY_BYTES:
            raise BadRequest("bad Content-Length")
        return self.rfile.read(int(length))

    def respond(self, status, body=b"", content_type=None, headers=()):
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def respond_json(self, status, obj, content_type="application/json", headers=()):
        self.respond(status, json.dumps(obj), content_type, headers)

    def _dispatch(self):
        try:
            try:
                body = self._read_body()
            except BadRequest as e:
                self.close_connection = True
                self.respond_json(400, {"message": str(e)})
                return
            path, _, query = self.path.partition("?")
            self._route(path, query, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug in the stand-in: say so, keep serving
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self.respond_json(500, {"message": f"stand-in error: {e}"})

    def _route(self, path, query, body):
        method = self.command
        target = self.headers.get("X-Amz-Target", "")
        if path.startswith("/_control/"):
            return self.control(method, path, body)
        if method == "POST" and target.startswith(KINESIS_PREFIX):
            return self.kinesis(path, query, body)
        if path == "/latest/api/token":
            return self.imds_token(method)
        if path.startswith("/latest/meta-data/iam/security-credentials"):
            return self.imds_credentials(method, path)
        if method == "GET" and (path.startswith("/v2/credentials/")
                                or path.startswith("/container/")):
            return self.container()
        if method == "GET" and path == "/federation/credentials":
            return self.sso(query)
        if path == "/" and not target and (
                method == "POST" or (method == "GET" and "Action=" in query)):
            return self.sts(method, path, query, body)
        self.respond_json(404, {"message": "no such stand-in path"})

    # --- faults -------------------------------------------------------------

    def fault(self, service):
        """Serves the next queued fault of `service`. True when it answered
        the request (the caller stops); False to answer normally (no fault,
        or a hang that has slept)."""
        name = self.state.take_fault(service)
        if name is None:
            return False
        if name == "hang":
            time.sleep(self.state.setting("hang_seconds"))
            return False
        json_type = KINESIS_JSON if service == "kinesis" else "application/json"
        if name == "empty":
            content_type = {"sts": "text/xml", "imds": "text/plain"}.get(service, json_type)
            self.respond(200, b"", content_type, self._rid_header(service))
            return True
        if name == "malformed":
            if service == "sts":
                self.respond(200, f'<AssumeRoleResponse xmlns="{STS_NS}"><AssumeRoleResult>'
                             "<Credentials><AccessKeyId>ASIA", "text/xml",
                             self._rid_header(service))
            elif service == "imds":
                self.respond(200, b'\x00\x07{"Code": "Success", "AccessKeyId": ', "text/plain")
            else:
                self.respond(200, b'{"AccessKeyId": "ASIA', json_type,
                             self._rid_header(service))
            return True
        if name == "throttle":
            if service == "sts":
                self.sts_error(400, "Throttling", "Rate exceeded")
            elif service == "imds":
                self.respond(429, "429 - Too Many Requests", "text/plain")
            elif service == "container":
                self.respond_json(429, {"code": "TooManyRequests",
                                        "message": "Rate exceeded"})
            elif service == "sso":
                self.sso_error(429, "TooManyRequestsException", "Too many requests")
            else:
                self.kinesis_error(400, "ProvisionedThroughputExceededException",
                                   "Rate exceeded for shard shardId-000000000000 in stream "
                                   "under account 123456789012.")
            return True
        # error500
        if service == "sts":
            self.sts_error(500, "InternalFailure", "An internal error occurred.",
                           kind="Receiver")
        elif service == "imds":
            self.respond(500, "500 - Internal Server Error", "text/plain")
        elif service == "container":
            self.respond_json(500, {"code": "InternalServerError",
                                    "message": "internal error"})
        elif service == "sso":
            self.sso_error(500, "InternalServerException", "An internal error occurred.")
        else:
            self.kinesis_error(500, "InternalFailure", "An internal error occurred.")
        return True

    @staticmethod
    def _rid_header(service):
        return () if service == "imds" else (("x-amzn-RequestId", request_id()),)

    # --- control API --------------------------------------------------------

    def control(self, method, path, body):
        if path == "/_control/config" and method == "POST":
            try:
                update = json.loads(body.decode("utf-8") or "{}")
                self.respond_json(200, self.state.merge_config(update))
            except (ValueError, ConfigError) as e:
                self.respond_json(400, {"message": f"bad configuration: {e}"})
        elif path == "/_control/config" and method == "GET":
            self.respond_json(200, self.state.public_config())
        elif path == "/_control/stats" and method == "GET":
            self.respond_json(200, self.state.snapshot_stats())
        elif path == "/_control/reset" and method == "POST":
            self.state.reset()
            self.respond_json(200, {"reset": True})
        else:
            self.respond_json(404, {"message": "no such stand-in path"})

    # --- STS ----------------------------------------------------------------

    def sts_error(self, status, code, message, kind="Sender"):
        rid = request_id()
        self.respond(
            status,
            f'<ErrorResponse xmlns="{STS_NS}">\n'
            f"  <Error>\n    <Type>{kind}</Type>\n    <Code>{xml_escape(code)}</Code>\n"
            f"    <Message>{xml_escape(message)}</Message>\n  </Error>\n"
            f"  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n",
            "text/xml", (("x-amzn-RequestId", rid),))

    def sts(self, method, path, query, body):
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        if method == "POST":
            params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                                 keep_blank_values=True))
        action = params.get("Action")
        if action:
            self.state.count("sts", action)
        if self.fault("sts"):
            return
        if not action:
            return self.sts_error(400, "MissingAction", "Missing Action")
        version = params.get("Version", STS_VERSION)
        if action not in ("AssumeRole", "AssumeRoleWithWebIdentity") or version != STS_VERSION:
            return self.sts_error(400, "InvalidAction", f"Could not find operation {action} "
                                  f"for version {version}")
        if action == "AssumeRole":
            self.assume_role(method, path, query, body, params)
        else:
            self.assume_role_with_web_identity(params)

    def _sts_validate(self, params, required):
        problems = []
        for param, member in required:
            if not params.get(param):
                problems.append(f"Value null at '{member}' failed to satisfy constraint: "
                                "Member must not be null")
        session = params.get("RoleSessionName")
        if session and not re.fullmatch(r"[\w+=,.@-]{2,64}", session):
            problems.append(f"Value '{session}' at 'roleSessionName' failed to satisfy "
                            r"constraint: Member must satisfy regular expression pattern: "
                            r"[\w+=,.@-]*")
        duration = params.get("DurationSeconds")
        if duration is not None:
            if not duration.isdigit():
                problems.append(f"Value '{duration}' at 'durationSeconds' failed to satisfy "
                                "constraint: Member must be an integer")
            elif not 900 <= int(duration) <= 43200:
                bound = ("greater than or equal to 900" if int(duration) < 900
                         else "less than or equal to 43200")
                problems.append(f"Value '{duration}' at 'durationSeconds' failed to satisfy "
                                f"constraint: Member must have value {bound}")
        if problems:
            count = len(problems)
            noun = "error" if count == 1 else "errors"
            self.sts_error(400, "ValidationError",
                           f"{count} validation {noun} detected: " + "; ".join(problems))
            return False
        arn = params["RoleArn"]
        if not re.fullmatch(r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+", arn):
            self.sts_error(400, "ValidationError", "Request ARN is invalid")
            return False
        return True

    @staticmethod
    def _assumed_role_user(role_arn, session):
        account = role_arn.split(":")[4]
        role_name = role_arn.rsplit("/", 1)[-1]
        role_id = "AROA" + hashlib.sha256(role_arn.encode()).hexdigest()[:17].upper()
        return (f"<AssumedRoleUser><AssumedRoleId>{xml_escape(role_id)}:{xml_escape(session)}"
                f"</AssumedRoleId><Arn>arn:aws:sts::{account}:assumed-role/"
                f"{xml_escape(role_name)}/{xml_escape(session)}</Arn></AssumedRoleUser>")

    @staticmethod
    def _sts_credentials(issuance):
        return (f"<Credentials><AccessKeyId>{issuance.access_key_id}</AccessKeyId>"
                f"<SecretAccessKey>{issuance.secret}</SecretAccessKey>"
                f"<SessionToken>{issuance.token}</SessionToken>"
                f"<Expiration>{rfc3339(issuance.expires)}</Expiration></Credentials>")

    def _sts_success(self, action, result_xml):
        rid = request_id()
        self.respond(
            200,
            f'<{action}Response xmlns="{STS_NS}">\n  <{action}Result>{result_xml}'
            f"</{action}Result>\n  <ResponseMetadata>\n    <RequestId>{rid}</RequestId>\n"
            f"  </ResponseMetadata>\n</{action}Response>\n",
            "text/xml", (("x-amzn-RequestId", rid),))

    def _denied(self, role_arn, caller):
        """Answers AccessDenied, as STS does when the role's trust policy
        does not name the caller, for the configured denied_roles."""
        if role_arn not in self.state.setting("denied_roles"):
            return False
        self.sts_error(403, "AccessDenied",
                       f"User: {caller} is not authorized to perform: sts:AssumeRole on "
                       f"resource: {role_arn}")
        return True

    def assume_role(self, method, path, query, body, params):
        try:
            caller = verify_sigv4(self.state, method, path, query, self.headers, body, "sts")
        except AuthFailure as failure:
            status, code = {
                "missing": (403, "MissingAuthenticationToken"),
                "incomplete": (400, "IncompleteSignature"),
                "unknown-key": (403, "InvalidClientTokenId"),
                "unknown-token": (403, "InvalidClientTokenId"),
                "expired": (403, "ExpiredToken"),
            }.get(failure.kind, (403, "SignatureDoesNotMatch"))
            message = ("Request is missing Authentication Token" if failure.kind == "missing"
                       else failure.message)
            return self.sts_error(status, code, message)
        if not self._sts_validate(params, (("RoleArn", "roleArn"),
                                           ("RoleSessionName", "roleSessionName"))):
            return
        role_arn, session = params["RoleArn"], params["RoleSessionName"]
        if self._denied(role_arn, caller):
            return
        issuance = self.state.issue("sts", role_arn, caller)
        self._sts_success("AssumeRole", self._sts_credentials(issuance)
                          + self._assumed_role_user(role_arn, session)
                          + "<PackedPolicySize>0</PackedPolicySize>")

    def assume_role_with_web_identity(self, params):
        if not self._sts_validate(params, (("RoleArn", "roleArn"),
                                           ("RoleSessionName", "roleSessionName"),
                                           ("WebIdentityToken", "webIdentityToken"))):
            return
        token = params["WebIdentityToken"]
        known = self.state.setting("web_identity_tokens").get(token)
        if known is None:
            return self.sts_error(400, "InvalidIdentityToken",
                                  "The web identity token that was passed could not be "
                                  "validated by AWS. Get a new identity token from the "
                                  "identity provider and then retry the request.")
        if known == "expired":
            now = int(time.time())
            return self.sts_error(400, "ExpiredTokenException",
                                  f"Token expired: current date/time {now} must be before "
                                  f"the expiration date/time {now - 60}")
        role_arn, session = params["RoleArn"], params["RoleSessionName"]
        if self._denied(role_arn, "a web identity"):
            return
        issuance = self.state.issue("sts", role_arn, token)
        subject = "system:serviceaccount:" + hashlib.sha256(token.encode()).hexdigest()[:12]
        self._sts_success(
            "AssumeRoleWithWebIdentity",
            self._sts_credentials(issuance)
            + f"<SubjectFromWebIdentityToken>{subject}</SubjectFromWebIdentityToken>"
            + self._assumed_role_user(role_arn, session)
            + "<Provider>oidc.stand-in.local</Provider><Audience>sts.amazonaws.com</Audience>")

    # --- IMDSv2 -------------------------------------------------------------

    def imds_text(self, status, text):
        self.respond(status, text, "text/plain", (("Server", "EC2ws"),))

    def imds_token(self, method):
        self.state.count("imds", "token")
        if self.fault("imds"):
            return
        if method != "PUT":
            return self.respond(405, "405 - Method Not Allowed", "text/plain",
                                (("Allow", "OPTIONS, PUT"),))
        if self.headers.get("X-Forwarded-For") is not None:
            return self.imds_text(403, "403 - Forbidden")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if ttl is None or not ttl.strip().isdigit() or not 1 <= int(ttl) <= 21600:
            return self.imds_text(400, "400 - Bad Request")
        ttl = int(ttl)
        token = self.state.new_imds_token(ttl)
        self.respond(200, token, "text/plain",
                     (("X-aws-ec2-metadata-token-ttl-seconds", str(ttl)), ("Server", "EC2ws")))

    def imds_credentials(self, method, path):
        prefix = "/latest/meta-data/iam/security-credentials"
        role = path[len(prefix):].strip("/")
        self.state.count("imds", "credentials" if role else "role_list")
        if self.fault("imds"):
            return
        if method not in ("GET", "HEAD"):
            return self.respond(405, "405 - Method Not Allowed", "text/plain",
                                (("Allow", "OPTIONS, GET, HEAD"),))
        token = self.headers.get("X-aws-ec2-metadata-token")
        if token is None or not self.state.imds_token_valid(token):
            return self.imds_text(401, "401 - Unauthorized")
        configured = self.state.setting("imds_role")
        if configured is None or (role and role != configured):
            return self.imds_text(404, "404 - Not Found")
        if not role:
            return self.imds_text(200, configured)
        issuance = self.state.issue("imds", role, "imds:" + role)
        self.respond(200, json.dumps({
            "Code": "Success",
            "LastUpdated": rfc3339(time.time()),
            "Type": "AWS-HMAC",
            "AccessKeyId": issuance.access_key_id,
            "SecretAccessKey": issuance.secret,
            "Token": issuance.token,
            "Expiration": rfc3339(issuance.expires),
        }, indent=2), "text/plain", (("Server", "EC2ws"),))

    # --- container credentials ----------------------------------------------

    def container(self):
        self.state.count("container")
        if self.fault("container"):
            return
        required = self.state.setting("container_token")
        if required is not None:
            given = self.headers.get("Authorization")
            if given is None:
                return self.respond_json(401, {
                    "code": "Unauthorized",
                    "message": "Authorization header is missing"})
            if not hmac.compare_digest(given.encode(), required.encode()):
                return self.respond_json(403, {
                    "code": "AccessDenied",
                    "message": "Authorization token is not valid"})
        issuance = self.state.issue("container", CONTAINER_ROLE_ARN, "container")
        self.respond_json(200, {
            "AccessKeyId": issuance.access_key_id,
            "SecretAccessKey": issuance.secret,
            "Token": issuance.token,
            "Expiration": rfc3339(issuance.expires),
            "RoleArn": CONTAINER_ROLE_ARN,
        })

    # --- IAM Identity Center portal -----------------------------------------

    def sso_error(self, status, error_type, message):
        self.respond_json(status, {"message": message}, "application/json",
                          (("x-amzn-ErrorType", error_type),
                           ("x-amzn-RequestId", request_id())))

    def sso(self, query):
        self.state.count("sso")
        if self.fault("sso"):
            return
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        token = self.headers.get("x-amz-sso_bearer_token")
        state = self.state.setting("sso_tokens").get(token) if token else None
        if state != "valid":
            return self.sso_error(401, "UnauthorizedException",
                                  "Session token not found or invalid")
        account, role = params.get("account_id"), params.get("role_name")
        if not account or not role:
            return self.sso_error(400, "InvalidRequestException",
                                  "account_id and role_name are required")
        issuance = self.state.issue("sso", role, f"sso:{account}:{role}")
        self.respond_json(200, {"roleCredentials": {
            "accessKeyId": issuance.access_key_id,
            "secretAccessKey": issuance.secret,
            "sessionToken": issuance.token,
            "expiration": issuance.expires * 1000,
        }}, "application/json", (("x-amzn-RequestId", request_id()),))

    # --- Kinesis front ------------------------------------------------------

    def kinesis_error(self, status, error_type, message):
        self.respond_json(status, {"__type": error_type, "message": message}, KINESIS_JSON,
                          (("x-amzn-RequestId", request_id()),))

    def kinesis(self, path, query, body):
        if self.fault("kinesis"):
            return
        try:
            key_id = verify_sigv4(self.state, "POST", path, query, self.headers, body,
                                  "kinesis")
        except AuthFailure as failure:
            self.state.kinesis_rejected(failure.key_id, failure.kind)
            error_type = {
                "missing": "MissingAuthenticationTokenException",
                "incomplete": "IncompleteSignatureException",
                "unknown-key": "UnrecognizedClientException",
                "unknown-token": "UnrecognizedClientException",
                "expired": "ExpiredTokenException",
            }.get(failure.kind, "InvalidSignatureException")
            message = ("Missing Authentication Token" if failure.kind == "missing"
                       else failure.message)
            return self.kinesis_error(400, error_type, message)
        self.state.kinesis_accepted(key_id)
        if not self.server.upstream:
            return self.kinesis_error(400, "ResourceNotFoundException", "no upstream")
        self.forward(body)

    def forward(self, body):
        upstream = urllib.parse.urlsplit(self.server.upstream)
        if upstream.scheme == "https":
            conn = http.client.HTTPSConnection(upstream.hostname, upstream.port or 443,
                                               timeout=60,
                                               context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port or 80,
                                              timeout=60)
        skip = {"host", "content-length", "transfer-encoding", "connection", "keep-alive",
                "proxy-connection", "te", "upgrade", "expect"}
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in skip]
        try:
            conn.putrequest(self.command, self.path, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as e:
            return self.kinesis_error(500, "InternalFailure",
                                      f"the Kinesis upstream did not answer: {e}")
        finally:
            conn.close()
        relay = [(name, response.getheader(name)) for name in
                 ("Content-Encoding", "x-amzn-RequestId", "x-amz-id-2")
                 if response.getheader(name) is not None]
        self.respond(response.status, data, response.getheader("Content-Type"), relay)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any)")
    parser.add_argument("--kinesis-upstream", default=None,
                        help="where accepted Kinesis requests go, e.g. http://127.0.0.1:4567")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)
    if args.kinesis_upstream:
        parts = urllib.parse.urlsplit(args.kinesis_upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            parser.error("--kinesis-upstream must be an http:// or https:// URL")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    server = Server(("127.0.0.1", args.port), State(), args.kinesis_upstream, args.verbose)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                               daemon=True)
    serving.start()
    sys.stdout.write(f"listening on http://127.0.0.1:{server.server_address[1]}\n")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
