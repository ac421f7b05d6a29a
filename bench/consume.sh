#!/usr/bin/env bash
# Throughput of one `kinesis-connect run --once` over a large synthetic stream
# in the local Kinesis stand-in, into envelope files.
#
#   bench/consume.sh [RECORDS] [SIZE] [SHARDS]     (defaults 100000 1024 4)
#
# Prints records/s, MB/s, CPU seconds and peak memory of the connector. The
# stand-in itself (kinesalite, about 14k records/s out) is usually the limit
# here; the CPU seconds per GB are the connector's own cost.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
size=${2:-1024}
shards=${3:-4}

scripts/install-deps >/dev/null
scripts/build kinesis-connect kc_produce >/dev/null
# shellcheck source=../scripts/lib/services.sh
source scripts/lib/services.sh
work=$(mktemp -d -t kc-bench-XXXXXX)
cleanup() {
  kc_stop_services "$work" || true
  rm -rf "$work"
}
trap cleanup EXIT
KC_STANDIN_VERIFY=0 kc_start_kinesalite "$work"
export AWS_ACCESS_KEY_ID=kc-test-key AWS_SECRET_ACCESS_KEY=kc-test-secret AWS_REGION=us-east-1

build/bench/kc_produce --create "$shards" bench "$records" "$size" "$KC_KINESIS_ENDPOINT" >&2

cat >"$work/bench.toml" <<TOML
[aws]
region = "us-east-1"
endpoint = "$KC_KINESIS_ENDPOINT"
[checkpoint]
path = "$work/state"
[[pipeline]]
name = "bench"
stream = "bench"
[pipeline.buffer]
max_records = 10000
max_bytes = "16MiB"
max_age = "30s"
[pipeline.emitter]
type = "file"
directory = "$work/out"
format = "envelope"
TOML

/usr/bin/time -f '%e %U %S %M' -o "$work/time" build/kinesis-connect run -c "$work/bench.toml" --once 2>"$work/log" || {
  tail -n 20 "$work/log" >&2
  exit 1
}
read -r wall user sys rss_kb <"$work/time"
delivered=$(find "$work/out" -type f -exec cat {} + | wc -l)
python3 - "$records" "$size" "$shards" "$delivered" "$wall" "$user" "$sys" "$rss_kb" <<'PY'
import sys
records, size, shards, delivered = map(int, sys.argv[1:5])
wall, user, sys_, rss_kb = float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
mb = records * size / 1e6
cpu = user + sys_
print(f"records:        {records} x {size} B over {shards} shards ({mb:.1f} MB); delivered {delivered}")
print(f"wall time:      {wall:.2f} s")
print(f"records/s:      {records / wall:,.0f}")
print(f"MB/s:           {mb / wall:.2f}")
print(f"CPU seconds:    {cpu:.2f} (user {user:.2f}, system {sys_:.2f}); {cpu / (mb / 1000):.1f} CPU s per GB")
print(f"peak memory:    {rss_kb / 1024:.1f} MiB")
if delivered != records:
    sys.exit(f"expected {records} records, delivered {delivered}")
PY
