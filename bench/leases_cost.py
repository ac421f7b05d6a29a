#!/usr/bin/env python3
"""What leases cost in DynamoDB calls: N kinesis-connect workers sharing one
stream of S shards, each worker's calls to the lease table counted.

    bench/leases_cost.py [--build DIR] [--shards 200] [--workers 3]
                         [--failover 10s] [--seconds 60]

The stream is bench/fast_kinesis (S open shards, a few records each), the
lease table lives in dynalite (started here with scripts/lib/services.sh),
and each worker reaches it through a fault proxy of its own
(tests/faults/fault_proxy.py, no faults), which counts the calls by
operation. Once every lease is held, the spread has stopped changing and
every record is in the files, the counts are reset and read again after
--seconds. Printed per worker: the
leases it holds, its calls per second by operation, and what renewals alone
require (the leases held, renewed every third of the failover time) plus
one listing (Scan) per round. Exits non-zero if the workers never settle.
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "faults"))
from fault_proxy import FaultProxy  # noqa: E402

SECRET = os.environ.get("KC_STANDIN_SECRET", "kc-test-secret")


def seconds_of(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)", text)
    if not m:
        raise SystemExit(f"leases_cost: --failover takes a duration such as 10s or 3000ms: {text}")
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)


def env():
    e = dict(os.environ)
    e.update(AWS_ACCESS_KEY_ID="kc-test", AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
             AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="")
    e.pop("AWS_PROFILE", None)
    return e


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--shards", type=int, default=200)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--failover", default="10s")
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    failover = seconds_of(args.failover)
    binary = os.path.join(args.build, "kinesis-connect")
    source = os.path.join(args.build, "bench", "fast_kinesis")
    for path in (binary, source):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"leases_cost: {path} is missing; build first (scripts/build)")

    work = tempfile.mkdtemp(prefix="kc-leases-cost-")
    procs = []
    proxies = []
    services = None
    try:
        # dynalite, kept running by a shell that stops it when told to.
        services = subprocess.Popen(
            ["bash", "-c", 'source scripts/lib/services.sh && kc_start_dynalite "$1" >&2 && '
             'trap "kc_stop_services \\"$1\\"" EXIT TERM && echo "$KC_DYNAMODB_ENDPOINT" && '
             'read -r _', "_", os.path.join(work, "services")],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        dynalite = services.stdout.readline().strip()
        if not dynalite.startswith("http://"):
            raise SystemExit("leases_cost: dynalite did not start")
        kinesis = subprocess.Popen([source, "--shards", str(args.shards), "--records",
                                    str(args.shards * 20), "--size", "100", "--stream", "cost"],
                                   stdout=subprocess.PIPE, text=True)
        procs.append(kinesis)
        ready = kinesis.stdout.readline()
        port = re.search(r"port=(\d+)", ready).group(1)

        table = "kc-cost-files"
        names = [f"w{i + 1}" for i in range(args.workers)]
        for name in names:
            proxy = FaultProxy(upstream=dynalite)
            proxy.start()
            proxies.append(proxy)
            d = os.path.join(work, name)
            os.makedirs(d)
            config = os.path.join(d, "connect.toml")
            with open(config, "w") as f:
                f.write(f"""
[aws]
region = "us-east-1"
endpoint = "http://127.0.0.1:{port}"
[aws.endpoints]
dynamodb = "{proxy.endpoint}"

[checkpoint]
store = "dynamodb"
app = "kc-cost"

[leases]
worker_id = "{name}"
failover_time = "{args.failover}"

[[pipeline]]
name = "files"
stream = "cost"
start_at = "trim_horizon"

[pipeline.emitter]
type = "file"
directory = "{os.path.join(work, "out")}"
""")
            log = open(os.path.join(d, "connect.log"), "w")
            procs.append(subprocess.Popen([binary, "run", "-c", config], env=env(), stdout=log,
                                          stderr=log))

        def spread():
            out = subprocess.run(["aws", "--endpoint-url", dynalite, "--output", "json", "dynamodb",
                                  "scan", "--table-name", table, "--consistent-read"], env=env(),
                                 capture_output=True, text=True, timeout=120)
            if out.returncode != 0:
                return {}
            items = json.loads(out.stdout)["Items"]
            return collections.Counter(i.get("leaseOwner", {}).get("S") for i in items)

        def delivered():
            n = 0
            for dirpath, _, files in os.walk(os.path.join(work, "out")):
                for name in files:
                    if not name.startswith("."):
                        with open(os.path.join(dirpath, name), "rb") as f:
                            n += f.read().count(b"\n")
            return n

        # Measured once every record was delivered (its checkpoints saved):
        # what remains is what idle, caught-up shards cost.
        started = time.monotonic()
        settled, last = None, None
        while time.monotonic() - started < 30 * failover + 120:
            now = spread()
            if (sum(now.values()) == args.shards and None not in now and len(now) == args.workers
                    and max(now.values()) - min(now.values()) <= 1 and now == last
                    and delivered() >= args.shards * 20):
                settled = now
                break
            last = now
            time.sleep(max(failover, 2))
        if not settled:
            raise SystemExit(f"leases_cost: the workers did not settle: {dict(last or {})}")
        print(f"{args.shards} shards, {args.workers} workers, failover_time {args.failover}: "
              f"settled after {time.monotonic() - started:.0f}s at {dict(sorted(settled.items()))}")
        for p in proxies:
            p.reset_counts()
        time.sleep(args.seconds)
        counts = [p.snapshot() for p in proxies]
        for p in procs[1:]:
            if p.poll() is not None:
                raise SystemExit("leases_cost: a worker exited during the measurement")
        print(f"DynamoDB calls per second per worker, over {args.seconds:g}s:")
        for name, c in zip(names, counts):
            total = sum(c.values())
            ops = ", ".join(f"{op} {n / args.seconds:.2f}" for op, n in sorted(c.items()))
            held = settled[name]
            need = held / (failover / 3) + 1 / min(failover / 10, 1.0)
            print(f"  {name}: {held} leases, {total / args.seconds:.2f} calls/s ({ops}); "
                  f"renewals and one listing a round need {need:.2f}/s")
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        for p in proxies:
            p.stop()
        if services is not None and services.poll() is None:
            services.stdin.write("\n")
            services.stdin.flush()
            services.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
