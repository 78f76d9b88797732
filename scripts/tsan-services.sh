#!/usr/bin/env bash
# tsan-services.sh -- a service under ThreadSanitizer: what `make tsan`
# runs after the harness's own check. Phase 4's requests cross threads (the
# polling threads, the Redis pipe, the booking threads): it is built in
# build/tsan/, started, attacked with a burst and a sustained run by the
# release harness, and stopped with SIGTERM; a data race makes it exit 66
# (TSAN_OPTIONS), which fails this script.
#
# Phases 5 and 6 cannot run under TSan here: Debian's librdkafka 2.0.2
# starts its threads with C11 thrd_create, which GCC 12's TSan does not
# intercept, and the first allocation on such a thread crashes in TSan's
# allocator (a segmentation fault in getaddrinfo, before any request).
#
#   bash scripts/tsan-services.sh [PHASE...]     default: 4
set -euo pipefail
source "$(dirname "$0")/../infra/common.sh"

phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(4)
url="http://$LAB_HTTP"
mkdir -p "$LAB_LOGS"
bash "$LAB_ROOT/infra/services.sh" up >/dev/null
curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 && die "something already answers on $url: stop it first"

failed=0
for phase in "${phases[@]}"; do
    log=$LAB_LOGS/tsan-phase$phase.log
    topic=tsan-$phase-$$
    TSAN_OPTIONS=halt_on_error=1:exitcode=66 "$LAB_ROOT/build/tsan/phase$phase" --think-ms 1 \
        --topic "$topic" --group "$topic" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    "$LAB_ROOT/build/attack" --url "$url" --users 300 --seats 100 --no-csv >/dev/null 2>>"$log" || true
    "$LAB_ROOT/build/attack" --url "$url" --mode sustained --connections 50 --requests 3000 \
        --seats 1000 --no-csv >/dev/null 2>>"$log" || true
    kill -TERM "$pid" 2>/dev/null || true
    status=0
    wait "$pid" || status=$?
    if [ "$status" -eq 0 ] && ! grep -q 'WARNING: ThreadSanitizer' "$log"; then
        say "tsan: phase $phase clean"
    else
        say "tsan: phase $phase exited $status; see $log"
        grep -m 1 -A 12 'WARNING: ThreadSanitizer' "$log" >&2 || true
        failed=1
    fi
done
exit "$failed"
