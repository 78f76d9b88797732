#!/usr/bin/env bash
# test_secrets.sh -- no password reaches a log line: the shell's lab_mask
# (infra/common.sh) masks each form libpq accepts, and a service that
# cannot reach PostgreSQL (a closed port) prints neither the password of
# its LAB_PG, in any form, nor PGPASSWORD's value, nor LAB_REDIS_PASSWORD's.
# Needs no service: the port asked is one where nothing listens.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh
source infra/common.sh

bin=${LAB_TEST_BIN_DIR:-build/san}

# no_fragment TEXT SECRET WHAT fails when any 4 consecutive characters of
# SECRET appear in TEXT: half a password is a leak as well.
no_fragment() {
    local i
    for ((i = 0; i + 4 <= ${#2}; i++)); do
        if [[ $1 == *"${2:i:4}"* ]]; then
            fail "$3: '${2:i:4}' of the secret is shown: $1"
            return
        fi
    done
}

# --- the shell's mask: each form, the secret gone, the rest kept -------------
# line | secret as written | a part of the line that must stay
cases=(
    "host=db user=lab password=S3cretPW1 dbname=x|S3cretPW1|dbname=x"
    "host=db password = S3cretPW4 dbname=x|S3cretPW4|dbname=x"
    "host=db password='S3cret PW3' dbname=x|S3cret PW3|dbname=x"
    "host=db password = 'S3c\\'ret PW7' dbname=x|S3c\\'ret PW7|dbname=x"
    "password=S3c\\ retPW9 dbname=x|S3c\\ retPW9|dbname=x"
    "(postgresql://lab:S3c\"retPW12@db/t) down|S3c\"retPW12|@db/t) down"
    "postgresql://lab:S3c%22ret%20PW13@db/t|S3c%22ret%20PW13|@db/t"
    "postgresql://db/t?user=lab&password=S3c%27retPW18&sslmode=disable|S3c%27retPW18|&sslmode=disable"
    "postgresql://db/t?pass%77ord=S3cretPW19&port=5|S3cretPW19|&port=5"
    "PGPASSWORD=S3cretPW22 psql|S3cretPW22| psql"
)
for c in "${cases[@]}"; do
    IFS='|' read -r line secret kept <<<"$c"
    masked=$(lab_mask "$line")
    no_fragment "$masked" "$secret" "lab_mask '$line'"
    [[ $masked == *"$kept"* ]] || fail "lab_mask '$line' lost '$kept': $masked"
    [[ $masked == *'***'* ]] || fail "lab_mask '$line' shows no ***: $masked"
done
plain="postgresql://lab@127.0.0.1:15432/ticketlab fe_sendauth: no password supplied"
[ "$(lab_mask "$plain")" = "$plain" ] || fail "lab_mask changed a line without a password: $(lab_mask "$plain")"
masked=$(PGPASSWORD=EnvS3cretPW lab_mask "psql said EnvS3cretPW")
[ "$masked" = "psql said ***" ] || fail "lab_mask shows PGPASSWORD's value: $masked"

# die masks what it prints: a malformed LAB_PG with a password
run env LAB_PG='postgresql://lab:DieS3cretPW@' bash infra/services.sh status pg
[ "$status" -ne 0 ] || fail "a malformed LAB_PG was accepted: $out"
[[ $out == *"LAB_PG must look like"* ]] || fail "no error about LAB_PG: $out"
no_fragment "$out" DieS3cretPW "services.sh's error"

# --- a service that cannot reach PostgreSQL ---------------------------------
# Port 1 refuses at once: the service exits 1 at start-up with "cannot reach
# PostgreSQL". Each LAB_PG below carries a password; PGPASSWORD and
# LAB_REDIS_PASSWORD carry two more.
conninfos=(
    "host=127.0.0.1 port=1 dbname=x user=lab password='S3cret PW3'|S3cret PW3"
    "host=127.0.0.1 port=1 dbname=x user=lab password = S3cretPW4|S3cretPW4"
    "host=127.0.0.1 port=1 dbname=x password='S3c\\'ret\\\\PW5'|S3c\\'ret\\\\PW5"
    "postgresql://lab:S3c\"retPW6@127.0.0.1:1/x|S3c\"retPW6"
    "postgresql://lab:S3c%22retPW7@127.0.0.1:1/x|S3c%22retPW7"
    "postgresql://lab:S3c%zzretPW8@127.0.0.1:1/x|S3c%zzretPW8"
    "postgresql://lab@127.0.0.1:1/x?password=S3cretPW9&sslmode=disable|S3cretPW9"
    "postgresql://lab@127.0.0.1:1/x?password=S3cret%20PW10|S3cret%20PW10"
)
for c in "${conninfos[@]}"; do
    IFS='|' read -r conninfo secret <<<"$c"
    run env LAB_PG="$conninfo" PGPASSWORD=EnvPgS3cretPW LAB_REDIS_PASSWORD=EnvRedisS3cretPW \
        LAB_HTTP=127.0.0.1:1 "$bin/phase2"
    [ "$status" -eq 1 ] || fail "phase2 with LAB_PG=<$secret> exited $status, not 1: $out"
    [[ $out == *"cannot reach PostgreSQL"* ]] || fail "phase2 did not say why it stopped: $out"
    no_fragment "$out" "$secret" "phase2's stderr (LAB_PG's password)"
    no_fragment "$out" EnvPgS3cretPW "phase2's stderr (PGPASSWORD)"
    no_fragment "$out" EnvRedisS3cretPW "phase2's stderr (LAB_REDIS_PASSWORD)"
done
# the decoded form of a percent-encoded password is no more shown
run env LAB_PG="postgresql://lab:Dec%41S3cret@127.0.0.1:1/x" "$bin/phase2"
[[ $out == *"cannot reach PostgreSQL"* ]] || fail "phase2 did not say why it stopped: $out"
no_fragment "$out" "DecAS3cret" "phase2's stderr (decoded password)"

finish test_secrets
