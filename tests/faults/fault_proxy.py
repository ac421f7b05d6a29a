#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the tests.

Placed between kinesis-connect (or any AWS client) and a local stand-in
(kinesalite, s3rver, dynalite), it forwards every request unchanged and
relays the answer, except when a rule fires: then it answers with an AWS
error, a bare HTTP status, a delay, a dropped or reset connection, or a
truncated body. Standard library only; used by the tests, never shipped.

    from fault_proxy import FaultProxy, Rule, aws_error, delay
    with FaultProxy(upstream="http://127.0.0.1:4567", seed=7) as proxy:
        rule = proxy.add(Rule(match="GetRecords",
                              action=aws_error("ProvisionedThroughputExceededException"),
                              times=3))
        ...  # point the client at proxy.endpoint
        assert rule.hits == 3
        print(proxy.counts)  # {"GetRecords": 12, "ListShards": 1, ...}

FaultProxy(upstream, port=0, seed=None, upstream_timeout=60.0)
    upstream    "http://HOST:PORT" of the stand-in (plain HTTP, no path).
    port        port to listen on (127.0.0.1 always); 0 picks a free one.
    seed        seed of the proxy's own random.Random, which decides the
                rules' `probability`: the same seed and the same sequence of
                requests fire the same faults. `proxy.seed = N` reseeds.
    upstream_timeout  seconds a forwarded request may take upstream.

    start() / stop()   serve in background threads / stop serving; also a
                       context manager. After stop(), start() listens on the
                       same port again, so stopping the proxy is a way to
                       make the client see "connection refused".
    endpoint           "http://127.0.0.1:PORT", to give to the client.
    add(rule) -> rule, remove(rule), clear()   the rules, in order.
    counts, snapshot() a copy of {operation: requests received}, every
                       request counted, whether a rule fired on it or not.
    reset_counts()     forgets the counts (not the rules' hits).
    connections        client connections accepted so far (keep-alive shows
                       as fewer connections than requests).

Operations
    Requests with an X-Amz-Target header (the JSON protocols: Kinesis
    "Kinesis_20131202.GetRecords", DynamoDB "DynamoDB_20120810.PutItem") are
    named by the part after the last dot: "GetRecords", "PutItem". Other
    requests are taken to be S3 REST calls in path style (/BUCKET/KEY) and
    named from method, path and query, best effort:
      PUT object     PutObject; UploadPart (?partNumber&uploadId);
                     CopyObject / UploadPartCopy (x-amz-copy-source header)
      GET object     GetObject; ListParts (?uploadId)
      HEAD object    HeadObject
      DELETE object  DeleteObject; AbortMultipartUpload (?uploadId)
      POST object    CreateMultipartUpload (?uploads);
                     CompleteMultipartUpload (?uploadId)
      GET bucket     ListObjectsV2 (?list-type=2), ListObjects,
                     ListMultipartUploads (?uploads), GetBucketLocation, ...
      PUT / HEAD / DELETE bucket   CreateBucket / HeadBucket / DeleteBucket
      POST bucket    DeleteObjects (?delete)
      GET /          ListBuckets
    Sub-resources of objects and buckets (?tagging, ?acl, ?policy, ...) give
    Get/Put/Delete + Object/Bucket + the resource ("PutObjectTagging",
    "GetBucketPolicy"). Anything else is named by its HTTP method.
    Virtual-hosted bucket names (BUCKET.host) are not recognised.

Rules: Rule(match, action, times=None, probability=1.0, after=0)
    match        an operation name ("GetRecords"; the full target
                 "Kinesis_20131202.GetRecords" matches too), "*" for every
                 request, or a callable(request) -> bool. The request has
                 method, path (as sent, query included), url_path, query
                 ({name: [values]}), headers (case-insensitive .get), body
                 (bytes), target (X-Amz-Target or None), operation and
                 json() (the body parsed). The callable runs under the
                 proxy's lock: keep it quick.
    after        the first `after` matching requests pass untouched.
    times        fire at most this many times (None: no limit).
    probability  once past `after` and within `times`, fire with this
                 probability (drawn from the proxy's seeded generator; no
                 draw is made when it is 1.0).
    rule.hits    how often the rule fired; rule.matched how many requests
                 matched it (fired or not); rule.wait(hits, timeout) waits
                 until it has fired `hits` times and says whether it did.
    Each request goes through the rules in the order they were added; the
    first that fires decides what happens, and the request counts towards
    `after` of every matching rule it passed on the way. A request no rule
    fires on is forwarded.

Actions
    aws_error(code, status=400, message=None)
        Answers without forwarding, in the service's own error format: for
        JSON protocols {"__type": code, "message": ...} with Content-Type
        application/x-amz-json-1.1 (1.0 for DynamoDB; the request's own
        x-amz-json Content-Type when it has one); for S3 the XML
        <Error><Code>... document (no body for HEAD, as S3 does). E.g.
        aws_error("ProvisionedThroughputExceededException"),
        aws_error("ExpiredIteratorException"), aws_error("InternalFailure",
        500), aws_error("SlowDown", 503). The connection stays open.
    http_status(status, body=b"")
        A bare status (500, 502, 503, ...) with that body, without
        forwarding. The connection stays open.
    delay(seconds, then=None, forward_first=False)
        Waits, then forwards and relays the answer, or applies `then` (any
        other action: delay(2, then=aws_error("InternalFailure", 500))).
        With forward_first=True the request is forwarded at once and only
        the answer waits: the write has happened however long the client
        waits. `then` actions that forward reuse that one upstream answer,
        so delay(0, then=aws_error(...), forward_first=True) applies a write
        and still answers with an error.
    drop(forward=False)
        Closes the connection (FIN) without any answer. With forward=True
        the request is first forwarded and its answer thrown away: the write
        happened, the client never hears of it.
    reset(after_bytes=0)
        Forwards, sends the first `after_bytes` bytes of the answer (status
        line, headers and body counted together), waits briefly for the
        client to receive them, then aborts the connection with a TCP RST
        (SO_LINGER 0).
    truncate(keep_bytes)
        Forwards, sends the answer's headers with the full Content-Length
        but only the first `keep_bytes` bytes of the body, then closes the
        connection (FIN).
    A request that an action forwards is forwarded once, however the
    actions are combined.

    Note on libcurl (the client kinesis-connect uses): when a *reused*
    keep-alive connection closes or is reset before any byte of the answer
    arrives, libcurl sends the request again once on a new connection
    without reporting anything. A single drop() or reset() on such a
    connection is then invisible to the client, except that the proxy
    counts the request twice (and drop(forward=True) makes the write
    twice). Use times=2 or more, reset(after_bytes>0) or truncate() for a
    failure the client must see.

Forwarding
    Every forwarded request gets a new upstream connection of its own, so
    the proxy never retries or reorders anything. Method, request target,
    headers (Host included, in order, byte for byte) and body go upstream
    unchanged; a chunked request body is sent on chunked again. The client
    side is HTTP/1.1 with keep-alive (and Expect: 100-continue answered).
    The upstream answer is read whole and relayed with its status and
    headers, with a Content-Length in place of any Transfer-Encoding and
    without hop-by-hop headers (Connection, Keep-Alive); HEAD, 204 and 304
    answers keep the upstream's headers and have no body.

    When the upstream cannot be reached or fails before its answer is
    complete (a stopped stand-in), the proxy answers 502 Bad Gateway (504
    Gateway Timeout when it timed out), with a text/plain body and the
    header X-Fault-Proxy: upstream-error; it keeps the client connection
    open. Once the upstream is back, the next request goes through.

Logging
    Each fired fault is one INFO line on the "fault_proxy" logger; nothing
    is printed unless logging is configured (the command line's -v does).

Command line
    python3 fault_proxy.py --upstream URL [--port P] [--seed S] [-v]
                           [--rule RULE]...
    prints the endpoint on stdout and serves until SIGTERM or SIGINT.
    RULE is OPERATION:ACTION[:ARGS][,times=N][,p=P][,after=N] where
    OPERATION is an operation name or "*" and ACTION[:ARGS] one of
        aws_error:CODE[:STATUS[:MESSAGE]]
        http_status:STATUS
        delay:SECONDS[:forward_first][:ACTION[:ARGS]]
        drop[:forward]
        reset[:AFTER_BYTES]
        truncate:KEEP_BYTES
    (p is also accepted as probability). Examples:
        --rule 'GetRecords:aws_error:ProvisionedThroughputExceededException,p=0.3'
        --rule 'GetRecords:aws_error:InternalFailure:500,times=2,after=10'
        --rule 'PutRecords:drop:forward,times=1'
        --rule '*:delay:0.5'
        --rule 'PutObject:delay:1:http_status:503'
        --rule 'GetObject:truncate:100'
"""

import argparse
import fcntl
import http
import http.client
import http.server
import json
import logging
import random
import signal
import socket
import socketserver
import struct
import sys
import termios
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape as xml_escape

__all__ = [
    "FaultProxy",
    "Rule",
    "Request",
    "Action",
    "aws_error",
    "http_status",
    "delay",
    "drop",
    "reset",
    "truncate",
    "operation_of",
    "parse_rule",
]

log = logging.getLogger("fault_proxy")

# Headers that describe one hop, not the message: never relayed as received.
_HOP_BY_HOP = frozenset(["connection", "keep-alive", "transfer-encoding", "proxy-connection"])

# How long reset() waits for the client to acknowledge the bytes it sent
# before the RST, which would otherwise discard what is still in flight.
_RESET_DRAIN_SECONDS = 1.0


# ------------------------------------------------------------ operations


# S3 sub-resources named in a query: what the operation names call them.
_S3_SUBRESOURCES = {
    "acl": "Acl",
    "cors": "Cors",
    "encryption": "Encryption",
    "lifecycle": "LifecycleConfiguration",
    "location": "Location",
    "logging": "Logging",
    "notification": "NotificationConfiguration",
    "policy": "Policy",
    "replication": "Replication",
    "tagging": "Tagging",
    "versioning": "Versioning",
    "website": "Website",
}


def operation_of(method, path, headers):
    """The operation a request calls: the X-Amz-Target's last part for the
    JSON protocols, else the S3 REST operation (see the module docstring).
    `headers` is any mapping of header names to values."""
    lowered = {name.lower(): value for name, value in headers.items()}
    target = lowered.get("x-amz-target")
    if target:
        return target.rpartition(".")[2]
    return _s3_operation(method.upper(), path, "x-amz-copy-source" in lowered)


def _s3_operation(method, path, copy_source):
    url_path, _, query = path.partition("?")
    params = [name for name, _ in urllib.parse.parse_qsl(query, keep_blank_values=True)]
    bucket, _, key = url_path.lstrip("/").partition("/")
    sub = next((_S3_SUBRESOURCES[p] for p in params if p in _S3_SUBRESOURCES), None)
    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)

    if not bucket:
        return "ListBuckets" if method == "GET" else method
    if key:
        if sub and verb:
            return f"{verb}Object{sub}"
        if method == "PUT":
            if "uploadId" in params and "partNumber" in params:
                return "UploadPartCopy" if copy_source else "UploadPart"
            return "CopyObject" if copy_source else "PutObject"
        if method == "GET":
            return "ListParts" if "uploadId" in params else "GetObject"
        if method == "HEAD":
            return "HeadObject"
        if method == "DELETE":
            return "AbortMultipartUpload" if "uploadId" in params else "DeleteObject"
        if method == "POST":
            if "uploads" in params:
                return "CreateMultipartUpload"
            if "uploadId" in params:
                return "CompleteMultipartUpload"
            if "restore" in params:
                return "RestoreObject"
            if "select" in params:
                return "SelectObjectContent"
        return method
    if sub and verb:
        return f"{verb}Bucket{sub}"
    if method == "GET":
        if "list-type" in params:
            return "ListObjectsV2"
        if "uploads" in params:
            return "ListMultipartUploads"
        if "versions" in params:
            return "ListObjectVersions"
        return "ListObjects"
    if method == "PUT":
        return "CreateBucket"
    if method == "HEAD":
        return "HeadBucket"
    if method == "DELETE":
        return "DeleteBucket"
    if method == "POST" and "delete" in params:
        return "DeleteObjects"
    return method


class Request:
    """A client's request as the rules see it."""

    def __init__(self, method, path, headers, body, chunked=False):
        self.method = method
        self.path = path  # the request target as sent, query included
        self.headers = headers  # http.client.HTTPMessage (case-insensitive get)
        self.body = body
        self.chunked = chunked  # the body came with Transfer-Encoding: chunked
        self.target = headers.get("X-Amz-Target")
        self.operation = operation_of(method, path, headers)

    @property
    def url_path(self):
        return self.path.partition("?")[0]

    @property
    def query(self):
        return urllib.parse.parse_qs(self.path.partition("?")[2], keep_blank_values=True)

    def json(self):
        """The body parsed as JSON ({} when empty)."""
        return json.loads(self.body) if self.body else {}

    def __repr__(self):
        return f"<Request {self.method} {self.path} {self.operation}>"


# ------------------------------------------------------------- responses


class Response:
    """An answer to send: status, reason, headers as (name, value) pairs in
    order, and body. `bodyless` answers (to HEAD; 1xx, 204, 304) send no
    body whatever their Content-Length says."""

    def __init__(self, status, reason, headers, body=b"", bodyless=False):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = b"" if bodyless else body
        self.bodyless = bodyless

    @classmethod
    def make(cls, request, status, body=b"", content_type=None, headers=()):
        """An answer of the proxy's own making, with a Content-Length."""
        fields = list(headers)
        if content_type and body:
            fields.append(("Content-Type", content_type))
        fields.append(("Content-Length", str(len(body))))
        bodyless = _bodyless(request.method, status)
        return cls(status, _reason(status), fields, body, bodyless)

    def encode(self, close=False, http10=False):
        """(head, body) as bytes. `close` adds Connection: close; an HTTP/1.0
        client that is kept alive is told so."""
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if close:
            lines.append("Connection: close")
        elif http10:
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head, self.body


def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _bodyless(method, status):
    return method == "HEAD" or 100 <= status < 200 or status in (204, 304)


# --------------------------------------------------------------- actions


class Action:
    """What a firing rule does. apply(exchange) answers the request through
    the exchange (see _Exchange): forward(), send(response), close(),
    send_and_close(data), write(data), reset(data), sleep(seconds)."""

    def apply(self, exchange):
        raise NotImplementedError


class AwsError(Action):
    def __init__(self, code, status=400, message=None):
        self.code = code
        self.status = int(status)
        self.message = message

    def apply(self, exchange):
        exchange.send(self.response(exchange.request))

    def response(self, request):
        message = self.message or f"{self.code} (injected fault)"
        request_id = str(uuid.uuid4())
        if request.target:
            content_type = request.headers.get("Content-Type", "")
            if not content_type.startswith("application/x-amz-json-"):
                version = "1.0" if request.target.startswith("DynamoDB") else "1.1"
                content_type = f"application/x-amz-json-{version}"
            body = json.dumps({"__type": self.code, "message": message}).encode()
            return Response.make(request, self.status, body, content_type,
                                 [("x-amzn-RequestId", request_id)])
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{xml_escape(self.code)}</Code>"
            f"<Message>{xml_escape(message)}</Message>"
            f"<Resource>{xml_escape(request.url_path)}</Resource>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        return Response.make(request, self.status, body, "application/xml",
                             [("x-amz-request-id", request_id)])

    def __repr__(self):
        return f"aws_error({self.code!r}, {self.status})"


class HttpStatus(Action):
    def __init__(self, status, body=b""):
        self.status = int(status)
        self.body = body.encode() if isinstance(body, str) else bytes(body)

    def apply(self, exchange):
        exchange.send(Response.make(exchange.request, self.status, self.body,
                                    "text/plain; charset=utf-8"))

    def __repr__(self):
        return f"http_status({self.status})"


class Delay(Action):
    def __init__(self, seconds, then=None, forward_first=False):
        if seconds < 0:
            raise ValueError("delay: seconds must not be negative")
        if then is not None and not isinstance(then, Action):
            raise TypeError("delay: `then` must be an action")
        self.seconds = float(seconds)
        self.then = then
        self.forward_first = forward_first

    def apply(self, exchange):
        if self.forward_first:
            exchange.forward()
        if not exchange.sleep(self.seconds):
            exchange.close()  # the proxy is stopping
        elif self.then is not None:
            self.then.apply(exchange)
        else:
            exchange.send(exchange.forward())

    def __repr__(self):
        extra = f", then={self.then!r}" if self.then is not None else ""
        extra += ", forward_first=True" if self.forward_first else ""
        return f"delay({self.seconds}{extra})"


class Drop(Action):
    def __init__(self, forward=False):
        self.forward = forward

    def apply(self, exchange):
        if self.forward:
            exchange.forward()
        exchange.close()

    def __repr__(self):
        return f"drop(forward={self.forward})"


class Reset(Action):
    def __init__(self, after_bytes=0):
        if after_bytes < 0:
            raise ValueError("reset: after_bytes must not be negative")
        self.after_bytes = int(after_bytes)

    def apply(self, exchange):
        head, body = exchange.encode(exchange.forward())
        exchange.reset((head + body)[: self.after_bytes])

    def __repr__(self):
        return f"reset({self.after_bytes})"


class Truncate(Action):
    def __init__(self, keep_bytes):
        if keep_bytes < 0:
            raise ValueError("truncate: keep_bytes must not be negative")
        self.keep_bytes = int(keep_bytes)

    def apply(self, exchange):
        head, body = exchange.encode(exchange.forward())
        exchange.send_and_close(head + body[: self.keep_bytes])

    def __repr__(self):
        return f"truncate({self.keep_bytes})"


def aws_error(code, status=400, message=None):
    """Answer with the AWS error `code` in the service's format."""
    return AwsError(code, status, message)


def http_status(status, body=b""):
    """Answer with a bare HTTP status."""
    return HttpStatus(status, body)


def delay(seconds, then=None, forward_first=False):
    """Wait, then forward (or apply `then`)."""
    return Delay(seconds, then, forward_first)


def drop(forward=False):
    """Close the connection without an answer (after forwarding, if asked)."""
    return Drop(forward)


def reset(after_bytes=0):
    """Forward, send `after_bytes` bytes of the answer, then RST."""
    return Reset(after_bytes)


def truncate(keep_bytes):
    """Forward, send the headers and `keep_bytes` bytes of the body, close."""
    return Truncate(keep_bytes)


# ----------------------------------------------------------------- rules


class Rule:
    """When to inject which fault; see the module docstring."""

    def __init__(self, match, action, times=None, probability=1.0, after=0):
        if not (callable(match) or isinstance(match, str)):
            raise TypeError("match must be an operation name, '*' or a callable")
        if not isinstance(action, Action):
            raise TypeError("action must be an Action (aws_error(...), delay(...), ...)")
        if times is not None and times < 0:
            raise ValueError("times must be None or >= 0")
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if after < 0:
            raise ValueError("after must be >= 0")
        self.match = match
        self.action = action
        self.times = times
        self.probability = float(probability)
        self.after = int(after)
        self.hits = 0
        self.matched = 0
        self._fired = threading.Condition()

    def matches(self, request):
        if callable(self.match):
            return bool(self.match(request))
        return self.match in ("*", request.operation) or self.match == request.target

    def wait(self, hits=1, timeout=30.0):
        """Waits until the rule has fired `hits` times; False on timeout."""
        with self._fired:
            return self._fired.wait_for(lambda: self.hits >= hits, timeout)

    def _fire(self):
        with self._fired:
            self.hits += 1
            self._fired.notify_all()

    def __repr__(self):
        if callable(self.match):
            match = getattr(self.match, "__name__", "callable")
        else:
            match = repr(self.match)
        return (f"Rule({match}, {self.action!r}, times={self.times}, "
                f"probability={self.probability}, after={self.after})")


# ----------------------------------------------------------------- server


class _Exchange:
    """One request on its way through the proxy: what actions work with."""

    def __init__(self, handler, request):
        self._handler = handler
        self._proxy = handler.server.proxy
        self.request = request
        self._response = None

    def forward(self):
        """The upstream's answer (or the proxy's 502/504), fetched once."""
        if self._response is None:
            self._response = self._proxy._forward(self.request)
        return self._response

    def encode(self, response):
        return response.encode(close=self._handler.close_connection, http10=self._http10())

    def send(self, response):
        """Sends the whole answer; the connection stays open unless the
        client asked to close it."""
        head, body = self.encode(response)
        self._handler.wfile.write(head + body)

    def close(self):
        """Closes the connection (FIN) once the exchange is over."""
        self._handler.close_connection = True

    def send_and_close(self, data):
        self._handler.wfile.write(data)
        self.close()

    def write(self, data):
        """Sends `data` now, as a part of an answer (a trickle of it, say)."""
        self._handler.wfile.write(data)
        self._handler.wfile.flush()

    def reset(self, data=b""):
        """Sends `data`, lets the client receive it, and aborts with RST."""
        handler = self._handler
        sock = handler.connection
        if data:
            sock.sendall(data)
            _drain(sock, _RESET_DRAIN_SECONDS)
        handler.close_connection = True
        # The handler's files hold references to the socket: close them so
        # that close() below releases the descriptor now. With SO_LINGER 0
        # that sends RST instead of FIN.
        handler.rfile.close()
        handler.wfile.close()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def sleep(self, seconds):
        """Waits; False when the proxy is stopped meanwhile."""
        return not self._proxy._stopping.wait(seconds)

    def _http10(self):
        return self._handler.request_version == "HTTP/1.0"


def _drain(sock, timeout):
    """Waits until the peer has acknowledged everything sent on `sock`
    (Linux's SIOCOUTQ reaches 0), at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    buf = bytearray(4)
    while time.monotonic() < deadline:
        try:
            fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, buf)
        except OSError:
            return
        if struct.unpack("i", buf)[0] == 0:
            return
        time.sleep(0.001)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.proxy._opened(self.connection)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.proxy._closed(self.connection)

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(http.HTTPStatus.REQUEST_URI_TOO_LONG)
                self.close_connection = True
                return
            if not self.parse_request():
                return  # parse_request has answered
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            body = self._read_chunked() if chunked else self._read_body()
            request = Request(self.command, self.path, self.headers, body, chunked)
            self.server.proxy._handle(_Exchange(self, request))
        except (OSError, ValueError, http.client.HTTPException) as e:
            # The client went away, or sent something we cannot forward.
            log.debug("connection from %s ends: %r", self.client_address, e)
            self.close_connection = True

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        n = int(length)
        if n < 0:
            raise ValueError("negative Content-Length")
        body = self.rfile.read(n)
        if len(body) != n:
            raise ConnectionError("the client closed the connection in the body")
        return body

    def _read_chunked(self):
        parts = []
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ConnectionError("the client closed the connection in the body")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.read(2) != b"\r\n":
                raise ValueError("malformed chunk")
            parts.append(data)
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # trailers: not forwarded
        return b"".join(parts)

    def log_message(self, format, *args):
        log.debug("%s - %s", self.address_string(), format % args)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() shuts the connections down instead
    request_queue_size = 128

    def server_bind(self):
        # HTTPServer's own looks the host name up, which can be slow.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        # Clients going away are handled where they happen; what arrives
        # here is a fault of the proxy's own and must not pass unseen.
        log.warning("error serving %s", client_address, exc_info=True)


class FaultProxy:
    """The proxy; see the module docstring."""

    def __init__(self, upstream, port=0, seed=None, upstream_timeout=60.0):
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/") \
                or parts.query:
            raise ValueError(f"upstream must be http://HOST:PORT, not {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self._upstream_host = parts.hostname
        self._upstream_port = parts.port or 80
        self.upstream_timeout = upstream_timeout
        self.host = "127.0.0.1"
        self._port = port
        self._lock = threading.RLock()
        self._rules = []
        self._counts = {}
        self._seed = seed
        self._random = random.Random(seed)
        self._connections = set()
        self._accepted = 0
        self._server = None
        self._thread = None
        self._stopping = threading.Event()

    # -- lifecycle

    def start(self):
        if self._server is not None:
            raise RuntimeError("the proxy is already running")
        self._stopping.clear()
        server = _Server((self.host, self._port), _Handler)
        server.proxy = self
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                                        name=f"fault-proxy-{self._port}", daemon=True)
        self._thread.start()
        log.debug("listening on %s for %s", self.endpoint, self.upstream)
        return self

    def stop(self):
        """Stops listening and shuts down every client connection."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        self._thread.join()
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._port

    @property
    def endpoint(self):
        if not self._port:
            raise RuntimeError("the proxy has not been started")
        return f"http://{self.host}:{self._port}"

    # -- rules and counts

    def add(self, rule):
        if not isinstance(rule, Rule):
            raise TypeError("add() takes a Rule")
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule):
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def clear(self):
        with self._lock:
            self._rules.clear()

    @property
    def rules(self):
        with self._lock:
            return list(self._rules)

    def snapshot(self):
        """{operation: requests received}, a copy."""
        with self._lock:
            return dict(self._counts)

    counts = property(snapshot)

    def reset_counts(self):
        with self._lock:
            self._counts.clear()

    @property
    def connections(self):
        with self._lock:
            return self._accepted

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, value):
        with self._lock:
            self._seed = value
            self._random.seed(value)

    # -- serving

    def _opened(self, sock):
        with self._lock:
            self._connections.add(sock)
            self._accepted += 1

    def _closed(self, sock):
        with self._lock:
            self._connections.discard(sock)

    def _choose(self, request):
        """Counts the request and returns the rule that fires on it, if any."""
        with self._lock:
            self._counts[request.operation] = self._counts.get(request.operation, 0) + 1
            for rule in self._rules:
                try:
                    if not rule.matches(request):
                        continue
                except Exception:
                    log.exception("the match of %r failed on %r", rule, request)
                    continue
                rule.matched += 1
                if rule.matched <= rule.after:
                    continue
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                rule._fire()
                return rule
        return None

    def _handle(self, exchange):
        request = exchange.request
        rule = self._choose(request)
        if rule is None:
            exchange.send(exchange.forward())
            return
        log.info("fault: %s %s (%s) -> %r, hit %d", request.method, request.path,
                 request.operation, rule.action, rule.hits)
        rule.action.apply(exchange)

    def _forward(self, request):
        """Sends the request upstream as it came; the answer to relay."""
        conn = http.client.HTTPConnection(self._upstream_host, self._upstream_port,
                                          timeout=self.upstream_timeout)
        try:
            conn.putrequest(request.method, request.path, skip_host=True,
                            skip_accept_encoding=True)
            for name, value in request.headers.items():
                conn.putheader(name, value)
            body = request.body if (request.body or request.chunked) else None
            conn.endheaders(body, encode_chunked=request.chunked)
            upstream = conn.getresponse()
            body = upstream.read()
        except TimeoutError as e:
            return self._upstream_error(request, 504, e)
        except (OSError, http.client.HTTPException) as e:
            return self._upstream_error(request, 502, e)
        finally:
            conn.close()
        bodyless = _bodyless(request.method, upstream.status)
        headers = []
        for name, value in upstream.getheaders():
            lower = name.lower()
            if lower in _HOP_BY_HOP or (lower == "content-length" and not bodyless):
                continue
            headers.append((name, value))
        if not bodyless:
            headers.append(("Content-Length", str(len(body))))
        log.debug("forwarded %s %s: %d", request.method, request.path, upstream.status)
        return Response(upstream.status, upstream.reason, headers, body, bodyless)

    def _upstream_error(self, request, status, error):
        log.info("upstream %s failed on %s %s: %r", self.upstream, request.method,
                 request.path, error)
        body = f"fault proxy: upstream {self.upstream} failed: {error!r}\n".encode()
        return Response.make(request, status, body, "text/plain; charset=utf-8",
                             [("X-Fault-Proxy", "upstream-error")])


