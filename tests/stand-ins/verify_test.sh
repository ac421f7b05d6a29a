#!/usr/bin/env bash
# Checks the signature-verifying Kinesis stand-in end to end with real
# clients: the AWS CLI v2 (create a stream, put a binary record, read it back
# byte for byte) must get through, and requests with a wrong secret, a body
# or signed header changed after signing, or no signature at all must be
# refused with the Kinesis error types and never reach the stream.
#
# Needs node/npm (stand-in packages are installed on first use), the AWS CLI
# v2 at /usr/bin/aws, curl, and Debian's python3-botocore for
# /usr/bin/python3 (an independent signer for the hand-made requests).
# Exit status 0 when every check passes.

# The single-quoted snippets below are JavaScript and Python, not shell.
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR/../..
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/services.sh
source "$root/scripts/lib/services.sh"

# shellcheck source=tests/stand-ins/verify_lib.sh
source "$root/tests/stand-ins/verify_lib.sh"
kc_verify_begin kinesalite

stream=kc-verify
kc_start_kinesalite "$tmp"
pass "kinesalite answers at $KC_KINESIS_ENDPOINT"

# --- The AWS CLI gets through.

kc_aws kinesis create-stream --stream-name "$stream" --shard-count 2
deadline=$((SECONDS + 30))
while :; do
  status=$(kc_aws kinesis describe-stream-summary --stream-name "$stream" \
    --query 'StreamDescriptionSummary.[StreamStatus,OpenShardCount]' --output text)
  [[ $status == ACTIVE* ]] && break
  ((SECONDS < deadline)) || fail "stream $stream not ACTIVE after 30 s (last: $status)"
  sleep 0.1
done
[[ $status == $'ACTIVE\t2' ]] || fail "stream $stream: expected ACTIVE with 2 shards, got: $status"
pass "create-stream with 2 shards, stream ACTIVE"

# Every byte value plus some random ones, so any re-encoding shows.
node -e '
  const crypto = require("crypto")
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  process.stdout.write(Buffer.concat([all, crypto.randomBytes(700)]))' >"$tmp/record.bin"

read -r shard seq < <(kc_aws kinesis put-record --stream-name "$stream" --partition-key pk-1 \
  --data "fileb://$tmp/record.bin" --query '[ShardId,SequenceNumber]' --output text)
[[ $shard == shardId-* && $seq =~ ^[0-9]+$ ]] || fail "put-record: unexpected answer '$shard $seq'"
pass "put-record ($(wc -c <"$tmp/record.bin") bytes) -> $shard, sequence number $seq"

iterator=$(kc_aws kinesis get-shard-iterator --stream-name "$stream" --shard-id "$shard" \
  --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$seq" \
  --query ShardIterator --output text)
[[ -n $iterator && $iterator != None ]] || fail "get-shard-iterator returned no iterator"
pass "get-shard-iterator AT_SEQUENCE_NUMBER"

kc_aws kinesis get-records --shard-iterator "$iterator" --limit 10 --output json >"$tmp/records.json"
node -e '
  const fs = require("fs")
  const [file, out, seq] = process.argv.slice(1)
  const got = JSON.parse(fs.readFileSync(file, "utf8")).Records
  if (got.length !== 1) { console.error(`expected 1 record, got ${got.length}`); process.exit(1) }
  if (got[0].SequenceNumber !== seq) { console.error(`sequence number ${got[0].SequenceNumber} != ${seq}`); process.exit(1) }
  fs.writeFileSync(out, Buffer.from(got[0].Data, "base64"))' \
  "$tmp/records.json" "$tmp/record.out" "$seq" || fail "get-records: unexpected answer"
cmp -s "$tmp/record.bin" "$tmp/record.out" || fail "get-records: the data differs from what was put"
pass "get-records returns the record byte for byte"

# --- A wrong secret is refused, and the refused write does not land.

if output=$(KC_AWS_SECRET_ACCESS_KEY=wrong kc_aws kinesis list-streams 2>&1); then
  fail "list-streams signed with a wrong secret succeeded: $output"
fi
expect_refused "list-streams signed with a wrong secret" InvalidSignatureException "$output"

if output=$(KC_AWS_SECRET_ACCESS_KEY=wrong kc_aws kinesis put-record --stream-name "$stream" \
  --partition-key pk-2 --data "fileb://$tmp/record.bin" 2>&1); then
  fail "put-record signed with a wrong secret succeeded: $output"
fi
expect_refused "put-record signed with a wrong secret" InvalidSignatureException "$output"

# --- Hand-made requests, signed by botocore, sent by curl.

# sign_put_record DATA BODY_FILE: writes a PutRecord body carrying DATA to
# BODY_FILE, signs it with botocore and prints the headers to send, one
# "Name: value" a line.
sign_put_record() {
  /usr/bin/python3 - "$KC_KINESIS_ENDPOINT" "$stream" "$1" "$2" "${KC_STANDIN_SECRET:-kc-test-secret}" <<'PY'
import base64, json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint, stream, data, body_file, secret = sys.argv[1:6]
body = json.dumps({"StreamName": stream, "PartitionKey": "pk-3",
                   "Data": base64.b64encode(data.encode()).decode()}).encode()
with open(body_file, "wb") as f:
    f.write(body)
request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers={
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "Kinesis_20131202.PutRecord",
})
SigV4Auth(Credentials("kc-test-key", secret), "kinesis", "us-east-1").add_auth(request)
for name, value in request.headers.items():
    print(f"{name}: {value}")
PY
}

