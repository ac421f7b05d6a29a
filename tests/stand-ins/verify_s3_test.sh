#!/usr/bin/env bash
# Checks the signature-verifying S3 stand-in end to end with real clients:
# the AWS CLI v2 (put a binary object, read it back byte for byte, list it)
# and requests signed by botocore must get through, and requests with a wrong
# secret, a body changed after signing (with or without a matching
# x-amz-content-sha256), or no signature at all must be refused with S3's
# error codes and never reach the bucket.
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
kc_verify_begin s3rver

bucket=kc-verify
# This test's own settings, whatever the caller's environment says.
unset KC_S3_ACCESS_KEY_ID KC_S3_SECRET_ACCESS_KEY KC_AWS_SECRET_ACCESS_KEY KC_S3RVER_PORT
kc_start_s3rver "$tmp" "$bucket"
[[ $KC_S3_ACCESS_KEY_ID == S3RVER ]] || fail "kc_start_s3rver did not set KC_S3_ACCESS_KEY_ID"
pass "s3rver answers at $KC_S3_ENDPOINT"

# --- The AWS CLI gets through.

# Every byte value plus some random ones, so any re-encoding shows.
node -e '
  const crypto = require("crypto")
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  process.stdout.write(Buffer.concat([all, crypto.randomBytes(70000)]))' >"$tmp/object.bin"

key="cli/with space/\u00fc-object.bin"
key=$(printf '%b' "$key")
kc_aws s3api put-object --bucket "$bucket" --key "$key" --body "$tmp/object.bin" \
  --content-type application/octet-stream >/dev/null
pass "put-object ($(wc -c <"$tmp/object.bin") bytes, key with a space and a non-ASCII letter)"

kc_aws s3api get-object --bucket "$bucket" --key "$key" "$tmp/object.out" >/dev/null
cmp -s "$tmp/object.bin" "$tmp/object.out" || fail "get-object: the data differs from what was put"
pass "get-object returns the object byte for byte"

listed=$(kc_aws s3api list-objects-v2 --bucket "$bucket" --query 'Contents[].Key' --output text)
[[ $listed == "$key" ]] || fail "list-objects-v2: expected '$key', got '$listed'"
pass "list-objects-v2 lists it"

# --- An object is replaced whole: a read racing an overwrite of the same key
# gets the old body or the new one, never an empty or partial one.
reads=$(/usr/bin/python3 - "$KC_S3_ENDPOINT" "$bucket" "${KC_STANDIN_SECRET:-kc-test-secret}" <<'PY'
import sys, threading
import botocore.session

endpoint, bucket, secret = sys.argv[1:4]
client = botocore.session.get_session().create_client(
    "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="S3RVER",
    aws_secret_access_key=secret,
    config=botocore.config.Config(s3={"addressing_style": "path"}))
size = 4 * 1024 * 1024
bodies = [b"a" * size, b"b" * size]
client.put_object(Bucket=bucket, Key="race/object", Body=bodies[0])
done = threading.Event()
def overwrite():
    try:
        for i in range(40):
            client.put_object(Bucket=bucket, Key="race/object", Body=bodies[i % 2])
    finally:
        done.set()
writer = threading.Thread(target=overwrite)
writer.start()
reads = 0
while not done.is_set():
    body = client.get_object(Bucket=bucket, Key="race/object")["Body"].read()
    reads += 1
    if body not in bodies:
        sys.exit(f"read {reads} got {len(body)} bytes that are neither body")
writer.join()
print(reads)
PY
) || fail "a GET racing a PUT of the same key saw a body that was never put"
pass "$reads GETs racing 40 overwrites of a 4 MiB object each saw one whole body"
kc_aws s3api delete-object --bucket "$bucket" --key race/object >/dev/null

# --- A wrong secret is refused, and the refused write does not land.