# ------------------------------------------------------------ command line


def _parse_action(tokens):
    if not tokens or not tokens[0]:
        raise ValueError("no action")
    name, args = tokens[0], tokens[1:]

    def want(low, high):
        if not low <= len(args) <= high:
            raise ValueError(f"{name}: {low}..{high} arguments expected, not {len(args)}")

    if name == "aws_error":
        if not args:
            raise ValueError("aws_error: an error code is expected")
        status = int(args[1]) if len(args) > 1 else 400
        message = ":".join(args[2:]) or None
        return aws_error(args[0], status, message)
    if name == "http_status":
        want(1, 1)
        return http_status(int(args[0]))
    if name == "delay":
        if not args:
            raise ValueError("delay: seconds expected")
        rest = args[1:]
        forward_first = bool(rest) and rest[0] == "forward_first"
        if forward_first:
            rest = rest[1:]
        then = _parse_action(rest) if rest else None
        return delay(float(args[0]), then, forward_first)
    if name == "drop":
        want(0, 1)
        if args and args[0] not in ("forward", "noforward"):
            raise ValueError("drop: the argument is 'forward' or nothing")
        return drop(forward=bool(args) and args[0] == "forward")
    if name == "reset":
        want(0, 1)
        return reset(int(args[0]) if args else 0)
    if name == "truncate":
        want(1, 1)
        return truncate(int(args[0]))
    raise ValueError(f"unknown action {name!r}")


