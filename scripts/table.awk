# table.awk -- the comparison table, from a results CSV with the harness's
# columns (docs/compare.md): one line per run, in the file's order. The
# terminal, REPORT.md and REPORT.html all show this same table.
#
#   awk -F, -v fmt=text|md|html -v file=NAME -f scripts/phases.awk -f scripts/table.awk FILE.csv
# (scripts/table.sh runs it so)
#
# Columns: phase, run (burst or sustained), booked (ticket rows in the
# database), oversold, phantom, lost, failed requests, req/s, p99 in ms, the
# queue's drain in s (asynchronous phases), verdict.

# need fails on a CSV without the column NAME: a file of other columns
# must not yield a table of wrong figures.
function need(name) {
    if (!(name in col)) {
        printf "table.awk: %s has no column '%s'\n", file, name > "/dev/stderr"
        bad = 1
        exit 2
    }
}

function v(name) { return $(col[name]) }

# html_escape makes a cell safe inside HTML.
function html_escape(s) {
    gsub(/&/, "\\&amp;", s)
    gsub(/</, "\\&lt;", s)
    gsub(/>/, "\\&gt;", s)
    return s
}

# cells fills cell[1..ncell] with the row's formatted figures.
function cells(    async) {
    async = v("queued") > 0 || v("drain_s") > 0
    ncell = 0
    cell[++ncell] = phase_label(v("phase"))
    cell[++ncell] = v("mode")
    cell[++ncell] = v("sold")
    cell[++ncell] = v("oversold")
    cell[++ncell] = v("phantom")
    cell[++ncell] = v("lost")
    cell[++ncell] = v("errors")
    cell[++ncell] = sprintf("%.0f", v("req_per_s"))
    cell[++ncell] = sprintf("%.1f", v("p99_us") / 1000)
    cell[++ncell] = async ? sprintf("%.2f", v("drain_s")) : "-"
    cell[++ncell] = v("verdict")
}

BEGIN {
    nhead = split("phase,run,booked,oversold,phantom,lost,failed,req/s,p99 ms,drain s,verdict",
                  head, ",")
    width = "%-12s %-9s %6s %8s %7s %4s %6s %7s %8s %7s %s"
    if (fmt == "") fmt = "text"
    if (fmt != "text" && fmt != "md" && fmt != "html") {
        print "table.awk: fmt is text, md or html" > "/dev/stderr"
        bad = 1
        exit 2
    }
}

NR == 1 {
    for (i = 1; i <= NF; i++) col[$i] = i
    split("phase mode sold oversold phantom lost errors req_per_s p99_us drain_s queued verdict",
          wanted, " ")
    for (i in wanted) need(wanted[i])
    if (fmt == "text") {
        printf width "\n", head[1], head[2], head[3], head[4], head[5], head[6], head[7],
               head[8], head[9], head[10], head[11]
    } else if (fmt == "md") {
        line = "|"; rule = "|"
        for (i = 1; i <= nhead; i++) {
            line = line " " head[i] " |"
            rule = rule (i <= 2 || i == nhead ? " --- |" : " ---: |")
        }
        print line; print rule
    } else {
        print "<table>"
        line = "<tr>"
        for (i = 1; i <= nhead; i++) line = line "<th>" head[i] "</th>"
        print line "</tr>"
    }
    next
}

NF > 1 {
    rows++
    cells()
    if (fmt == "text") {
        printf width "\n", cell[1], cell[2], cell[3], cell[4], cell[5], cell[6], cell[7],
               cell[8], cell[9], cell[10], cell[11]
    } else if (fmt == "md") {
        if (cell[11] == "BUG") cell[11] = "**BUG**"
        line = "|"
        for (i = 1; i <= ncell; i++) line = line " " cell[i] " |"
        print line
    } else {
        line = "<tr" (cell[11] == "BUG" ? " class=\"bug\"" : "") ">"
        for (i = 1; i <= ncell; i++)
            line = line (i <= 2 || i == ncell ? "<td>" : "<td class=\"num\">") html_escape(cell[i]) "</td>"
        print line "</tr>"
    }
}

END {
    if (bad) exit 2
    if (fmt == "html" && NR > 0) print "</table>"
    if (rows == 0) {
        printf "table.awk: %s holds no runs\n", file > "/dev/stderr"
        exit 1
    }
}
