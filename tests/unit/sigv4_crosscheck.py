#!/usr/bin/python3
"""Cross-checks kc's SigV4 signer against botocore, an independent signer.

Generates a few hundred requests that vary everything the signature depends
on (methods, hosts and ports, paths with spaces, unicode, reserved characters
and dot segments, query strings with repeated names, empty values and
unusual but legal spellings, header values with stray blanks, repeated
headers, binary bodies, session tokens, Kinesis/DynamoDB/S3/query-service
modes), signs each with botocore's SigV4Auth or S3SigV4Auth at a fixed time,
runs sigv4_tool on the same requests, and fails on any difference, showing
the two canonical requests side by side.

Given --cases, it also signs the request of every known-answer case folder
(tests/data/sigv4/, described in the README there) with botocore and fails
unless botocore's canonical request, string to sign and Authorization header
are the ones the folder expects: the data that sigv4_test holds our signer
to is checked against an independent signer too.

Usage: sigv4_crosscheck.py --tool PATH/TO/sigv4_tool [--cases DIR] [--count N] [--seed S]
Exits 77 (the CTest skip code) when botocore is not installed.
"""

import argparse
import base64
import calendar
import datetime
import difflib
import json
import os
import random
import re
import string
import subprocess
import sys
import time
from unittest import mock
from urllib.parse import quote, unquote_to_bytes

try:
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
except ImportError:
    print("botocore is not installed (Debian: python3-botocore); skipping")
    sys.exit(77)

UNRESERVED = set(string.ascii_letters + string.digits + "-_.~")
# Legal unencoded in a URL query (RFC 3986 pchar / "/" / "?") besides the
# unreserved set, except '&', '=' and '+', which would change the meaning.
QUERY_RAW_OK = set("!$'()*,;:@/?")
# Legal unencoded in a path segment besides the unreserved set.
PATH_RAW_OK = set("!$&'()*+,;=:@")

# Characters that make encodings interesting. No characters Python's
# str.split() counts as whitespace beyond ' ' and '\t' (NBSP and friends),
# since botocore collapses those in header values and SigV4 does not.
TRICKY = " /?#[]@!$&'()*+,;=%:~-._\"<>\\^`{|}" + "é€ሴ日本😀"


