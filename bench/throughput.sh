#!/usr/bin/env bash
# Throughput of `kinesis-connect run --once` from a local Kinesis-compatible
# source (bench/fast_kinesis, pre-rendered pages) into files, with default
# buffer settings.
#
#   bench/throughput.sh [--runs N] [--shape a|b|both] [--profile] [--dir DIR]
#                       [--max-records N] [--max-bytes SIZE] [--metrics]
#   bench/throughput.sh --slow-sink MB_PER_S [--seconds N] [--max-bytes SIZE]
#
# Shapes: a = 4 shards x 250,000 records of 1,000 bytes;
#         b = 1 shard x 1,000,000 records of 100 bytes.
#
# For each shape it first fetches every page from the source alone as fast as
# it can (fast_kinesis --self-test: the source's own ceiling), then runs the
# consumer N times (default 3), each with a fresh checkpoint directory and
# output directory, and checks the output: record count and the
# order-independent checksum (bench/verify_output) must match what the source
# served. It prints per run and as medians: records/s and MB/s of payload
# (wall clock), MB of payload and records per CPU-second of the consumer
# process (user + system), peak RSS and peak thread count; and the most
# GetRecords calls one shard received within a second (Kinesis allows 5).
# --profile adds one more run under `perf record` (installing perf if it is
# missing) and prints the functions where the consumer spends its time.
# --dir puts the output files and checkpoints under DIR (default: a temporary
# directory under $TMPDIR or /tmp), e.g. on tmpfs to leave the disk out;
# --max-records and --max-bytes set the buffer's thresholds instead of the
# defaults (50,000 records, 4 MiB). --metrics turns on the /metrics
# endpoint ([metrics] listen) and scrapes it every second during each run,
# as Prometheus would, to compare with runs without it.
#
# --slow-sink measures memory behind a sink slower than the stream: shape
# (a)'s 1 GB backlog goes to the stdout emitter, whose output a reader takes
# at MB_PER_S (10^6 bytes a second) for N seconds (default 60). Every 5 s it
# prints what reached the sink and the consumer's RSS and threads; then it
# stops the consumer with SIGTERM, which must emit and checkpoint what it
# read and exit 0, and it prints the RSS figures and how long the stop took.
#
# Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
shapes=(a b)
profile=0
metrics=0
parent=${TMPDIR:-/tmp}
buffer=''
slow_rate=''
slow_seconds=60
while (($#)); do
  case $1 in
    --runs)
      runs=${2:?--runs needs a number}
      shift 2
      ;;
    --shape)
      case ${2:-} in
        a | b) shapes=("$2") ;;
        both) shapes=(a b) ;;
        *) echo "throughput.sh: --shape is a, b or both" >&2 && exit 2 ;;
      esac
      shift 2
      ;;
    --profile)
      profile=1
      shift
      ;;
    --dir)
      parent=${2:?--dir needs a directory}
      shift 2
      ;;
    --max-records)
      buffer+="max_records = ${2:?--max-records needs a number}"$'\n'
      shift 2
      ;;
    --max-bytes)
      buffer+="max_bytes = \"${2:?--max-bytes needs a size}\""$'\n'
      shift 2
      ;;
    --metrics)
      metrics=1
      shift
      ;;
    --slow-sink)
      slow_rate=${2:?--slow-sink needs MB per second}
      shift 2
      ;;
    --seconds)
      slow_seconds=${2:?--seconds needs a number}
      shift 2
      ;;
    *)
      echo "usage: bench/throughput.sh [--runs N] [--shape a|b|both] [--profile] [--dir DIR]" \
        "[--max-records N] [--max-bytes SIZE] | --slow-sink MB_PER_S [--seconds N]" >&2
      exit 2
      ;;
  esac
done

scripts/install-deps >/dev/null
if ((profile)) && ! command -v perf >/dev/null; then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
fi
scripts/build kinesis-connect fast_kinesis verify_output >/dev/null

mkdir -p "$parent"
work=$(mktemp -d "$parent/kc-throughput-XXXXXX")
server_pid=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
export AWS_ACCESS_KEY_ID=kc-bench-key AWS_SECRET_ACCESS_KEY=kc-bench-secret AWS_REGION=us-east-1
clk_tck=$(getconf CLK_TCK)