# send BODY_FILE HEADER... : POST to the stand-in, print "STATUS BODY".
send() {
  local body_file=$1
  shift
  local -a args=()
  local h
  for h in "$@"; do args+=(-H "$h"); done
  curl -s -o "$tmp/response" -w '%{http_code}' --max-time 10 \
    "${args[@]+"${args[@]}"}" --data-binary "@$body_file" "$KC_KINESIS_ENDPOINT/"
  printf ' %s' "$(cat "$tmp/response")"
}

sign_put_record "signed payload" "$tmp/body-signed.json" >"$tmp/headers-signed"
sign_put_record "forged payload" "$tmp/body-forged.json" >/dev/null
mapfile -t headers <"$tmp/headers-signed"
[[ ${#headers[@]} -ge 4 ]] || fail "botocore produced no signed headers"

# Control: the untouched request goes through, so the refusals below are
# about what was changed and nothing else.
answer=$(send "$tmp/body-signed.json" "${headers[@]}")
[[ $answer == "200 "*SequenceNumber* ]] || fail "botocore-signed PutRecord sent with curl: got $answer"
pass "botocore-signed PutRecord sent with curl is accepted"

answer=$(send "$tmp/body-forged.json" "${headers[@]}")
[[ $answer == "400 "* ]] || fail "tampered body: expected HTTP 400, got $answer"
expect_refused "PutRecord whose body changed after signing" '"__type":"InvalidSignatureException"' "$answer"

# Same body, same signature, only the signed X-Amz-Target changed (to an
# operation that would delete the stream if it got through).
mapfile -t retargeted < <(sed 's/^X-Amz-Target: .*/X-Amz-Target: Kinesis_20131202.DeleteStream/' \
  "$tmp/headers-signed")
answer=$(send "$tmp/body-signed.json" "${retargeted[@]}")
[[ $answer == "400 "* ]] || fail "changed X-Amz-Target: expected HTTP 400, got $answer"
expect_refused "request whose signed X-Amz-Target changed" '"__type":"InvalidSignatureException"' "$answer"

answer=$(send "$tmp/body-signed.json" "Content-Type: application/x-amz-json-1.1" \
  "X-Amz-Target: Kinesis_20131202.PutRecord")
[[ $answer == "400 "* ]] || fail "unsigned request: expected HTTP 400, got $answer"
expect_refused "unsigned PutRecord" '"__type":"MissingAuthenticationTokenException"' "$answer"

# --- Nothing refused reached the stream: exactly the CLI's record and the
# botocore control record are there.

total=0
for shard_id in $(kc_aws kinesis list-shards --stream-name "$stream" --query 'Shards[].ShardId' --output text); do
  it=$(kc_aws kinesis get-shard-iterator --stream-name "$stream" --shard-id "$shard_id" \
    --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
  n=$(kc_aws kinesis get-records --shard-iterator "$it" --query 'length(Records)' --output text)
  total=$((total + n))
done
((total == 2)) || fail "expected 2 records in the stream (CLI + botocore control), found $total"
kc_aws kinesis describe-stream-summary --stream-name "$stream" >/dev/null ||
  fail "the stream is gone after the refused DeleteStream"
pass "refused requests changed nothing (2 records in the stream, stream still there)"

rejected=$(grep -c ' rejected ' "$tmp/kinesalite.log" || true)
((rejected == 5)) || fail "expected 5 rejection lines in kinesalite.log, found $rejected"
pass "each refusal logged one line"

kc_stop_services "$tmp"
[[ ! -e $tmp/kinesalite.pid ]] || fail "pid file left behind"
curl -s -o /dev/null --max-time 2 "$KC_KINESIS_ENDPOINT/" && fail "kinesalite still answers after kc_stop_services"
pass "kc_stop_services stopped kinesalite"

echo "all $checks checks passed"
