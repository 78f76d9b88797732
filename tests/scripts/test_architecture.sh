#!/usr/bin/env bash
# test_architecture.sh -- docs/architecture.md's folder tree of the service
# frame is the frame: every file under phases/frame/ is in the tree, and
# every file the tree names exists; a header private to its room
# (clients/queue_kafka.h) is included only from that room; no frame file
# includes a header by a bare name that is not in its own folder; and the
# checker itself catches a file missing from the tree. No service needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh

# tree_files DOC: the paths the "## Folders" block of DOC names under
# phases/frame/, one per line; NAME.[ch] stands for NAME.c and NAME.h.
tree_files() {
    awk '
        /^## Folders/ { in_section = 1 }
        in_section && /^```/ { if (in_block) exit; in_block = 1; next }
        !in_block { next }
        {
            match($0, /^ */); depth = RLENGTH
            name = $1
            if (depth == 2 && name == "frame/") { in_frame = 1; frame_depth = depth; next }
            if (in_frame && depth <= frame_depth) in_frame = 0
            if (!in_frame || name !~ /^[a-z_]+(\/|\.c|\.h|\.\[ch\])$/) next
            if (name ~ /\/$/) { room = name; next }
            if (name ~ /\.\[ch\]$/) {
                base = substr(name, 1, length(name) - 5)
                print "phases/frame/" room base ".c"
                print "phases/frame/" room base ".h"
            } else {
                print "phases/frame/" room name
            }
        }' "$1" | sort
}

# check_tree DOC FILES: FILES (sorted paths) against DOC's tree.
check_tree() {
    diff <(tree_files "$1") "$2" >"$tmp/diff" && return 0
    sed 's/^</  in the tree, not a file:/; s/^>/  a file, not in the tree:/' "$tmp/diff" | grep '^  ' >&2
    return 1
}

git ls-files 'phases/frame/*.c' 'phases/frame/*.h' | sort >"$tmp/files"
[ "$(wc -l <"$tmp/files")" -gt 20 ] || fail "phases/frame/ has suspiciously few files"
[ "$(tree_files docs/architecture.md | wc -l)" -gt 20 ] ||
    fail "the tree in docs/architecture.md names suspiciously few files"
check_tree docs/architecture.md "$tmp/files" ||
    fail "docs/architecture.md's folder tree and phases/frame/ differ (see above)"

# --- the checker catches a file the tree does not name ----------------------
{ cat "$tmp/files"; echo phases/frame/booking/extra.c; } | sort >"$tmp/more"
check_tree docs/architecture.md "$tmp/more" 2>/dev/null &&
    fail "a file missing from the tree went unnoticed"

# --- private headers stay in their room -------------------------------------
while read -r file; do
    case $file in phases/frame/clients/*) continue ;; esac
    fail "$file includes clients/queue_kafka.h, which is private to clients/"
done < <(git grep -l 'queue_kafka\.h' -- '*.c' '*.h')

# --- a bare include names a file of the same folder -------------------------
while IFS=: read -r file header; do
    dir=$(dirname "$file")
    [ -f "$dir/$header" ] || [ -f "lib/$header" ] ||
        fail "$file includes \"$header\", neither in its folder nor in lib/ (use \"room/$header\")"
done < <(git grep -o '#include "[a-z_0-9]*\.h"' -- 'phases/frame/*.c' 'phases/frame/*.h' |
         sed 's/#include "\(.*\)"/\1/')

finish test_architecture
