#!/usr/bin/env bash
# tsan-live.sh -- the live page under ThreadSanitizer: what `make tsan` runs
# after the harness's own check. The TSan harness attacks phase 2 with
# --live (a sustained run paced to last a few seconds, then a burst), while
# build/liveprobe holds five streams open and reads every event, and one
# more client never reads (--live-buffer-kb 4). A data race
# between the client threads, the live thread, the database poller or the
# nemesis makes the harness exit 66 (TSAN_OPTIONS), which fails this script.
#
#   bash scripts/tsan-live.sh
set -euo pipefail
source "$(dirname "$0")/../infra/common.sh"

addr=${LAB_LIVE:-127.0.0.1:18088}
log=$LAB_LOGS/tsan-live.log
mkdir -p "$LAB_LOGS"
failed=0
for shape in "--mode sustained --connections 8 --requests 600 --pace-ms 50" "--users 300"; do
    # shellcheck disable=SC2086 # the shape's words are options
    TSAN_OPTIONS=halt_on_error=1:exitcode=66 bash "$LAB_ROOT/infra/attack.sh" --phase 2 \
        --harness-dir build/tsan --threads 4 --no-csv $shape --seats 150 \
        --live "$addr" --live-linger 3 --live-buffer-kb 4 >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
        grep -q "the race is shown at" "$log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    "$LAB_ROOT/build/liveprobe" --addr "$addr" --clients 5 --seconds 60 --until-final --id tsan \
        >"$log.probe" 2>&1 &
    probe=$!
    "$LAB_ROOT/build/liveprobe" --addr "$addr" --stall --seconds 8 --id tsanslow >"$log.slow" 2>&1 &
    slow=$!
    status=0
    wait "$pid" || status=$?
    wait "$probe" || true
    wait "$slow" || true
    if [ "$status" -ne 0 ] || grep -q "ThreadSanitizer" "$log"; then
        echo "tsan-live: the harness with --live ($shape) exited $status:" >&2
        grep -A 30 "WARNING: ThreadSanitizer" "$log" >&2 || tail -n 20 "$log" >&2
        failed=1
    else
        say "tsan-live: $shape: no data race (the probe read: $(grep -o 'streams=[0-9]* .* ticks=[0-9]*' "$log.probe"))"
    fi
done
exit "$failed"
