# shellcheck shell=bash
# Shared by the stand-in verification tests: a temporary service directory
# that is cleaned up (with the service log shown on failure), and TAP-style
# check helpers. Source it after scripts/lib/services.sh, then call
#   kc_verify_begin SERVICE    # sets $tmp; SERVICE names the log to show
# and use pass / fail / expect_refused.

kc_verify_begin() {
  _kc_verify_service=$1
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-stand-in-verify-$1.XXXXXX")
  trap _kc_verify_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  checks=0
}

_kc_verify_cleanup() {
  local status=$?
  kc_stop_services "$tmp" || true
  if ((status != 0)) && [[ -f $tmp/$_kc_verify_service.log ]]; then
    echo "--- $_kc_verify_service.log" >&2
    tail -n 30 "$tmp/$_kc_verify_service.log" >&2 || true
  fi
  rm -rf "$tmp"
  exit "$status"
}

pass() {
  checks=$((checks + 1))
  echo "ok $checks - $*"
}

fail() {
  echo "not ok - $*" >&2
  exit 1
}

# Expects a refused call: its combined output must name the error type or code.
expect_refused() {
  local what=$1 type=$2 output=$3
  [[ $output == *"$type"* ]] || fail "$what: expected $type, got: $output"
  pass "$what is refused with $type"
}
