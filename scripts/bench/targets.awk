# targets.awk -- the targets of make bench, each with pass or miss:
#
#   awk -v full=0|1 -f targets.awk targets.conf ROWS
#
# targets.conf: "phase, measure prefix, connections, comparison" (its header
# says more); ROWS: scripts/bench.sh's rows, tab-separated (phase, measure,
# connections, figure, unit, limit, limit is, ratio, p99 ms). Prints one line
# for each row a target holds; a target that holds no row prints "not
# measured" when full is 1 (every measurement ran), nothing otherwise
# (--only). Always exits 0.
BEGIN { FS = "\t"; nt = 0; nr = 0 }

function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }

FILENAME == ARGV[1] {
    line = $0
    sub(/#.*/, "", line)
    if (trim(line) == "")
        next
    n = split(line, f, ",")
    if (n != 4 || !match(trim(f[4]), /^(>=|<=|>|<)/)) {
        printf "  target  (ignored, not \"phase, measure prefix, connections, comparison\": %s)\n", trim($0)
        next
    }
    nt++
    t_phase[nt] = trim(f[1]); t_measure[nt] = trim(f[2]); t_conns[nt] = trim(f[3])
    cmp = trim(f[4])
    t_op[nt] = substr(cmp, 1, RLENGTH)
    num = trim(substr(cmp, RLENGTH + 1))
    t_ratio[nt] = num ~ /x$/
    sub(/x$/, "", num)
    t_num[nt] = num + 0
    t_text[nt] = num
    next
}

NF >= 8 {
    nr++
    r_phase[nr] = $1; r_measure[nr] = $2; r_conns[nr] = $3
    r_figure[nr] = $4; r_unit[nr] = $5; r_ratio[nr] = $8
}

function holds(v, op, n) {
    if (op == ">=") return v >= n
    if (op == "<=") return v <= n
    if (op == ">") return v > n
    return v < n
}

END {
    shown = 0
    for (t = 1; t <= nt; t++) {
        hit = 0
        for (r = 1; r <= nr; r++) {
            if (r_phase[r] != t_phase[t] || index(r_measure[r], t_measure[t]) != 1)
                continue
            if (t_conns[t] != "*" && r_conns[r] != t_conns[t])
                continue
            hit = 1
            if (t_ratio[t]) {
                ok = r_ratio[r] != "" && r_figure[r] + 0 > 0
                value = ok ? sprintf("%.2fx", r_ratio[r]) : "-"
                goal = t_text[t] "x"
                v = r_ratio[r] + 0
            } else {
                ok = r_figure[r] + 0 > 0
                value = ok ? r_figure[r] " " r_unit[r] : "-"
                goal = t_text[t] " " r_unit[r]
                v = r_figure[r] + 0
            }
            word = ok && holds(v, t_op[t], t_num[t]) ? "pass" : "miss"
            printf "  target  %-2s %-36s %5s conns  %14s %-2s %-12s %s\n", t_phase[t], t_measure[t],
                r_conns[r], value, t_op[t], goal, word
            shown++
        }
        if (!hit && full) {
            goal = t_text[t] (t_ratio[t] ? "x" : "")
            printf "  target  %-2s %-36s %5s conns  %14s %-2s %-12s %s\n", t_phase[t], t_measure[t],
                t_conns[t], "-", t_op[t], goal, "not measured"
            shown++
        }
    }
    if (!shown)
        print "  (no target among the measurements run)"
    exit 0
}