# The value of key=VALUE in a line of fast_kinesis output.
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<" $2"; }

# user + system CPU seconds a process has used so far.
cpu_of() {
  local stat
  read -r stat <"/proc/$1/stat"
  stat=${stat##*) }  # the fields after the command name
  read -r -a f <<<"$stat"
  # utime and stime are fields 14 and 15, here 11 and 12 (0-based after pid and comm)
  echo $(((f[11] + f[12]) * 1000 / clk_tck))
}

start_server() {
  build/bench/fast_kinesis --shards "$1" --records "$2" --size "$3" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 600); do
    grep -q '^ready ' "$work/server.out" && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "throughput.sh: fast_kinesis did not start:" >&2
  cat "$work/server.err" >&2
  exit 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=
}

# write_config DIR PORT [stdout]: the file emitter into DIR/out, or stdout.
write_config() {
  local emitter="type = \"file\""$'\n'"directory = \"$1/out\""
  [[ ${3:-} == stdout ]] && emitter='type = "stdout"'
  cat >"$1/bench.toml" <<TOML
[aws]
region = "us-east-1"
endpoint = "http://127.0.0.1:$2"
[checkpoint]
path = "$1/state"
[[pipeline]]
name = "bench"
stream = "bench"
[pipeline.emitter]
$emitter
format = "lines"
TOML
  if [[ -n $buffer ]]; then
    printf '[pipeline.buffer]\n%s' "$buffer" >>"$1/bench.toml"
  fi
  if ((metrics)); then
    printf '[metrics]\nlisten = "127.0.0.1:0"\n' >>"$1/bench.toml"
  fi
}

