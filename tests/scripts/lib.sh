# lib.sh -- sourced by the script tests (tests/scripts/test_*.sh): a scratch
# folder removed on exit, assertions that count their failures and go on (so
# one run shows them all), and the closing line with the exit status.

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# fail records a failed assertion and goes on.
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run CMD... keeps the command's output (stdout and stderr) in $out and its
# exit status in $status.
run() {
    status=0
    out=$("$@" 2>&1) || status=$?
}

# finish NAME prints the verdict and exits 1 if any assertion failed.
finish() {
    if [ "$failures" -gt 0 ]; then
        echo "$1: $failures assertion(s) failed" >&2
        exit 1
    fi
    echo "$1: all assertions passed"
}
