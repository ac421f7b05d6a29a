#!/usr/bin/env bash
# The Debian package on this machine: made by cpack from the build, installed
# with dpkg -i, its binary and unit checked, then removed, leaving nothing.
#
#   tests/package/test_package.sh BUILD_DIR
#
# It installs into /usr, so it runs as root only (CI runs as root on a fresh
# machine); otherwise, or when a kinesis-connect package is installed
# already, it is skipped (exit 77).
set -euo pipefail
build=$(cd "$1" && pwd)

if [[ $(id -u) -ne 0 ]]; then
  echo "skipped: installing a package needs root"
  exit 77
fi
if dpkg-query -W -f='${Status}' kinesis-connect 2>/dev/null | grep -q 'ok installed'; then
  echo "skipped: a kinesis-connect package is installed here already; not touching it"
  exit 77
fi

work=$(mktemp -d -t kc-package-XXXXXX)
cleanup() {
  dpkg --purge kinesis-connect >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

cpack --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$work"/kinesis-connect_*.deb)
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

# Its dependencies are Debian's runtime libraries, never a -dev package.
depends=$(dpkg-deb -f "$deb" Depends)
echo "depends: $depends"
[[ $depends == *libcurl4* && $depends == *libssl3* ]] || fail "libcurl4 and libssl3 not among the dependencies"
[[ $depends != *-dev* ]] || fail "a -dev package among the dependencies"

dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
version=$(/usr/bin/kinesis-connect --version | head -n 1)
[[ $version == "kinesis-connect "* ]] || fail "--version printed '$version'"
echo "installed: $version"
for f in /usr/share/doc/kinesis-connect/README.md /usr/share/doc/kinesis-connect/docs/operations.md \
  /usr/share/doc/kinesis-connect/examples/files.toml; do
  [[ -f $f ]] || fail "$f is missing"
done
(cd "$work" && /usr/bin/kinesis-connect validate -c /usr/share/doc/kinesis-connect/examples/files.toml) ||
  fail "the installed example does not validate"

unit=/usr/lib/systemd/system/kinesis-connect@.service
[[ -f $unit ]] || fail "$unit is missing"
verify=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $verify"
[[ -z $verify ]] || fail "systemd-analyze verify warns: $verify"
for setting in Restart=on-failure KillSignal=SIGTERM TimeoutStopSec= StateDirectory= NoNewPrivileges=yes \
  ProtectSystem=strict DynamicUser=yes; do
  grep -q "^$setting" "$unit" || fail "$unit has no $setting"
done
echo "unit: systemd-analyze verify accepts $unit"

dpkg --purge kinesis-connect >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg --purge"; }
for f in /usr/bin/kinesis-connect "$unit" /usr/share/doc/kinesis-connect; do
  [[ ! -e $f ]] || fail "$f is left after removal"
done
! dpkg-query -W -f='${Status}' kinesis-connect 2>/dev/null | grep -q 'ok installed' ||
  fail "still installed after removal"
echo "removed cleanly"