# python3 -c "$timed" FILE COMMAND...: runs COMMAND and writes "wall user sys
# rss_kb" of it to FILE, CPU times to the microsecond from wait4's rusage (GNU
# time rounds them to 10 ms, as coarse as the differences worth measuring).
# COMMAND is its direct child, so /proc/PID/task/PID/children finds it.
timed=$(
  cat <<'PY'
import os
import sys
import time

out, argv = sys.argv[1], sys.argv[2:]
start = time.monotonic()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - start
with open(out, "w") as f:
    f.write(f"{wall:.6f} {usage.ru_utime:.6f} {usage.ru_stime:.6f} {usage.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)
PY
)

# run_consumer DIR: runs the consumer once; leaves "wall user sys rss_kb
# threads" in DIR/figures.
run_consumer() {
  local dir=$1 time_pid child='' threads=0 stat f polls=0 port
  python3 -c "$timed" "$dir/time" build/kinesis-connect run -c "$dir/bench.toml" --once 2>"$dir/log" &
  time_pid=$!
  while kill -0 "$time_pid" 2>/dev/null; do
    # Read each time: the first child seen can be a fork on its way to exec.
    child=''
    read -r child _ 2>/dev/null <"/proc/$time_pid/task/$time_pid/children" || true
    # num_threads, field 20 of /proc/PID/stat: one line, read at once (a
    # line-by-line read of /proc/PID/status can mix two versions of it).
    if [[ -n $child ]] && read -r stat 2>/dev/null <"/proc/$child/stat"; then
      read -r -a f <<<"${stat##*) }"
      if [[ ${f[17]:-} =~ ^[0-9]+$ ]] && ((f[17] > threads)); then threads=${f[17]}; fi
    fi
    # With --metrics, a scrape a second (every 50 polls of 20 ms).
    if ((metrics && polls++ % 50 == 0)); then
      port=$(sed -n 's|.*metrics: http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$dir/log")
      [[ -z $port ]] || curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true
    fi
    sleep 0.02
  done
  if ! wait "$time_pid"; then
    echo "throughput.sh: kinesis-connect failed:" >&2
    tail -n 20 "$dir/log" >&2
    exit 1
  fi
  read -r wall user sys rss_kb <"$dir/time"
  echo "$wall $user $sys $rss_kb $threads" >"$dir/figures"
}

summarize() {
  python3 - "$@" <<'PY'
import statistics
import sys

shape, records, payload, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = [list(map(float, line.split())) for line in open(path) if line.strip()]
mb = payload / 1e6


def figures(wall, user, sys_, rss_kb, threads, source_cpu):
    cpu = user + sys_
    return {
        "records/s": records / wall,
        "MB/s": mb / wall,
        "MB/CPU-s": mb / cpu,
        "records/CPU-s": records / cpu,
        "wall s": wall,
        "CPU s": cpu,
        "user s": user,
        "sys s": sys_,
        "peak RSS MiB": rss_kb / 1024,
        "threads": threads,
        "source CPU s": source_cpu,
    }


def line(label, f):
    return (f"{label:>9}: {f['records/s']:>11,.0f} records/s {f['MB/s']:>8.1f} MB/s | "
            f"{f['MB/CPU-s']:>7.1f} MB/CPU-s {f['records/CPU-s']:>11,.0f} records/CPU-s | "
            f"wall {f['wall s']:.2f} s, CPU {f['CPU s']:.2f} s (user {f['user s']:.2f}, "
            f"sys {f['sys s']:.2f}) | peak RSS {f['peak RSS MiB']:.1f} MiB, "
            f"{f['threads']:.0f} threads | source CPU {f['source CPU s']:.2f} s")


all_runs = [figures(*r) for r in rows]
for i, f in enumerate(all_runs, 1):
    print(line(f"run {i}", f))
median = {k: statistics.median(f[k] for f in all_runs) for k in all_runs[0]}
print(line("median", median))
PY
}

profile_consumer() {
  local dir=$1
  if ! command -v perf >/dev/null; then
    echo "throughput.sh: perf is not installed; no profile" >&2
    return 0
  fi
  perf record -q -F 999 -e cpu-clock -o "$dir/perf.data" -- \
    build/kinesis-connect run -c "$dir/bench.toml" --once 2>"$dir/log" >/dev/null
  echo "profile (perf, cpu-clock, self time; functions above 1%):"
  perf report -i "$dir/perf.data" --no-children --sort dso,symbol --percent-limit 1 --stdio 2>/dev/null |
    grep -v '^#' | grep -v '^$' | sed -E 's/[[:space:]]+(-[[:space:]]+)*$//' | head -n 40
}

# The consumer's VmRSS in KiB, or nothing once it is gone.
rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# --slow-sink: see the top of this file.
slow_sink() {
  local dir="$work/slow" shards=4 records=1000000 size=1000 pid reader t rss sunk threads stat
  echo "== slow sink: shape a's backlog ($records records of $size bytes on $shards shards)" \
    "into the stdout emitter, read at $slow_rate MB/s for $slow_seconds s," \
    "buffer: ${buffer:-defaults}" | tr '\n' ' '
  echo
  mkdir -p "$dir"
  start_server "$shards" "$records" "$size"
  write_config "$dir" "$(field port "$(grep '^ready ' "$work/server.out")")" stdout
  mkfifo "$dir/pipe"
  # The sink: takes at most the rate, and keeps the count of bytes taken in
  # a file the loop below reads.
  python3 - "$slow_rate" "$dir/sunk" "$dir/pipe" <<'PY' &
import os
import sys
import time

rate = float(sys.argv[1]) * 1e6
count_path = sys.argv[2]
start = time.monotonic()
total = 0
last_report = 0.0
source = open(sys.argv[3], "rb", buffering=0)
while True:
    chunk = source.read(65536)
    if not chunk:
        break
    total += len(chunk)
    ahead = total / rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)  # the sink's pace
    now = time.monotonic()
    if now - last_report >= 0.5:
        with open(count_path + ".tmp", "w") as f:
            f.write(str(total))
        os.replace(count_path + ".tmp", count_path)
        last_report = now
with open(count_path + ".tmp", "w") as f:
    f.write(str(total))
os.replace(count_path + ".tmp", count_path)
PY
  reader=$!
  build/kinesis-connect run -c "$dir/bench.toml" >"$dir/pipe" 2>"$dir/log" &
  pid=$!
  local -a series=()
  for ((t = 1; t <= slow_seconds; t++)); do
    sleep 1  # the sampling period
    rss=$(rss_of "$pid")
    if [[ -z $rss ]]; then
      echo "throughput.sh: kinesis-connect ended early:" >&2
      tail -n 20 "$dir/log" >&2
      exit 1
    fi
    series+=("$rss")
    if ((t % 5 == 0)); then
      sunk=$(cat "$dir/sunk" 2>/dev/null || echo 0)
      threads=0
      if read -r stat 2>/dev/null <"/proc/$pid/stat"; then
        read -r -a f <<<"${stat##*) }"
        threads=${f[17]}
      fi
      printf '%5d s: %8.1f MB reached the sink | RSS %6.1f MiB, %s threads\n' "$t" \
        "$(awk -v b="$sunk" 'BEGIN { print b / 1e6 }')" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
        "$threads"
    fi
  done
  local hwm stop_start stop_ms rc=0
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
  stop_start=$(date +%s%N)
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  stop_ms=$((($(date +%s%N) - stop_start) / 1000000))
  wait "$reader" || true
  stop_server
  printf '%s\n' "${series[@]}" | python3 -c '
import sys
kib = [int(line) for line in sys.stdin if line.strip()]
half = len(kib) // 2
first, second = kib[:half], kib[half:]
mib = lambda k: k / 1024
print(f"RSS: first half max {mib(max(first)):.1f} MiB; second half min {mib(min(second)):.1f},"
      f" max {mib(max(second)):.1f} MiB; peak (VmHWM) {mib(int(sys.argv[1])):.1f} MiB")
' "$hwm"
  echo "sink total: $(awk -v b="$(cat "$dir/sunk")" 'BEGIN { printf "%.1f", b / 1e6 }') MB;" \
    "SIGTERM to exit: $stop_ms ms, exit status $rc"
  if ((rc != 0)); then
    echo "throughput.sh: kinesis-connect did not stop cleanly:" >&2
    tail -n 20 "$dir/log" >&2
    exit 1
  fi
}

if [[ -n $slow_rate ]]; then
  slow_sink
  exit 0
fi

status=0
for shape in "${shapes[@]}"; do
  case $shape in
    a) shards=4 records=1000000 size=1000 ;;
    b) shards=1 records=1000000 size=100 ;;
  esac
  echo "== shape $shape: $shards shards x $((records / shards)) records of $size bytes, $runs runs," \
    "buffer: ${buffer:-defaults}" | tr '\n' ' '
  echo
  build/bench/fast_kinesis --self-test --shards "$shards" --records "$records" --size "$size" |
    sed -n 's/^self-test /source alone (self-test): /p'
  start_server "$shards" "$records" "$size"
  ready=$(grep '^ready ' "$work/server.out")
  port=$(field port "$ready")
  checksum=$(field checksum "$ready")
  payload=$(field payload_bytes "$ready")
  : >"$work/rows"
  : >"$work/calls"
  for run in $(seq "$runs"); do
    dir="$work/run-$shape-$run"
    mkdir -p "$dir"
    write_config "$dir" "$port"
    source_before=$(cpu_of "$server_pid")
    run_consumer "$dir"
    source_ms=$(($(cpu_of "$server_pid") - source_before))
    # The GetRecords rate of this run alone: fast_kinesis prints and resets
    # its counts on SIGUSR1.
    kill -USR1 "$server_pid"
    for _ in $(seq 100); do
      (($(grep -c '^stats ' "$work/server.out") == run)) && break
      sleep 0.05
    done
    calls=$(grep '^stats ' "$work/server.out" | tail -n 1)
    echo "run $run: $(field get_records "$calls") GetRecords calls, at most" \
      "$(field max_calls_per_second_per_shard "$calls") within a second on one shard," \
      "at least $(field min_interval_ms "$calls") ms apart" >>"$work/calls"
    if ! build/bench/verify_output "$dir/out" --format lines --expect-records "$records" \
      --expect-checksum "$checksum" >"$dir/verify" 2>&1; then
      echo "run $run: VERIFICATION FAILED" >&2
      cat "$dir/verify" >&2
      status=1
    fi
    echo "$(cat "$dir/figures") $(awk -v ms="$source_ms" 'BEGIN { printf "%.3f", ms / 1000 }')" >>"$work/rows"
    rm -rf "$dir/out"
  done
  summarize "$shape" "$records" "$payload" "$work/rows"
  echo "verified: $records records, checksum $checksum, in every run"
  if ((profile)); then
    dir="$work/profile-$shape"
    mkdir -p "$dir"
    write_config "$dir" "$port"
    profile_consumer "$dir"
  fi
  stop_server
  sed 's/^/source: /' "$work/calls"
done
exit "$status"
