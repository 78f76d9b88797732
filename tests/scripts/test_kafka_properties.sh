#!/usr/bin/env bash
# test_kafka_properties.sh -- LAB_KAFKA_PROPERTIES, how a managed Kafka's
# TLS and SASL settings reach the phases (docs/bring-your-own.md): a file
# that cannot be read, a line that is not name=value and a setting that
# librdkafka refuses each stop phase 5 at start with a message naming the
# file or the setting, never the value of a password; a good file is
# applied and the phase serves. Needs the lab's services (make services)
# and LAB_TEST_HTTP's port.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh
source infra/common.sh

bin=${LAB_TEST_BIN_DIR:-build/san}
addr=${LAB_TEST_HTTP:-127.0.0.1:18181}
topic=lab-test-props-$$

# start_phase FILE: phase 5 with LAB_KAFKA_PROPERTIES=FILE, in the
# background; its output in $tmp/phase.log, its pid in $pid.
start_phase() {
    LAB_KAFKA_PROPERTIES=$1 "$bin/phase5" --listen "$addr" --topic "$topic" --group "$topic" \
        >"$tmp/phase.log" 2>&1 &
    pid=$!
}

# refused FILE WHAT TEXT: the phase exits non-zero by itself, says TEXT.
refused() {
    local rc=0
    LAB_KAFKA_PROPERTIES=$1 timeout 60 "$bin/phase5" --listen "$addr" --topic "$topic" \
        --group "$topic" >"$tmp/phase.log" 2>&1 || rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$2: the phase did not stop by itself (status $rc)"
    grep -qF -- "$3" "$tmp/phase.log" || fail "$2: no '$3' in: $(tail -n 3 "$tmp/phase.log")"
    ! grep -q S3cretKP "$tmp/phase.log" || fail "$2: the password is shown: $(cat "$tmp/phase.log")"
}

refused "$tmp/none" "a missing file" "LAB_KAFKA_PROPERTIES: cannot read $tmp/none"
printf '# managed\nsasl.password=S3cretKP1\nsasl.mechanisms\n' >"$tmp/bad-line"
refused "$tmp/bad-line" "a line without =" "$tmp/bad-line line 3: want name=value"
printf 'sasl.password=S3cretKP2\nsecurity.protocol=bogus\n' >"$tmp/bad-value"
refused "$tmp/bad-value" "a refused setting" "Kafka setting security.protocol=bogus refused"
printf 'sasl.password =S3cretKP4\nsasl.passwordx=S3cretKP5\n' >"$tmp/bad-secret"
refused "$tmp/bad-secret" "a refused secret" "Kafka setting sasl.passwordx=*** refused"

# a good file: applied (librdkafka takes client.id), the phase serves
printf '# the lab itself, plain text\n  client.id = blanks-around\nclient.id=lab-props-test\n' >"$tmp/good"
start_phase "$tmp/good"
ok=0
for _ in $(seq 1 300); do
    if curl -fsS -m 1 "http://$addr/healthz" >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
[ "$ok" -eq 1 ] || fail "a good file: phase 5 did not serve: $(tail -n 5 "$tmp/phase.log")"
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
finish test_kafka_properties
