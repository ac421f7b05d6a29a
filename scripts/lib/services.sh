# shellcheck shell=bash
# Local AWS stand-ins for the tests and the demo. Source this file; it defines
# functions only and changes no shell options.
#
#   kc_free_port                 print a free TCP port on 127.0.0.1
#   kc_start_kinesalite DIR [P]  start the signature-verifying kinesalite
#                                (data in DIR/kinesalite-data, log in
#                                DIR/kinesalite.log, pid in DIR/kinesalite.pid)
#                                and export KC_KINESIS_ENDPOINT. Call it in the
#                                current shell, not in $(...), or the export is
#                                lost.
#   kc_start_dynalite DIR [P [persist]]
#                                start the signature-verifying dynalite
#                                (tables in memory, or with "persist" in
#                                DIR/dynalite-data so that a restart keeps
#                                them; log in DIR/dynalite.log, pid in
#                                DIR/dynalite.pid) and export
#                                KC_DYNAMODB_ENDPOINT. Same rule about $(...).
#   kc_start_s3rver DIR BUCKET...
#                                start the signature-verifying s3rver with
#                                these buckets (data in DIR/s3rver-data, log in
#                                DIR/s3rver.log, pid in DIR/s3rver.pid) and
#                                export KC_S3_ENDPOINT and, unless set,
#                                KC_S3_ACCESS_KEY_ID=S3RVER (the only key id
#                                s3rver knows). Same rule about $(...).
#   kc_start_redis DIR [PORT]    start redis-server on 127.0.0.1 without
#                                persistence (data dir DIR/redis-data, log in
#                                DIR/redis.log, pid in DIR/redis.pid) and
#                                export KC_REDIS_URL=redis://127.0.0.1:PORT.
#                                Same rule about $(...).
#   kc_start_postgres DIR [PORT] start a PostgreSQL server of its own (data in
#                                DIR/postgres-data, kept across restarts;
#                                socket in DIR/postgres-run; log in
#                                DIR/postgres.log, pid in DIR/postgres.pid),
#                                trusting every login from 127.0.0.1, and
#                                export KC_POSTGRES_URL
#                                (postgresql://postgres@127.0.0.1:PORT/postgres).
#                                As root the server runs as user postgres, so
#                                DIR must be reachable by that user (a mktemp
#                                -d directory is: it is opened for search).
#                                Same rule about $(...).
#   kc_stop_services DIR         stop every service started with DIR
#   kc_aws SERVICE ARGS...       the AWS CLI with test credentials, pointed at
#                                the stand-in for SERVICE, e.g.
#                                kc_aws kinesis list-streams
#
# Settings (environment, all optional):
#   KC_STANDIN_SECRET     secret key the stand-ins verify signatures with
#                         (default kc-test-secret)
#   KC_AWS_CLI            AWS CLI to run (default /usr/bin/aws, the v2 CLI)
#   KC_AWS_ACCESS_KEY_ID, KC_AWS_SECRET_ACCESS_KEY, KC_AWS_REGION
#                         what kc_aws signs with (defaults kc-test-key,
#                         $KC_STANDIN_SECRET, us-east-1); a service may
#                         override them as KC_<SERVICE>_ACCESS_KEY_ID etc.
#   KC_<SERVICE>_ENDPOINT where kc_aws sends SERVICE's calls (set by the
#                         kc_start_* functions)
#   KC_SERVICE_START_TIMEOUT  seconds to wait for a service (default 30)
#   KC_S3RVER_PORT        port for kc_start_s3rver (default: a free one)
#
# Each service started with DIR leaves DIR/NAME.pid. kc_stop_services stops
# them all: with a function _kc_stop_NAME when one is defined (for services
# that need their own shutdown), otherwise with SIGTERM, then SIGKILL after a
# deadline. New services follow the same shape: kc_start_NAME DIR [PORT]
# writing DIR/NAME.pid and DIR/NAME.log and exporting KC_NAME_ENDPOINT.

