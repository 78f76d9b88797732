# sweeptable.awk -- the concurrency sweep as a table: one line per phase,
# one column per number of users, each cell "req/s, p99 ms", and BUG when
# the audit of that attack found one. Reads a
# sweep CSV (the harness's columns; concurrency is the users).
#
#   awk -F, -v fmt=text|md|html -v file=NAME -f phases.awk -f sweeptable.awk sweep.csv
# (scripts/table.sh --sweep runs it so)

function v(name) { return $(col[name]) }

function need(list,    n, i, names) {
    n = split(list, names, " ")
    for (i = 1; i <= n; i++)
        if (!(names[i] in col)) {
            printf "sweeptable.awk: %s has no column '%s'\n", file, names[i] > "/dev/stderr"
            bad = 1
            exit 2
        }
}

NR == 1 {
    for (i = 1; i <= NF; i++) col[$i] = i
    need("phase concurrency req_per_s p99_us verdict")
    next
}

NF > 1 {
    p = v("phase"); u = v("concurrency") + 0
    if (!(p in seen_phase)) { seen_phase[p] = 1; phases[++nphases] = p }
    if (!(u in seen_users)) { seen_users[u] = 1; users[++nusers] = u }
    cell[p, u] = sprintf("%.0f, %.1f", v("req_per_s"), v("p99_us") / 1000) \
                 (v("verdict") == "BUG" ? (fmt == "md" ? " **BUG**" : " BUG") : "")
}

END {
    if (bad) exit 2
    if (nphases == 0) {
        printf "sweeptable.awk: %s holds no runs\n", file > "/dev/stderr"
        exit 1
    }
    # the users in increasing order (insertion sort: a handful)
    for (i = 2; i <= nusers; i++) {
        t = users[i]
        for (j = i - 1; j >= 1 && users[j] > t; j--) users[j + 1] = users[j]
        users[j + 1] = t
    }
    if (fmt == "md") {
        line = "| phase |"; rule = "| --- |"
        for (i = 1; i <= nusers; i++) { line = line " " users[i] " users |"; rule = rule " ---: |" }
        print line; print rule
    } else if (fmt == "html") {
        line = "<table>\n<tr><th>phase</th>"
        for (i = 1; i <= nusers; i++) line = line "<th>" users[i] " users</th>"
        print line "</tr>"
    } else {
        line = sprintf("%-12s", "phase")
        for (i = 1; i <= nusers; i++) line = line sprintf(" %20s", users[i] " users")
        print line
    }
    for (k = 1; k <= nphases; k++) {
        p = phases[k]
        if (fmt == "md") line = "| " phase_label(p) " |"
        else if (fmt == "html") line = "<tr><td>" phase_label(p) "</td>"
        else line = sprintf("%-12s", phase_label(p))
        for (i = 1; i <= nusers; i++) {
            c = ((p, users[i]) in cell) ? cell[p, users[i]] : "-"
            if (fmt == "md") line = line " " c " |"
            else if (fmt == "html") line = line "<td class=\"num\">" c "</td>"
            else line = line sprintf(" %20s", c)
        }
        print line (fmt == "html" ? "</tr>" : "")
    }
    if (fmt == "html") print "</table>"
}
