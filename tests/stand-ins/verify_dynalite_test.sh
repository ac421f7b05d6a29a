#!/usr/bin/env bash
# Checks the signature-verifying DynamoDB stand-in with the real AWS CLI:
# tables and items go in and come back; a wrong secret is refused with
# DynamoDB's error type and writes nothing; with "persist", tables survive a
# restart on the same port (the checkpoint store's outage test relies on it).
#
# Needs node/npm (stand-in packages are installed on first use) and the AWS
# CLI v2 at /usr/bin/aws. Exit status 0 when every check passes.
# shellcheck source-path=SCRIPTDIR/../..
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/services.sh
source "$root/scripts/lib/services.sh"
# shellcheck source=tests/stand-ins/verify_lib.sh
source "$root/tests/stand-ins/verify_lib.sh"
kc_verify_begin dynalite

port=$(kc_free_port)
kc_start_dynalite "$tmp" "$port" persist
pass "dynalite answers at $KC_DYNAMODB_ENDPOINT"

table=kc-verify
kc_aws dynamodb create-table --table-name "$table" --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=leaseKey,AttributeType=S \
  --key-schema AttributeName=leaseKey,KeyType=HASH >/dev/null
status=$(kc_aws dynamodb describe-table --table-name "$table" --query Table.TableStatus --output text)
[[ $status == ACTIVE ]] || fail "create-table: expected ACTIVE at once, got $status"
pass "create-table, table ACTIVE"

item='{"leaseKey":{"S":"p:s:shardId-000000000000"},"checkpoint":{"S":"49590338271490256608559692538361571095921575989136588898"},"leaseCounter":{"N":"3"}}'
kc_aws dynamodb put-item --table-name "$table" --item "$item"
got=$(kc_aws dynamodb get-item --table-name "$table" --consistent-read \
  --key '{"leaseKey":{"S":"p:s:shardId-000000000000"}}' \
  --query '[Item.checkpoint.S, Item.leaseCounter.N]' --output text)
[[ $got == $'49590338271490256608559692538361571095921575989136588898\t3' ]] ||
  fail "get-item: unexpected answer '$got'"
pass "put-item then get-item return the item"

if output=$(KC_AWS_SECRET_ACCESS_KEY=wrong kc_aws dynamodb put-item --table-name "$table" \
  --item '{"leaseKey":{"S":"forged"}}' 2>&1); then
  fail "put-item signed with a wrong secret succeeded: $output"
fi
expect_refused "put-item signed with a wrong secret" InvalidSignatureException "$output"
count=$(kc_aws dynamodb scan --table-name "$table" --select COUNT --query Count --output text)
((count == 1)) || fail "expected 1 item after the refused write, found $count"
pass "the refused write changed nothing"

kc_stop_services "$tmp"
curl -s -o /dev/null --max-time 2 "$KC_DYNAMODB_ENDPOINT/" && fail "dynalite still answers after kc_stop_services"
pass "kc_stop_services stopped dynalite"
kc_start_dynalite "$tmp" "$port" persist
got=$(kc_aws dynamodb get-item --table-name "$table" --consistent-read \
  --key '{"leaseKey":{"S":"p:s:shardId-000000000000"}}' --query 'Item.leaseCounter.N' --output text)
[[ $got == 3 ]] || fail "after a restart with persist: expected the item back, got '$got'"
pass "with persist, a restart on the same port keeps tables and items"

echo "all $checks checks passed"