_kc_services_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Prints a port the OS considers free on 127.0.0.1. Another process can take
# it before it is used; kc_start_kinesalite retries with a new one when that
# happens.
kc_free_port() {
  node -e '
    const s = require("net").createServer()
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

# True while PID is a running process (not a zombie waiting to be reaped).
_kc_pid_alive() {
  local pid=$1 stat
  kill -0 "$pid" 2>/dev/null || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  # The state letter follows the parenthesised command name.
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

_kc_now_ms() {
  local t
  t=$(date +%s%N)
  echo $((t / 1000000))
}

# _kc_start_node_service NAME DIR WANT_PORT NODE_ARGS...
# Starts one of the Node stand-ins in the background: log in DIR/NAME.log,
# pid in DIR/NAME.pid. In NODE_ARGS the word @PORT@ becomes the port (a free
# one unless WANT_PORT is set). The service is up when its own process has
# printed "ready" (it bound the port; something else answering there does
# not count) and the port answers HTTP. When a port picked here is taken by
# another process before the service binds it, it tries again, up to three
# times. On success sets _kc_service_port, _kc_service_pid and
# _kc_service_started (ms).
_kc_start_node_service() {
  local name=$1 dir=$2 want_port=$3
  shift 3
  local port pid log pidfile attempt code offset deadline arg
  local timeout=${KC_SERVICE_START_TIMEOUT:-30}
  local -a args

  mkdir -p "$dir" || return 1
  log=$dir/$name.log
  pidfile=$dir/$name.pid
  if [[ -f $pidfile ]]; then
    pid=$(<"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && _kc_pid_alive "$pid"; then
      echo "kc_start_$name: already running in $dir (pid $pid)" >&2
      return 1
    fi
    rm -f "$pidfile"
  fi

  "$_kc_services_root/scripts/install-stand-ins" || return 1

  _kc_service_started=$(_kc_now_ms)
  for attempt in 1 2 3; do
    if [[ -n $want_port ]]; then
      port=$want_port
    else
      port=$(kc_free_port) || return 1
    fi
    args=()
    for arg in "$@"; do args+=("${arg//@PORT@/$port}"); done
    echo "--- start $(date -u +%Y-%m-%dT%H:%M:%SZ) port $port" >>"$log"
    offset=$(stat -c %s "$log")
    node "${args[@]}" </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$pidfile"

    deadline=$((SECONDS + timeout))
    while :; do
      if ! _kc_pid_alive "$pid"; then
        code=0
        wait "$pid" 2>/dev/null || code=$?
        rm -f "$pidfile"
        if [[ -z $want_port && $attempt -lt 3 ]] && grep -q EADDRINUSE < <(tail -n 5 "$log"); then
          continue 2
        fi
        echo "kc_start_$name: $name exited (status $code) before answering; end of $log:" >&2
        tail -n 20 "$log" >&2
        return 1
      fi
      # (grep reads from a process substitution, not a pipe, so an early
      # exit of grep cannot fail the caller under pipefail.)
      if grep -qx ready < <(tail -c "+$((offset + 1))" "$log") &&
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
        _kc_service_port=$port
        _kc_service_pid=$pid
        return 0
      fi
      if ((SECONDS >= deadline)); then
        echo "kc_start_$name: no answer on 127.0.0.1:$port within ${timeout}s; end of $log:" >&2
        tail -n 20 "$log" >&2
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -f "$pidfile"
        return 1
      fi
      sleep 0.05
    done
  done
  return 1
}

# Starts kinesalite (tests/stand-ins/kinesalite.js) in the background.
kc_start_kinesalite() {
  if (($# < 1 || $# > 2)); then
    echo "usage: kc_start_kinesalite DIR [PORT]" >&2
    return 2
  fi
  local dir=$1
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd) || return 1
  _kc_start_node_service kinesalite "$dir" "${2:-}" \
    "$_kc_services_root/tests/stand-ins/kinesalite.js" \
    --port @PORT@ --path "$dir/kinesalite-data" \
    --secret "${KC_STANDIN_SECRET:-kc-test-secret}" || return 1
  export KC_KINESIS_ENDPOINT="http://127.0.0.1:$_kc_service_port"
  echo "$KC_KINESIS_ENDPOINT" >"$dir/kinesalite.endpoint"
  echo "kc_start_kinesalite: $KC_KINESIS_ENDPOINT (pid $_kc_service_pid) up in" \
    "$(($(_kc_now_ms) - _kc_service_started)) ms" >&2
}

# Starts dynalite (tests/stand-ins/dynalite.js) in the background. Tables
# live in memory (every test makes tables of its own names) unless the third
# argument is "persist".
kc_start_dynalite() {
  if (($# < 1 || $# > 3)) || { (($# == 3)) && [[ $3 != persist ]]; }; then
    echo "usage: kc_start_dynalite DIR [PORT [persist]]" >&2
    return 2
  fi
  local dir=$1
  local -a data=()
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd) || return 1
  if [[ ${3:-} == persist ]]; then
    mkdir -p "$dir/dynalite-data" || return 1
    data=(--path "$dir/dynalite-data")
  fi
  _kc_start_node_service dynalite "$dir" "${2:-}" \
    "$_kc_services_root/tests/stand-ins/dynalite.js" \
    --port @PORT@ --secret "${KC_STANDIN_SECRET:-kc-test-secret}" "${data[@]}" || return 1
  export KC_DYNAMODB_ENDPOINT="http://127.0.0.1:$_kc_service_port"
  echo "$KC_DYNAMODB_ENDPOINT" >"$dir/dynalite.endpoint"
  echo "kc_start_dynalite: $KC_DYNAMODB_ENDPOINT (pid $_kc_service_pid) up in" \
    "$(($(_kc_now_ms) - _kc_service_started)) ms" >&2
}

# Starts s3rver (tests/stand-ins/s3rver.js) in the background with the
# given buckets. Path-style addressing only; the access key id must be
# S3RVER and the signature is checked against KC_STANDIN_SECRET.
kc_start_s3rver() {
  if (($# < 1)); then
    echo "usage: kc_start_s3rver DIR [BUCKET...]" >&2
    return 2
  fi
  local dir=$1 bucket
  shift
  local -a bucket_args=()
  for bucket in "$@"; do bucket_args+=(--bucket "$bucket"); done
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd) || return 1
  # s3rver pages ListObjectsV2 with DES tokens: it needs OpenSSL's legacy
  # provider.
  _kc_start_node_service s3rver "$dir" "${KC_S3RVER_PORT:-}" \
    --openssl-legacy-provider "$_kc_services_root/tests/stand-ins/s3rver.js" \
    --port @PORT@ --directory "$dir/s3rver-data" \
    --secret "${KC_STANDIN_SECRET:-kc-test-secret}" \
    "${bucket_args[@]+"${bucket_args[@]}"}" || return 1
  export KC_S3_ENDPOINT="http://127.0.0.1:$_kc_service_port"
  export KC_S3_ACCESS_KEY_ID=${KC_S3_ACCESS_KEY_ID:-S3RVER}
  echo "$KC_S3_ENDPOINT" >"$dir/s3rver.endpoint"
  echo "kc_start_s3rver: $KC_S3_ENDPOINT (pid $_kc_service_pid, buckets: ${*:-none}) up in" \
    "$(($(_kc_now_ms) - _kc_service_started)) ms" >&2
}

# Starts redis-server (Debian's) as a daemon on 127.0.0.1, a free port unless
# PORT is given, keeping nothing on disk. It is up when redis-cli gets PONG.
# When a port picked here is taken before redis-server binds it, it tries
# again, up to three times. SIGTERM stops it, so kc_stop_services needs no
# _kc_stop_redis.
kc_start_redis() {
  if (($# < 1 || $# > 2)); then
    echo "usage: kc_start_redis DIR [PORT]" >&2
    return 2
  fi
  local dir=$1 want_port=${2:-} port pid attempt deadline started offset
  local timeout=${KC_SERVICE_START_TIMEOUT:-30}
  mkdir -p "$dir/redis-data" || return 1
  dir=$(cd "$dir" && pwd) || return 1
  local log=$dir/redis.log pidfile=$dir/redis.pid
  if [[ -f $pidfile ]]; then
    pid=$(<"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && _kc_pid_alive "$pid"; then
      echo "kc_start_redis: already running in $dir (pid $pid)" >&2
      return 1
    fi
    rm -f "$pidfile"
  fi
  started=$(_kc_now_ms)
  for attempt in 1 2 3; do
    if [[ -n $want_port ]]; then
      port=$want_port
    else
      port=$(kc_free_port) || return 1
    fi
    echo "--- start $(date -u +%Y-%m-%dT%H:%M:%SZ) port $port" >>"$log"
    offset=$(stat -c %s "$log")
    # --daemonize: redis-server returns once the daemon runs; it writes the
    # pid file itself. What it prints before it opens its log goes there too.
    # shellcheck disable=SC2094
    if ! redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
      --daemonize yes --pidfile "$pidfile" --dir "$dir/redis-data" --logfile "$log" \
      </dev/null >>"$log" 2>&1; then
      echo "kc_start_redis: redis-server failed to start; end of $log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    deadline=$((SECONDS + timeout))
    while :; do
      if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG && -s $pidfile ]]; then
        pid=$(<"$pidfile")
        export KC_REDIS_URL="redis://127.0.0.1:$port"
        echo "$KC_REDIS_URL" >"$dir/redis.url"
        echo "kc_start_redis: $KC_REDIS_URL (pid $pid) up in" \
          "$(($(_kc_now_ms) - started)) ms" >&2
        return 0
      fi
      if grep -q "Address already in use" < <(tail -c "+$((offset + 1))" "$log"); then
        if [[ -z $want_port && $attempt -lt 3 ]]; then
          continue 2
        fi
        echo "kc_start_redis: port $port is taken; end of $log:" >&2
        tail -n 20 "$log" >&2
        return 1
      fi
      if ((SECONDS >= deadline)); then
        echo "kc_start_redis: no PONG on 127.0.0.1:$port within ${timeout}s; end of $log:" >&2
        tail -n 20 "$log" >&2
        if [[ -s $pidfile ]]; then
          pid=$(<"$pidfile")
          [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null
        fi
        rm -f "$pidfile"
        return 1
      fi
      sleep 0.05
    done
  done
  return 1
}

# The directory of PostgreSQL's server programs (initdb, pg_ctl): pg_config's
# when it has them, else the newest /usr/lib/postgresql/*/bin.
_kc_postgres_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null) || dir=
    if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
      echo "$dir"
      return 0
    fi
  fi
  while read -r dir; do
    if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
      echo "$dir"
      return 0
    fi
  done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -t/ -k4,4nr)
  echo "kc_start_postgres: initdb and pg_ctl not found; scripts/install-deps installs" \
    "the postgresql package" >&2
  return 1
}

# Runs a PostgreSQL program as the server's owner: user postgres when we are
# root (the server refuses to run as root), ourselves otherwise.
_kc_as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Starts PostgreSQL in the background; with an existing DIR/postgres-data it
# restarts that server with its data (as after an outage).
kc_start_postgres() {
  if (($# < 1 || $# > 2)); then
    echo "usage: kc_start_postgres DIR [PORT]" >&2
    return 2
  fi
  local dir=$1 want_port=${2:-} bin data run log pidfile port pid attempt deadline
  local timeout=${KC_SERVICE_START_TIMEOUT:-30}
  bin=$(_kc_postgres_bindir) || return 1
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd) || return 1
  data=$dir/postgres-data
  run=$dir/postgres-run
  log=$dir/postgres.log
  pidfile=$dir/postgres.pid
  if [[ -f $pidfile ]]; then
    pid=$(<"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && _kc_pid_alive "$pid"; then
      echo "kc_start_postgres: already running in $dir (pid $pid)" >&2
      return 1
    fi
    rm -f "$pidfile"
  fi
  mkdir -p "$run" || return 1
  touch "$log" || return 1
  if [[ $(id -u) -eq 0 ]]; then
    # The server runs as postgres: it owns its directories and log, and must
    # be able to enter DIR (search only; DIR stays unlistable).
    chmod a+x "$dir" || return 1
    mkdir -p "$data" && chown postgres: "$data" "$run" "$log" || return 1
    chmod 700 "$data" || return 1
    if ! runuser -u postgres -- test -x "$dir"; then
      echo "kc_start_postgres: user postgres cannot reach $dir; use a directory under one" \
        "every user can enter, such as one made by mktemp -d" >&2
      return 1
    fi
  fi

  _kc_service_started=$(_kc_now_ms)
  if [[ ! -f $data/PG_VERSION ]]; then
    echo "--- initdb $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$log"
    if ! _kc_as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --no-sync \
      --encoding=UTF8 --no-locale >>"$log" 2>&1; then
      echo "kc_start_postgres: initdb failed; end of $log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
  fi

  for attempt in 1 2 3; do
    if [[ -n $want_port ]]; then
      port=$want_port
    else
      port=$(kc_free_port) || return 1
    fi
    echo "--- start $(date -u +%Y-%m-%dT%H:%M:%SZ) port $port" >>"$log"
    # -w: pg_ctl returns once the server accepts connections, or fails when
    # it exits first (a port taken since kc_free_port looked, say). Its own
    # complaints join the server's in the log, which it only appends to.
    # shellcheck disable=SC2094
    if ! _kc_as_postgres "$bin/pg_ctl" start -w -t "$timeout" -D "$data" -l "$log" \
      -o "-h 127.0.0.1 -p $port -k $run -c fsync=off" >/dev/null 2>>"$log"; then
      if [[ -z $want_port && $attempt -lt 3 ]] &&
        grep -q 'could not bind\|could not create any TCP/IP sockets' < <(tail -n 10 "$log"); then
        continue
      fi
      echo "kc_start_postgres: the server did not start on 127.0.0.1:$port; end of $log:" >&2
      tail -n 20 "$log" >&2
      _kc_as_postgres "$bin/pg_ctl" stop -D "$data" -m immediate >/dev/null 2>&1 || true
      return 1
    fi
    pid=$(head -n 1 "$data/postmaster.pid")
    echo "$pid" >"$pidfile"
    deadline=$((SECONDS + timeout))
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; do
      if ((SECONDS >= deadline)) || ! _kc_pid_alive "$pid"; then
        echo "kc_start_postgres: no answer on 127.0.0.1:$port within ${timeout}s; end of $log:" >&2
        tail -n 20 "$log" >&2
        _kc_as_postgres "$bin/pg_ctl" stop -D "$data" -m immediate >/dev/null 2>&1 || true
        rm -f "$pidfile"
        return 1
      fi
      sleep 0.05
    done
    export KC_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "$KC_POSTGRES_URL" >"$dir/postgres.url"
    echo "kc_start_postgres: $KC_POSTGRES_URL (pid $pid) up in" \
      "$(($(_kc_now_ms) - _kc_service_started)) ms" >&2
    return 0
  done
  return 1
}

# kc_stop_services' hook for PostgreSQL: a fast shutdown (sessions are ended,
# the data is kept).
_kc_stop_postgres() {
  local dir=$1 bin
  [[ -f $dir/postgres-data/postmaster.pid ]] || return 0
  bin=$(_kc_postgres_bindir) || return 1
  _kc_as_postgres "$bin/pg_ctl" stop -D "$dir/postgres-data" -m fast -w \
    -t "${KC_SERVICE_STOP_TIMEOUT:-10}" >/dev/null
}

# Stops every service whose pid file is in DIR.
kc_stop_services() {
  if (($# != 1)); then
    echo "usage: kc_stop_services DIR" >&2
    return 2
  fi
  local dir=$1 pidfile name pid deadline
  local -a pids=()
  [[ -d $dir ]] || return 0

  for pidfile in "$dir"/*.pid; do
    [[ -f $pidfile ]] || continue
    name=$(basename "$pidfile" .pid)
    if declare -F "_kc_stop_$name" >/dev/null; then
      "_kc_stop_$name" "$dir" || echo "kc_stop_services: stopping $name failed" >&2
      rm -f "$pidfile"
      continue
    fi
    pid=$(<"$pidfile") || pid=
    if [[ $pid =~ ^[0-9]+$ ]] && _kc_pid_alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$pidfile"
  done

  ((${#pids[@]})) || return 0
  deadline=$((SECONDS + ${KC_SERVICE_STOP_TIMEOUT:-10}))
  for pid in "${pids[@]}"; do
    while _kc_pid_alive "$pid" && ((SECONDS < deadline)); do
      sleep 0.05
    done
    if _kc_pid_alive "$pid"; then
      echo "kc_stop_services: pid $pid ignored SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    # Reap it when it is our own child; harmless otherwise.
    wait "$pid" 2>/dev/null || true
  done
  return 0
}

# kc_aws SERVICE ARGS... runs the AWS CLI against the stand-in for SERVICE
# (its endpoint comes from KC_<SERVICE>_ENDPOINT, s3api using KC_S3_ENDPOINT),
# with test credentials and without reading any ~/.aws files. Refuses to run
# when no endpoint is known, so a test can never reach real AWS.
kc_aws() {
  if (($# < 1)); then
    echo "usage: kc_aws SERVICE [ARGS...]" >&2
    return 2
  fi
  local service=$1 key var endpoint arg explicit=0
  shift
  case $service in
    s3api) key=S3 ;;
    *)
      key=${service^^}
      key=${key//-/_}
      ;;
  esac
  for arg in "$@"; do
    [[ $arg == --endpoint-url || $arg == --endpoint-url=* ]] && explicit=1
  done

  local -a endpoint_args=()
  var=KC_${key}_ENDPOINT
  endpoint=${!var:-}
  if ((!explicit)); then
    if [[ -z $endpoint ]]; then
      echo "kc_aws: $var is not set; start the $service stand-in first (or pass --endpoint-url)" >&2
      return 2
    fi
    endpoint_args=(--endpoint-url "$endpoint")
  fi

  var=KC_${key}_ACCESS_KEY_ID
  local access_key=${!var:-${KC_AWS_ACCESS_KEY_ID:-kc-test-key}}
  var=KC_${key}_SECRET_ACCESS_KEY
  local secret_key=${!var:-${KC_AWS_SECRET_ACCESS_KEY:-${KC_STANDIN_SECRET:-kc-test-secret}}}
  var=KC_${key}_REGION
  local region=${!var:-${KC_AWS_REGION:-us-east-1}}

  env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN \
    -u AWS_ROLE_ARN -u AWS_ROLE_SESSION_NAME -u AWS_WEB_IDENTITY_TOKEN_FILE \
    -u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI -u AWS_CONTAINER_CREDENTIALS_FULL_URI \
    -u AWS_ENDPOINT_URL -u AWS_CA_BUNDLE -u AWS_REGION \
    AWS_ACCESS_KEY_ID="$access_key" \
    AWS_SECRET_ACCESS_KEY="$secret_key" \
    AWS_DEFAULT_REGION="$region" \
    AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true \
    AWS_PAGER= \
    AWS_CLI_AUTO_PROMPT=off \
    "${KC_AWS_CLI:-/usr/bin/aws}" "${endpoint_args[@]+"${endpoint_args[@]}"}" "$service" "$@"
}
