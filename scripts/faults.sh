#!/usr/bin/env bash
# faults.sh -- the fault matrix (`make faults`): every phase under every
# fault, one run each (scripts/nemesis.sh), and a table of what each cost:
# oversold, lost, duplicated, counter drift, undersold, availability in the
# fault window, time to recover, the checker's verdict.
#
#   bash scripts/faults.sh [--phases "3 4 5 6"] [--faults "kill-service ..."]
#                          [--label NAME] [--bin-dir DIR] [--topology replicated]
#
# --topology replicated (`make faults TOPOLOGY=replicated`): the faults only
# a cluster has, against the replicated topology that runs (docs/cluster.md),
# label `replicated` by default. A fault may carry a variant: FAULT+acks1
# (the phase's producer with --acks 1) or FAULT+async (an asynchronous
# standby: LAB_PG_SYNC=off for that run). A phase is attacked only with
# the faults of the servers it uses (3: PostgreSQL; 4: and Redis; 5: and
# Kafka; 6: all three).
#
# Writes results/faults/NAME.md (default NAME: matrix), its metadata in
# results/faults/NAME.json (when, revision, machine, versions: the report
# shows them), and keeps each run's checker figures in
# results/faults/runs/NAME-pP-FAULT.json. --bin-dir
# attacks other builds of the services (the harness is always build/):
# docs/faults.md measures the services before the fixes that way.
set -euo pipefail
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$LAB_ROOT/scripts/compare-lib.sh"   # common.sh, write_metadata

phases="3 4 5 6"
faults="kill-service kill-worker restart-redis restart-kafka restart-postgres pause-postgres pause-redis"
label=
bin_dir=build
topology=single
faults_given=
while [ $# -gt 0 ]; do
    case $1 in
        --phases) phases=${2:?}; shift 2 ;;
        --faults) faults=${2:?}; faults_given=1; shift 2 ;;
        --label) label=${2:?}; shift 2 ;;
        --topology) topology=${2:?}; shift 2 ;;
        --bin-dir) bin_dir=${2:?}; shift 2 ;;
        -h | --help) script_help "$0"; exit 0 ;;
        *) echo "faults.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
case $topology in
single) label=${label:-matrix} ;;
replicated)
    label=${label:-replicated}
    [ -n "$faults_given" ] ||
        faults="kill-broker kill-broker+acks1 kill-controller failover-postgres failover-postgres+async failover-redis partition-pg partition-redis partition-kafka"
    [ "$LAB_TOPOLOGY" = replicated ] ||
        { echo "faults.sh: no replicated topology runs: LAB_TOPOLOGY=replicated make services" >&2; exit 2; }
    ;;
*) echo "faults.sh: --topology is single or replicated" >&2; exit 2 ;;
esac
[[ $label =~ ^[A-Za-z0-9_-]+$ ]] || { echo "faults.sh: --label is letters, digits, - and _" >&2; exit 2; }

# fault_server FAULT prints the server a fault strikes (pg, redis, kafka),
# nothing for the phase's own processes.
fault_server() {
    case ${1%%+*} in
    *postgres | partition-pg) echo pg ;;
    *redis) echo redis ;;
    *kafka | kill-broker | kill-controller) echo kafka ;;
    esac
}

# phase_uses PHASE SERVER: phase 3 needs PostgreSQL only, 4 and Redis, 5
# and Kafka, 6 all three.
phase_uses() {
    case $2 in
    pg | "") return 0 ;;
    redis) [ "$1" = 4 ] || [ "$1" = 6 ] ;;
    kafka) [ "$1" = 5 ] || [ "$1" = 6 ] ;;
    esac
}
out=$LAB_ROOT/results/faults
mkdir -p "$out/runs"
table=$out/$label.md
stamp=$(utc_stamp)

{
    echo "| phase | fault | oversold | lost | duplicated | false conf. | drift | undersold | availability | recover | verdict |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} >"$table.tmp"
for p in $phases; do
    for f in $faults; do
        if [ "$f" = kill-worker ] && [ "$p" != 5 ] && [ "$p" != 6 ]; then
            continue   # no worker process in a synchronous phase
        fi
        phase_uses "$p" "$(fault_server "$f")" || continue
        run=${label//[^A-Za-z0-9]/}$(date +%s)p$p
        say "faults: phase $p, $f"
        variant=() sync=$LAB_PG_SYNC
        case $f in
        *+acks1) variant=(--service-arg --acks --service-arg 1) ;;
        *+async) sync=off ;;
        *+*) echo "faults.sh: unknown variant in '$f' (+acks1, +async)" >&2; exit 2 ;;
        esac
        LAB_PG_SYNC=$sync NEMESIS_RUN_ID=$run NEMESIS_BIN_DIR=$bin_dir bash "$LAB_ROOT/scripts/nemesis.sh" \
            --phase "$p" --fault "${f%%+*}" --harness-dir build ${variant[@]+"${variant[@]}"} \
            >"$out/runs/$label-p$p-$f.log" 2>&1 || true
        json=$LAB_ROOT/results/$run-check.json
        if [ -s "$json" ]; then
            cp "$json" "$out/runs/$label-p$p-$f.json"
            jq -r --arg p "$p" --arg f "$f" '"| \($p) | \($f) | \(.check_oversold) | \(.check_lost) | \(.check_duplicated) | \(.check_false_confirmations) | \(.check_drift // "n/a") | \(.check_undersold) | \(if .check_availability_pct == null then "n/a" else "\(.check_availability_pct) %" end) | \(if .check_recover_s == null then "n/a" else "\(.check_recover_s) s" end) | \(.check_verdict) |"' \
                "$json" >>"$table.tmp"
        else
            echo "| $p | $f | | | | | | | | | no result: see runs/$label-p$p-$f.log |" >>"$table.tmp"
        fi
        tail -n 1 "$table.tmp"
    done
done
mv "$table.tmp" "$table"
write_metadata "$out/$label.json" faults "$stamp" \
    "$(printf '{"phases": %s, "faults": %s, "label": %s, "bin_dir": %s}' "$(json_str "$phases")" \
        "$(json_str "$faults")" "$(json_str "$label")" "$(json_str "$bin_dir")")" \
    "$(printf '{"table": %s, "runs": %s}' "$(json_str "$label.md")" "$(json_str "runs/$label-p*-*.json")")"
say "faults: $table"
