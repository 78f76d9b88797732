#!/usr/bin/env bash
# test_zoo.sh -- scripts/zoo.sh without running a bug: a conf it cannot read
# line by line is refused (exit 2) with the line named; the lab's own conf has
# at least twelve bugs, each in a phase that has the safeguard it switches
# off (the service refuses the flags otherwise, exit 2); bad options exit 2.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh

# a line without its three bars, a bad phase, a bad speed
printf 'bug  x  3  fast  attack  | --without for-update | --users 10\n' >"$tmp/bars.conf"
run bash scripts/zoo.sh --conf "$tmp/bars.conf" --out "$tmp/out"
[ "$status" -eq 2 ] || fail "a line with two bars: exit $status, not 2"
[[ $out == *bars.conf:1* ]] || fail "the bad line is not named: $out"
printf 'bug  x  9  fast  attack  | a | | b\n' >"$tmp/phase.conf"
run bash scripts/zoo.sh --conf "$tmp/phase.conf" --out "$tmp/out"
[ "$status" -eq 2 ] || fail "phase 9: exit $status, not 2"
printf 'bug  x  3  quick  attack  | a | | b\n' >"$tmp/speed.conf"
run bash scripts/zoo.sh --conf "$tmp/speed.conf" --out "$tmp/out"
[ "$status" -eq 2 ] || fail "speed quick: exit $status, not 2"
printf '# nothing\n' >"$tmp/empty.conf"
run bash scripts/zoo.sh --conf "$tmp/empty.conf" --out "$tmp/out"
[ "$status" -eq 2 ] || fail "a conf without a bug: exit $status, not 2"
run bash scripts/zoo.sh --bogus
[ "$status" -eq 2 ] || fail "an unknown option: exit $status, not 2"

# the service's own refusals: exit 2 with the reason
LAB_PG=postgresql://lab@127.0.0.1:1/none run build/san/phase3 --without bogus
[ "$status" -eq 2 ] && [[ $out == *"no safeguard 'bogus'"* ]] || fail "--without bogus: $status $out"
LAB_PG=postgresql://lab@127.0.0.1:1/none run build/san/phase3 --without give-back
[ "$status" -eq 2 ] && [[ $out == *"phase 3 has no safeguard give-back"* ]] ||
    fail "phase 3 --without give-back: $status $out"

# the lab's conf: >= 12 bugs, and every bug's flags are taken by its phase
bugs=$(grep -c '^bug ' regress/zoo.conf)
[ "$bugs" -ge 12 ] || fail "regress/zoo.conf has $bugs bugs, fewer than 12"
bin=${LAB_TEST_BIN_DIR:-build/san}
while IFS= read -r line; do
    read -r _ name phase _ <<<"${line%%|*}"
    IFS='|' read -r _ on _ _ <<<"$line"
    args=()
    # shellcheck disable=SC2206 # the conf's words are meant to be split
    words=($on)
    for ((i = 0; i < ${#words[@]}; i += 2)); do
        case ${words[$i]} in
            --without | --strategy) args+=("${words[$i]}" "${words[$((i + 1))]}") ;;
            *) args+=(--service-arg-unknown) ;;
        esac
    done
    # a flag the service refuses exits 2 at once; with flags it takes, it
    # goes on to PostgreSQL, which nothing answers on port 1: exit 1
    LAB_PG=postgresql://lab@127.0.0.1:1/none run "$bin/phase$phase" "${args[@]}" \
        --listen 127.0.0.1:1
    [ "$status" -eq 1 ] || fail "zoo $name: phase $phase ${args[*]}: exit $status, not 1: $out"
    [[ $out == *"cannot reach PostgreSQL"* ]] || fail "zoo $name: phase $phase refused ${args[*]}: $out"
    [[ $out == *"PLANTED BUG"* ]] && fail "zoo $name: said PLANTED before it started"
done < <(grep '^bug ' regress/zoo.conf)

finish test_zoo