def parse_rule(text):
    """A Rule from OPERATION:ACTION[:ARGS][,times=N][,p=P][,after=N]."""
    head, *options = text.split(",")
    operation, sep, action = head.partition(":")
    if not operation or not sep:
        raise ValueError(f"{text!r}: OPERATION:ACTION expected")
    kwargs = {}
    for option in options:
        key, eq, value = option.partition("=")
        key = key.strip()
        if not eq:
            raise ValueError(f"{text!r}: option {option!r} is not NAME=VALUE")
        if key == "times":
            kwargs["times"] = int(value)
        elif key in ("p", "probability"):
            kwargs["probability"] = float(value)
        elif key == "after":
            kwargs["after"] = int(value)
        else:
            raise ValueError(f"{text!r}: unknown option {key!r}")
    return Rule(operation, _parse_action(action.split(":")), **kwargs)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Fault-injecting HTTP proxy for tests; rule syntax in the module docstring.")
    parser.add_argument("--upstream", required=True, help="http://HOST:PORT of the stand-in")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: free)")
    parser.add_argument("--seed", type=int, default=None, help="seed for rule probabilities")
    parser.add_argument("--rule", action="append", default=[],
                        help="OPERATION:ACTION[:ARGS][,times=N][,p=P][,after=N]")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log fired faults to stderr (-vv: every request)")
    args = parser.parse_args(argv)
    try:
        rules = [parse_rule(text) for text in args.rule]
        proxy = FaultProxy(args.upstream, port=args.port, seed=args.seed)
    except (ValueError, TypeError) as e:
        parser.error(str(e))
    if args.verbose:
        logging.basicConfig(stream=sys.stderr, format="%(asctime)s fault-proxy: %(message)s",
                            level=logging.DEBUG if args.verbose > 1 else logging.INFO)
    for rule in rules:
        proxy.add(rule)

    # Block the signals before any thread starts (threads inherit the mask)
    # and take them with sigwait: no handler runs in the middle of anything.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    proxy.start()
    print(proxy.endpoint, flush=True)
    signal.sigwait(stop_signals)
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