if output=$(KC_S3_SECRET_ACCESS_KEY=wrong kc_aws s3api list-objects-v2 --bucket "$bucket" 2>&1); then
  fail "list-objects-v2 signed with a wrong secret succeeded: $output"
fi
expect_refused "list-objects-v2 signed with a wrong secret" SignatureDoesNotMatch "$output"

if output=$(KC_S3_SECRET_ACCESS_KEY=wrong kc_aws s3api put-object --bucket "$bucket" \
  --key cli/wrong-secret --body "$tmp/object.bin" 2>&1); then
  fail "put-object signed with a wrong secret succeeded: $output"
fi
expect_refused "put-object signed with a wrong secret" SignatureDoesNotMatch "$output"

# --- Hand-made requests, signed by botocore, sent by curl.

# sign_put KEY BODY_FILE MODE: signs a PUT of BODY_FILE to KEY with botocore
# and prints the headers to send, one "Name: value" a line. MODE "signed"
# puts the body's SHA-256 in x-amz-content-sha256, "unsigned" the literal
# UNSIGNED-PAYLOAD, "other-key-id" signs correctly with another access key id.
sign_put() {
  /usr/bin/python3 - "$KC_S3_ENDPOINT" "$bucket" "$1" "$2" "$3" \
    "${KC_STANDIN_SECRET:-kc-test-secret}" <<'PY'
import sys
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint, bucket, key, body_file, mode, secret = sys.argv[1:7]

class UnsignedPayload(S3SigV4Auth):
    def _should_sha256_sign_payload(self, request):
        return False

with open(body_file, "rb") as f:
    body = f.read()
request = AWSRequest(method="PUT", url=f"{endpoint}/{bucket}/{key}", data=body)
key_id = "SOMEONE-ELSE" if mode == "other-key-id" else "S3RVER"
signer = UnsignedPayload if mode == "unsigned" else S3SigV4Auth
signer(Credentials(key_id, secret), "s3", "us-east-1").add_auth(request)
for name, value in request.headers.items():
    print(f"{name}: {value}")
PY
}

# send METHOD KEY BODY_FILE HEADER... : send to the stand-in, print "STATUS BODY".
send() {
  local method=$1 path=$2 body_file=$3
  shift 3
  local -a args=()
  local h
  for h in "$@"; do args+=(-H "$h"); done
  curl -s -o "$tmp/response" -w '%{http_code}' --max-time 10 -X "$method" \
    "${args[@]+"${args[@]}"}" --data-binary "@$body_file" "$KC_S3_ENDPOINT/$bucket/$path"
  printf ' %s' "$(cat "$tmp/response")"
}

