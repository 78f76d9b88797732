# report-lib.sh -- sourced (not run) by scripts/report.sh: how the report
# writes (the same calls give Markdown or HTML, by $fmt), which results
# file of a kind is the latest, and a run's environment from its metadata.
#
# The writers read $fmt (md or html), $out (the report's folder, for the
# Markdown's relative links to the charts) and $drawn (the charts the
# report draws, moved to $out/report-charts/ at the end).

# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

# html_escape makes text safe inside HTML, quotes included (attributes).
# The replacements are quoted: bash 5.2 reads an unquoted & in them as the
# matched text.
html_escape() {
    local s=$1
    s=${s//&/"&amp;"}
    s=${s//</"&lt;"}
    s=${s//>/"&gt;"}
    s=${s//\"/"&quot;"}
    printf '%s' "$s"
}

# inline prints text written for the report, with `code`, **bold** and
# links to the page's own sections ([text](#id)), in the output format.
inline() {
    if [ "$fmt" = md ]; then
        printf '%s' "$1"
    else
        html_escape "$1" | sed -E 's/`([^`]*)`/<code>\1<\/code>/g; s/\*\*([^*]*)\*\*/<strong>\1<\/strong>/g
            s/\[([^]]*)\]\((#[a-z]+)\)/<a href="\2">\1<\/a>/g'
    fi
}

# plain prints text that comes from a results file: no markup of ours.
plain() {
    if [ "$fmt" = md ]; then printf '%s' "$1"; else html_escape "$1"; fi
}

# shown names a file as the report shows it: relative to the repository.
shown() { printf '%s' "${1#"$LAB_ROOT"/}"; }

# ---------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------

# section_start ID TITLE STATE opens a section: an anchor the contents and
# the tests find (id), its title, and whether its results are there (STATE
# present or missing, the class of the HTML section).
section_start() {
    if [ "$fmt" = md ]; then
        printf '\n<a id="%s"></a>\n\n## %s\n\n' "$1" "$2"
    else
        printf '<section id="%s" class="%s">\n<h2>%s</h2>\n' "$1" "$3" "$(html_escape "$2")"
    fi
}
# section_end closes what section_start opened.
section_end() {
    [ "$fmt" = md ] || echo "</section>"
}

# h3 TITLE: a heading inside a section.
h3() {
    if [ "$fmt" = md ]; then printf '\n### %s\n\n' "$1"; else echo "<h3>$(html_escape "$1")</h3>"; fi
}

# para TEXT: a paragraph of the report's own words (inline markup allowed).
para() {
    if [ "$fmt" = md ]; then printf '%s\n\n' "$1"; else echo "<p>$(inline "$1")</p>"; fi
}

# note TEXT: a paragraph in a smaller voice (captions, what a column means).
note() {
    if [ "$fmt" = md ]; then printf '%s\n\n' "$1"; else echo "<p class=\"note\">$(inline "$1")</p>"; fi
}

# pre TEXT: text from a results file kept as it is, lines and all (an
# explanation, a verdict).
pre() {
    if [ "$fmt" = md ]; then
        printf '```text\n%s\n```\n\n' "$1"
    else
        printf '<pre>%s</pre>\n' "$(html_escape "$1")"
    fi
}

# made_by COMMAND WHAT: the section's first line, the command that makes
# its results.
made_by() {
    note "Made by \`$1\`: $2"
}

# missing WHAT TARGET: a section (or a part of one) without results, and
# the make target that produces them; data-make lets a test find it.
missing() {
    if [ "$fmt" = md ]; then
        printf '**Missing:** %s: run %s.\n\n' "$1" "$2"
    else
        printf '<p class="missing" data-make="%s"><strong>Missing:</strong> %s: run %s.</p>\n' \
            "$(html_escape "$2")" "$(html_escape "$1")" "$(html_escape "$2")"
    fi
}

# kv: "name|value" lines on stdin as a two-column table (values may hold
# inline markup).
kv() {
    local name value
    if [ "$fmt" = md ]; then
        echo "| | |"
        echo "| --- | --- |"
        while IFS='|' read -r name value; do echo "| $name | ${value//|/\\|} |"; done
        echo
    else
        echo "<table class=\"meta\">"
        while IFS='|' read -r name value; do
            echo "<tr><th>$(html_escape "$name")</th><td>$(inline "$value")</td></tr>"
        done
        echo "</table>"
    fi
}

# table: tab-separated lines on stdin, the header first (reportfmt.awk).
table() {
    awk -F '\t' -v fmt="$fmt" -v mode=table -f "$LAB_ROOT/scripts/reportfmt.awk"
    [ "$fmt" = html ] || echo
}

# include_md FILE: a Markdown file another target generated, its own title
# left out, its headings under the section's.
include_md() {
    awk -v fmt="$fmt" -v mode=md -v shift=2 -v drop_h1=1 -f "$LAB_ROOT/scripts/reportfmt.awk" "$1"
    [ "$fmt" = html ] || echo
}

# image FILE ALT: a chart, linked from the Markdown (relative to the
# report's folder) and inlined in the HTML as a data: URI, byte for byte.
image() {
    if [ "$fmt" = md ]; then
        local link
        case $1 in
            "$drawn"/*) link=report-charts/${1#"$drawn"/} ;;   # moved beside the report at the end
            *) link=$(realpath -m --relative-to="$out" "$1") ;;
        esac
        printf '![%s](%s)\n\n' "$2" "$link"
    else
        printf '<p><img alt="%s" src="data:image/png;base64,' "$(html_escape "$2")"
        base64 -w 0 "$1"
        echo '"></p>'
    fi
}

# is_png FILE: FILE starts with the PNG signature (a chart that is there
# but broken is left out rather than shown as a broken image).
is_png() {
    [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
}

# ---------------------------------------------------------------------------
# Which file: the latest of a kind
# ---------------------------------------------------------------------------

# file_time FILE prints when FILE was made, as 20261204T225521Z: the stamp
# in its name (compare-<stamp>.csv), else the "stamp" of its metadata
# beside it (NAME.json), else the commit that holds it when git has it
# unchanged (a fresh clone's files all have the checkout's time), else its
# modification time.
file_time() {
    local f=$1 base t
    base=${f##*/}
    if [[ $base =~ ([0-9]{8}T[0-9]{6}Z) ]]; then
        printf '%s' "${BASH_REMATCH[1]}"
        return
    fi
    if [ "${f%.*}.json" != "$f" ] && [ -f "${f%.*}.json" ]; then
        t=$(jq -r '.stamp // empty' "${f%.*}.json" 2>/dev/null || true)
        if [[ $t =~ ^[0-9]{8}T[0-9]{6}Z$ ]]; then
            printf '%s' "$t"
            return
        fi
    fi
    t=$(git_time "$f")
    if [ -n "$t" ]; then
        printf '%s' "$t"
        return
    fi
    date -u -r "$f" +%Y%m%dT%H%M%SZ
}

# git_time FILE: the time of the last commit of FILE, as a stamp, when git
# tracks FILE and it is unchanged since; nothing otherwise.
git_time() {
    local dir=${1%/*} t
    git -C "$dir" ls-files --error-unmatch -- "$1" >/dev/null 2>&1 || return 0
    [ -z "$(git -C "$dir" status --porcelain -- "$1" 2>/dev/null)" ] || return 0
    t=$(git -C "$dir" log -1 --format=%ct -- "$1" 2>/dev/null || true)
    [ -z "$t" ] || date -u -d "@$t" +%Y%m%dT%H%M%SZ
}

# file_when FILE says when FILE was made and how the report knows.
file_when() {
    local t how
    t=$(file_time "$1")
    if [[ ${1##*/} =~ [0-9]{8}T[0-9]{6}Z ]]; then
        how="the stamp in its name"
    elif [ -n "$(git_time "$1")" ]; then
        how="the commit that holds the file"
    else
        how="the file's modification time"
    fi
    printf '%s (%s)' "$(iso_time "$t")" "$how"
}

# iso_time STAMP: 20261204T225521Z as 2026-12-04T22:55:21Z.
iso_time() {
    sed -E 's/^(....)(..)(..)T(..)(..)(..)Z$/\1-\2-\3T\4:\5:\6Z/' <<<"$1"
}

# newest FILE...: the file made last (file_time); of files made at the
# same time, the first given (callers list the usual name first).
newest() {
    local f t best="" best_t=""
    for f in "$@"; do
        [ -f "$f" ] || continue
        t=$(file_time "$f")
        if [ -z "$best" ] || [[ $t > $best_t ]]; then
            best=$f
            best_t=$t
        fi
    done
    printf '%s' "$best"
}

# ---------------------------------------------------------------------------
# The environment of a run
# ---------------------------------------------------------------------------

# env_rows META [WHEN]: "name|value" lines of a run's environment, from its
# metadata: compare-lib.sh's write_metadata (started, git_rev, machine,
# versions) or bench.sh's "environment". WHEN stands in for a start time
# the metadata lacks. Without metadata: when the results file was made,
# and that the run recorded no environment.
env_rows() {
    local meta=$1 when=${2:-}
    if [ -z "$meta" ] || ! jq -e 'type == "object" and (has("machine") or has("environment")
            or has("versions") or has("git_rev"))' "$meta" >/dev/null 2>&1; then
        [ -z "$when" ] || echo "when|$when"
        echo "environment|not recorded by the run that made these results"
        return
    fi
    jq -r --arg when "$when" '
        def known: if . == null or . == "" then "not recorded" else tostring end;
        (.machine // {}) as $m | (.versions // {}) as $v | (.environment // {}) as $e |
        "started|" + (.started // $e.started // (if $when == "" then null else $when end) | known),
        "revision|" + (.git_rev // $e.git | known)
            + (if (.git_dirty // $e.git_dirty) == true then " (with uncommitted changes)" else "" end),
        "machine|" + ($m.nproc // $e.cores | known) + " CPUs (nproc), " + ($m.cpu_model // $e.cpu | known)
            + ", " + ($m.kernel // $e.kernel | known),
        "memory|" + (($m.memory_mib // $e.memory_mib) as $x
            | if ($x | type) != "number" or $x <= 0 then "not recorded"
              else "\(($x / 1024 * 10 | round) / 10) GiB" end),
        "PostgreSQL|" + ($v.postgresql // $e.postgresql | known),
        "Redis|" + ($v.redis // $e.redis | known),
        "Kafka|" + ($v.kafka // $e.kafka | known),
        "librdkafka|" + ($v.librdkafka // $e.librdkafka | known),
        "libmicrohttpd|" + ($v.libmicrohttpd // $e.libmicrohttpd | known)' "$meta"
}