def rand_text(rng, alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def rand_word(rng, lo=1, hi=10):
    pool = string.ascii_letters + string.digits + "-_.~" + TRICKY
    return rand_text(rng, pool, lo, hi)


def pct(byte, rng):
    h = "%02X" % byte
    return "%" + (h.lower() if rng.random() < 0.3 else h)


def variant_encode(text, rng, raw_ok):
    """Percent-encodes `text` in a legal but not canonical way: some
    unreserved characters escaped, some legal characters left raw, hex
    digits in either case."""
    out = []
    for ch in text:
        data = ch.encode("utf-8")
        if ch in UNRESERVED:
            out.append(pct(data[0], rng) if rng.random() < 0.15 else ch)
        elif ch in raw_ok and rng.random() < 0.5:
            out.append(ch)
        else:
            out.append("".join(pct(b, rng) for b in data))
    return "".join(out)


def canonical_encode(text):
    return quote(text, safe="-_.~")


def make_path(rng, mode):
    """Returns the path as it goes on the wire (already encoded)."""
    if mode in ("kinesis", "dynamodb") and rng.random() < 0.7:
        return "/"
    if mode == "s3":
        # An S3 client encodes the key once with '/' kept (UriEncode with
        # encode_slash=false); S3 signs it exactly as sent.
        parts = []
        for _ in range(rng.randint(1, 5)):
            r = rng.random()
            if r < 0.1:
                parts.append("")
            elif r < 0.15:
                parts.append(rng.choice([".", ".."]))
            else:
                parts.append(rand_word(rng))
        key = "/".join(parts)
        path = "/" + quote(key, safe="/~")
        if rng.random() < 0.3:
            path = "/bucket-" + rand_text(rng, string.ascii_lowercase, 3, 8) + path
        return path
    segments = []
    for _ in range(rng.randint(0, 6)):
        r = rng.random()
        if r < 0.1:
            segments.append("")
        elif r < 0.2:
            segments.append(rng.choice([".", ".."]))
        elif r < 0.25:
            # A '%' that starts no escape: encoded like any other byte.
            segments.append("%zz" + variant_encode(rand_word(rng, 0, 3), rng, PATH_RAW_OK))
        else:
            segments.append(variant_encode(rand_word(rng), rng, PATH_RAW_OK))
    path = "/" + "/".join(segments)
    if rng.random() < 0.2:
        path += "/"
    if rng.random() < 0.05:
        path = "/" + path
    return path


def make_query(rng):
    """Returns (query for botocore in canonical spelling, query for the tool
    in a variant spelling), or ("", "")."""
    if rng.random() < 0.35:
        return "", ""
    names = [rand_word(rng) for _ in range(rng.randint(1, 4))]
    params = []
    for _ in range(rng.randint(1, 7)):
        name = rng.choice(names)  # repeats on purpose
        r = rng.random()
        if r < 0.15:
            params.append((name, None))  # "?flag"
        elif r < 0.3:
            params.append((name, ""))  # "?empty="
        else:
            params.append((name, rand_word(rng, 0, 12)))
    canonical = "&".join(canonical_encode(n) + "=" + canonical_encode(v or "") for n, v in params)
    variant = []
    for n, v in params:
        piece = variant_encode(n, rng, QUERY_RAW_OK - {"="})
        if v is not None:
            piece += "=" + variant_encode(v, rng, QUERY_RAW_OK | {"="})
        variant.append(piece)
    return canonical, "&".join(variant)


def blanky(rng, value):
    """Adds the blanks that canonicalisation must trim and collapse."""
    words = value.split(" ")
    sep = lambda: rng.choice([" ", "  ", " \t ", "\t", "   "])
    out = sep().join(words) if rng.random() < 0.5 else value
    if rng.random() < 0.3:
        out = rng.choice([" ", "  ", "\t"]) + out
    if rng.random() < 0.3:
        out += rng.choice([" ", "  ", "\t "])
    return out


def make_headers(rng, mode, host):
    headers = []
    if mode in ("kinesis", "dynamodb"):
        version = "1.1" if mode == "kinesis" else "1.0"
        prefix = "Kinesis_20131202" if mode == "kinesis" else "DynamoDB_20120810"
        op = rng.choice(["GetRecords", "PutRecords", "ListShards", "GetItem", "UpdateItem"])
        headers.append(("Content-Type", "application/x-amz-json-" + version))
        headers.append((rng.choice(["X-Amz-Target", "x-amz-target"]), prefix + "." + op))
    pool = [
        "X-Custom", "x-custom", "X-CUSTOM", "My-Header1", "Cache-Control", "Content-Language",
        "X-Amz-Meta-Owner", "x-amz-meta-Note", "Accept", "If-Match", "X-Forwarded-For",
    ]
    if mode == "s3":
        pool += ["Range", "x-amz-storage-class", "Content-MD5", "Content-Disposition"]
    for _ in range(rng.randint(0, 5)):
        name = rng.choice(pool)
        value = rand_text(rng, string.ascii_letters + string.digits + " ,;=/\"'()-_.:", 0, 20)
        if rng.random() < 0.1:
            value += rng.choice(["é", "€", "ሴ", "日本"])
        headers.append((name, blanky(rng, value)))
    if rng.random() < 0.15:
        headers.append((rng.choice(["Host", "host", "HOST"]),
                        rng.choice([host, "proxy.example:8080"])))
    if rng.random() < 0.15:
        headers.append(("User-Agent", "kinesis-connect/0.1 test"))
    if rng.random() < 0.05:
        headers.append(("Expect", "100-continue"))
    if rng.random() < 0.05:
        headers.append(("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793"))
    if rng.random() < 0.05:
        headers.append(("X-Amz-Date", "19990101T000000Z"))  # stale: must be replaced
    if mode != "s3" and rng.random() < 0.05:
        # A caller-provided payload hash is what both sign.
        headers.append(("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"))
    return headers


def make_endpoint(rng, mode, service, region):
    if rng.random() < 0.4:
        if mode == "s3":
            return "https://examplebucket.s3.%s.amazonaws.com" % region
        return "https://%s.%s.amazonaws.com" % (service, region)
    return rng.choice([
        "http://127.0.0.1:4567",
        "http://localhost:4566",
        "https://Mixed.Case.Example.COM:8443",
        "https://host.example:443",
        "http://host.example:80",
        "http://host.example:443",
        "http://[::1]:4566",
        "https://user:pass@proxy.example",
    ])


def make_body(rng, mode):
    r = rng.random()
    if r < 0.2:
        return b""
    if mode in ("kinesis", "dynamodb") or r < 0.5:
        doc = {"StreamName": rand_word(rng), "Data": base64.b64encode(rng.randbytes(20)).decode(),
               "Text": rand_word(rng, 0, 30)}
        return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8")
    return rng.randbytes(rng.randint(1, 300))


def make_request(rng):
    mode = rng.choice(["kinesis", "dynamodb", "s3", "query"])
    service = {"kinesis": "kinesis", "dynamodb": "dynamodb", "s3": "s3"}.get(mode) or rng.choice(
        ["sts", "iam", "monitoring", "execute-api", "es"])
    region = rng.choice(["us-east-1", "us-west-2", "eu-central-1", "ap-southeast-2", "cn-north-1",
                         "us-gov-west-1"])
    endpoint = make_endpoint(rng, mode, service, region)
    if mode in ("kinesis", "dynamodb"):
        method = "POST" if rng.random() < 0.85 else rng.choice(["GET", "PUT"])
    elif mode == "s3":
        method = rng.choice(["GET", "PUT", "HEAD", "DELETE", "POST"])
    else:
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"])
    path = make_path(rng, mode)
    canonical_query, variant_query = make_query(rng)
    host_for_header = endpoint.split("://", 1)[1].split("@")[-1].lower()
    secret = rand_text(rng, string.ascii_letters + string.digits + "/+", 40, 40)
    token = ""
    if rng.random() < 0.4:
        token = rand_text(rng, string.ascii_letters + string.digits + "/+=", 16, 300)
    # Any instant this century, with milliseconds that must be dropped.
    unix_millis = rng.randint(946684800000, 4102444799999)
    return {
        "mode": mode,
        "method": method,
        "url_botocore": endpoint + path + ("?" + canonical_query if canonical_query else ""),
        "url": endpoint + path + ("?" + variant_query if variant_query else ""),
        "headers": make_headers(rng, mode, host_for_header),
        "body": make_body(rng, mode),
        "region": region,
        "service": service,
        "unix_millis": unix_millis,
        "access_key_id": "AKIA" + rand_text(rng, string.ascii_uppercase + string.digits, 16, 16),
        "secret_access_key": secret,
        "session_token": token,
        "s3": mode == "s3",
        "unsigned_payload": mode == "s3" and rng.random() < 0.5,
    }


class _S3Config:
    """Stands in for botocore's client config: only the S3 payload-signing
    switch is read by S3SigV4Auth."""

    def __init__(self, sign_payload):
        self.s3 = {"payload_signing_enabled": sign_payload}


_now = [datetime.datetime(2000, 1, 1)]


class _FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return _now[0]

    @classmethod
    def now(cls, tz=None):
        return _now[0] if tz is None else _now[0].replace(tzinfo=tz)


def botocore_sign(req):
    creds = botocore.credentials.Credentials(
        req["access_key_id"], req["secret_access_key"], req["session_token"] or None)
    request = botocore.awsrequest.AWSRequest(
        method=req["method"], url=req["url_botocore"], data=req["body"])
    for name, value in req["headers"]:
        request.headers[name] = value  # appends: repeated names stay repeated
    if req["s3"]:
        signer = botocore.auth.S3SigV4Auth(creds, req["service"], req["region"])
        request.context["client_config"] = _S3Config(not req["unsigned_payload"])
    else:
        signer = botocore.auth.SigV4Auth(creds, req["service"], req["region"])
    captured = []
    original = signer.canonical_request
    signer.canonical_request = lambda r: captured.append(original(r)) or captured[-1]
    captured_sts = []
    original_sts = signer.string_to_sign
    signer.string_to_sign = (
        lambda r, c: captured_sts.append(original_sts(r, c)) or captured_sts[-1])
    _now[0] = datetime.datetime(1970, 1, 1) + datetime.timedelta(
        milliseconds=req["unix_millis"])
    signer.add_auth(request)
    return {
        "authorization": request.headers["Authorization"],
        "x_amz_content_sha256": request.headers.get("X-Amz-Content-SHA256", "") if req["s3"] else
        None,
        "canonical_request": captured[0],
        "string_to_sign": captured_sts[0],
    }


def tool_line(req):
    return json.dumps({
        "method": req["method"],
        "url": req["url"],
        "headers": [[n, v] for n, v in req["headers"]],
        "body_b64": base64.b64encode(req["body"]).decode(),
        "region": req["region"],
        "service": req["service"],
        "unix_millis": req["unix_millis"],
        "access_key_id": req["access_key_id"],
        "secret_access_key": req["secret_access_key"],
        "session_token": req["session_token"],
        "s3": req["s3"],
        "unsigned_payload": req["unsigned_payload"],
    })


def show_mismatch(index, req, expected, actual):
    print("=" * 78)
    print("request #%d (%s, service %s)" % (index, req["mode"], req["service"]))
    print("  tool input: " + tool_line(dict(req, body=req["body"][:64])))
    print("  botocore url: " + req["url_botocore"])
    if "error" in actual:
        print("  sigv4_tool failed: " + actual["error"])
        return
    print("  expected Authorization: " + expected["authorization"])
    print("  actual   Authorization: " + actual["authorization"])
    if expected["x_amz_content_sha256"] is not None and (
            expected["x_amz_content_sha256"] != actual["x_amz_content_sha256"]):
        print("  x-amz-content-sha256: expected %r, got %r" % (
            expected["x_amz_content_sha256"], actual["x_amz_content_sha256"]))
    diff = difflib.unified_diff(
        expected["canonical_request"].split("\n"), actual["canonical_request"].split("\n"),
        "canonical request (botocore)", "canonical request (kc)", lineterm="")
    print("\n".join(diff) or "  (canonical requests are identical)")


# --- the known-answer case folders -------------------------------------------

CONTEXT_KEYS = ("region", "service", "time", "access-key-id", "secret-access-key",
                "session-token", "options")
REQUIRED_CONTEXT_KEYS = CONTEXT_KEYS[:5]
# The option sets botocore has a signer for: SigV4Auth, and S3SigV4Auth with
# and without payload signing.
BOTOCORE_OPTIONS = {
    frozenset(): (False, False),
    frozenset({"single-encode", "content-sha256"}): (True, False),
    frozenset({"single-encode", "content-sha256", "unsigned-payload"}): (True, True),
}
EXPECTED_FILES = (("canonical_request", "canonical-request.txt"),
                  ("string_to_sign", "string-to-sign.txt"),
                  ("authorization", "authorization.txt"))


class CaseError(Exception):
    """A file of a case folder that is missing or not as the README says."""

    def __init__(self, directory, name, problem):
        super().__init__("%s: %s" % (os.path.join(directory, name), problem))


def read_case_file(directory, name):
    try:
        with open(os.path.join(directory, name), "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise CaseError(directory, name, "missing") from None
    except OSError as e:
        raise CaseError(directory, name, e.strerror) from None


def case_text(directory, name, data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CaseError(directory, name, "not UTF-8 (%s)" % e) from None


def parse_request(directory, data):
    """request.txt: returns (method, url, headers, body)."""
    name = "request.txt"
    head = []
    body = b""
    at = 0
    while at < len(data):
        eol = data.find(b"\n", at)
        line = data[at:] if eol < 0 else data[at:eol]
        at = len(data) if eol < 0 else eol + 1
        if not line:
            body = data[at:]
            break
        head.append(case_text(directory, name, line))
    if not head:
        raise CaseError(directory, name, "no request line")
    for i, line in enumerate(head):
        if "\r" in line:
            raise CaseError(directory, name,
                            "line %d: a carriage return (lines end with LF alone)" % (i + 1))
    line = head[0]
    first, last = line.find(" "), line.rfind(" ")
    if first <= 0 or last <= first + 1 or line[last + 1:] != "HTTP/1.1":
        raise CaseError(directory, name, "line 1: not a request line (METHOD target HTTP/1.1)")
    method, target = line[:first], line[first + 1:last]
    headers = []
    for i, line in enumerate(head[1:], 2):
        header, colon, value = line.partition(":")
        if not colon or not header:
            raise CaseError(directory, name, "line %d: not a header line (Name: value)" % i)
        headers.append((header, value[1:] if value.startswith(" ") else value))
    if target.startswith("/"):
        host = next((v for n, v in headers if n.lower() == "host"), "")
        if not host:
            raise CaseError(directory, name, "line 1: a target that is a path needs a Host header")
        url = "https://" + host + target
    elif "://" in target:
        url = target
    else:
        raise CaseError(directory, name,
                        "line 1: the target is neither a path nor an absolute URL")
    return method, url, headers, body


def parse_context(directory, text):
    """context.txt: returns its keys and values."""
    name = "context.txt"
    context = {}
    for i, line in enumerate(text.split("\n"), 1):
        line = line.strip(" \t")
        if not line or line.startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip(" \t"), value.strip(" \t")
        if not colon:
            raise CaseError(directory, name, 'line %d: not a "key: value" line' % i)
        if key not in CONTEXT_KEYS:
            raise CaseError(directory, name, 'line %d: unknown key "%s"' % (i, key))
        if key in context:
            raise CaseError(directory, name, 'line %d: "%s" a second time' % (i, key))
        context[key] = value
    for key in REQUIRED_CONTEXT_KEYS:
        if key not in context:
            raise CaseError(directory, name, 'no "%s"' % key)
    try:
        if not re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", context["time"]):
            raise ValueError
        when = time.strptime(context["time"], "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise CaseError(directory, name, "the time is not like 20150830T123600Z") from None
    context["unix_millis"] = calendar.timegm(when) * 1000
    return context


def canonical_query_spelling(url):
    """`url` with its query spelled canonically. SigV4 decodes and re-encodes
    each name and value of the query, as our signer does; botocore signs the
    query exactly as the URL spells it (its own serializers spell it so)."""
    base, question, query = url.partition("?")
    if not question:
        return url
    pairs = []
    for piece in query.split("#", 1)[0].split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append(quote(unquote_to_bytes(name), safe="-_.~") + "=" +
                         quote(unquote_to_bytes(value), safe="-_.~"))
    return base + ("?" + "&".join(pairs) if pairs else "")


def read_case(directory):
    """Returns (the request for botocore_sign, the expected values)."""
    method, url, headers, body = parse_request(directory,
                                               read_case_file(directory, "request.txt"))
    context = parse_context(directory, case_text(directory, "context.txt",
                                                 read_case_file(directory, "context.txt")))
    options = frozenset(context.get("options", "").split())
    if options not in BOTOCORE_OPTIONS:
        raise CaseError(directory, "context.txt", "botocore has no signer for the options %r" %
                        context["options"])
    s3, unsigned_payload = BOTOCORE_OPTIONS[options]
    expected = {}
    for key, name in EXPECTED_FILES:
        text = case_text(directory, name, read_case_file(directory, name))
        text = text[:-1] if text.endswith("\n") else text
        if not text:
            raise CaseError(directory, name, "empty")
        expected[key] = text
    request = {
        "mode": "case",
        "method": method,
        "url_botocore": canonical_query_spelling(url),
        "url": url,
        "headers": headers,
        "body": body,
        "region": context["region"],
        "service": context["service"],
        "unix_millis": context["unix_millis"],
        "access_key_id": context["access-key-id"],
        "secret_access_key": context["secret-access-key"],
        "session_token": context.get("session-token", ""),
        "s3": s3,
        "unsigned_payload": unsigned_payload,
    }
    return request, expected


def check_cases(cases_dir):
    """Signs every case folder with botocore; false when one disagrees or
    cannot be read, after printing why."""
    try:
        names = sorted(e.name for e in os.scandir(cases_dir)
                       if e.is_dir() and not e.name.startswith("."))
    except OSError as e:
        print("cannot read the case folders in %s: %s" % (cases_dir, e.strerror))
        return False
    if not names:
        print("no case folders in %s" % cases_dir)
        return False
    bad = []
    for name in names:
        directory = os.path.join(cases_dir, name)
        try:
            request, expected = read_case(directory)
        except CaseError as e:
            print(e)
            bad.append(name)
            continue
        got = botocore_sign(request)
        for key, file_name in EXPECTED_FILES:
            if got[key] == expected[key]:
                continue
            if name not in bad:
                bad.append(name)
            print("case %s: botocore disagrees with %s" % (name, file_name))
            diff = difflib.unified_diff(
                expected[key].split("\n"), got[key].split("\n"),
                os.path.join(directory, file_name), "botocore", lineterm="")
            print("\n".join(diff))
    print("checked %d case folders in %s with botocore" % (len(names), cases_dir))
    if bad:
        print("FAILED: %d of %d case folders cannot be read or disagree with botocore (%s)" %
              (len(bad), len(names), ", ".join(bad)))
        return False
    print("all case folders match botocore")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tool", required=True, help="path to the sigv4_tool executable")
    parser.add_argument("--cases", help="a folder of known-answer case folders (tests/data/sigv4)")
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20150830)
    parser.add_argument("--show", type=int, default=5, help="mismatches to print in full")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    requests = [make_request(rng) for _ in range(args.count)]
    with mock.patch.object(botocore.auth.datetime, "datetime", _FixedDatetime):
        expected = [botocore_sign(r) for r in requests]

    stdin = "".join(tool_line(r) + "\n" for r in requests)
    proc = subprocess.run([args.tool], input=stdin.encode("utf-8"), capture_output=True,
                          check=False)
    if proc.returncode != 0:
        print("sigv4_tool exited with %d:\n%s" % (proc.returncode, proc.stderr.decode()))
        return 1
    actual = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    if len(actual) != len(requests):
        print("sigv4_tool answered %d lines for %d requests" % (len(actual), len(requests)))
        return 1

    bad = []
    for i, (req, want, got) in enumerate(zip(requests, expected, actual)):
        ok = "error" not in got and got["authorization"] == want["authorization"]
        if ok and want["x_amz_content_sha256"] is not None:
            ok = got["x_amz_content_sha256"] == want["x_amz_content_sha256"]
        if not ok:
            bad.append(i)
            if len(bad) <= args.show:
                show_mismatch(i, req, want, got)

    modes = {}
    for r in requests:
        modes[r["mode"]] = modes.get(r["mode"], 0) + 1
    stats = ", ".join("%s %d" % kv for kv in sorted(modes.items()))
    tokens = sum(1 for r in requests if r["session_token"])
    unsigned = sum(1 for r in requests if r["unsigned_payload"])
    print("signed %d requests (%s; %d with a session token, %d S3 UNSIGNED-PAYLOAD), seed %d" %
          (len(requests), stats, tokens, unsigned, args.seed))
    if bad:
        print("FAILED: %d of %d signatures differ from botocore (requests %s)" %
              (len(bad), len(requests), ", ".join(map(str, bad[:40]))))
    else:
        print("all signatures match botocore")

    cases_ok = True
    if args.cases:
        with mock.patch.object(botocore.auth.datetime, "datetime", _FixedDatetime):
            cases_ok = check_cases(args.cases)
    return 0 if not bad and cases_ok else 1


if __name__ == "__main__":
    sys.exit(main())