printf 'the signed body' >"$tmp/body-signed"
printf 'a forged body!!' >"$tmp/body-forged"  # same length, other bytes
sign_put curl/control "$tmp/body-signed" signed >"$tmp/headers-signed"
mapfile -t headers <"$tmp/headers-signed"
[[ ${#headers[@]} -ge 3 ]] || fail "botocore produced no signed headers"

# Control: the untouched request goes through, so the refusals below are
# about what was changed and nothing else.
answer=$(send PUT curl/control "$tmp/body-signed" "${headers[@]}")
[[ $answer == "200 "* ]] || fail "botocore-signed PutObject sent with curl: got $answer"
pass "botocore-signed PutObject sent with curl is accepted"

answer=$(send PUT curl/control "$tmp/body-forged" "${headers[@]}")
[[ $answer == "400 "* ]] || fail "tampered body: expected HTTP 400, got $answer"
expect_refused "PutObject whose body changed after signing" \
  "<Code>XAmzContentSHA256Mismatch</Code>" "$answer"

# The forger also fixes x-amz-content-sha256: now the signature gives it away.
forged_hash=$(sha256sum "$tmp/body-forged" | cut -d' ' -f1)
mapfile -t rehashed < <(sed "s/^X-Amz-Content-SHA256: .*/X-Amz-Content-SHA256: $forged_hash/I" \
  "$tmp/headers-signed")
answer=$(send PUT curl/control "$tmp/body-forged" "${rehashed[@]}")
[[ $answer == "403 "* ]] || fail "tampered body and hash: expected HTTP 403, got $answer"
expect_refused "PutObject whose body and x-amz-content-sha256 changed after signing" \
  "<Code>SignatureDoesNotMatch</Code>" "$answer"

# Same request, other key: the signed path gives it away.
answer=$(send PUT curl/elsewhere "$tmp/body-signed" "${headers[@]}")
[[ $answer == "403 "* ]] || fail "changed key: expected HTTP 403, got $answer"
expect_refused "PutObject sent to another key than signed" "<Code>SignatureDoesNotMatch</Code>" \
  "$answer"

answer=$(send PUT curl/unsigned-request "$tmp/body-signed")
[[ $answer == "403 "* ]] || fail "unsigned request: expected HTTP 403, got $answer"
expect_refused "unsigned PutObject" "<Code>AccessDenied</Code>" "$answer"

# S3's own rules: UNSIGNED-PAYLOAD is accepted, any key id but S3RVER is not
# (s3rver's check, after the signature passed here).
mapfile -t unsigned_payload < <(sign_put curl/unsigned-payload "$tmp/body-signed" unsigned)
# Matched in the shell: "printf | grep -q" under pipefail fails at random
# when grep exits before printf has written everything (SIGPIPE).
signed_unsigned=false
for h in "${unsigned_payload[@]}"; do
  [[ ${h,,} == 'x-amz-content-sha256: unsigned-payload' ]] && signed_unsigned=true
done
$signed_unsigned || fail "botocore did not sign with UNSIGNED-PAYLOAD"
answer=$(send PUT curl/unsigned-payload "$tmp/body-signed" "${unsigned_payload[@]}")
[[ $answer == "200 "* ]] || fail "UNSIGNED-PAYLOAD PutObject: got $answer"
pass "PutObject signed with UNSIGNED-PAYLOAD is accepted"

mapfile -t other_key < <(sign_put curl/other-key "$tmp/body-signed" other-key-id)
answer=$(send PUT curl/other-key "$tmp/body-signed" "${other_key[@]}")
[[ $answer == "403 "* ]] || fail "other access key id: expected HTTP 403, got $answer"
expect_refused "PutObject with an access key id other than S3RVER" \
  "<Code>InvalidAccessKeyId</Code>" "$answer"

# --- Nothing refused reached the bucket.

listed=$(kc_aws s3api list-objects-v2 --bucket "$bucket" --query 'Contents[].Key' --output text |
  tr '\t' '\n' | sort | tr '\n' ' ')
want=$(printf '%s\n' "$key" curl/control curl/unsigned-payload | sort | tr '\n' ' ')
[[ $listed == "$want" ]] || fail "bucket holds '$listed', expected '$want'"
kc_aws s3api get-object --bucket "$bucket" --key curl/control "$tmp/control.out" >/dev/null
cmp -s "$tmp/body-signed" "$tmp/control.out" || fail "the control object was overwritten"
pass "refused requests changed nothing (3 objects, the control object intact)"

# 2 wrong-secret CLI calls and 4 curl refusals; the readiness probe's
# unsigned "GET /" does not count.
rejected=$(grep ' rejected ' "$tmp/s3rver.log" | grep -cv ' rejected GET / from ' || true)
((rejected == 6)) || fail "expected 6 rejection lines in s3rver.log, found $rejected"
pass "each refusal logged one line"

kc_stop_services "$tmp"
[[ ! -e $tmp/s3rver.pid ]] || fail "pid file left behind"
curl -s -o /dev/null --max-time 2 "$KC_S3_ENDPOINT/" && fail "s3rver still answers after kc_stop_services"
pass "kc_stop_services stopped s3rver"

echo "all $checks checks passed"
