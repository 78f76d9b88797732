# reportfmt.awk -- the report's formatting, for scripts/report.sh: the same
# text as Markdown (fmt=md) or HTML (fmt=html). Two modes:
#
#   mode=table   stdin is tab-separated, the first line the header: a table.
#                A cell may hold **bold** and `code`; a row with a bold
#                cell, or a cell that says BUG, is a finding (class "bug"
#                in HTML); a column of numbers is right-aligned.
#   mode=md      stdin is a Markdown file that another target generated
#                (docs/matrix.md, results/faults/NAME.md): headings moved
#                down by shift levels, links kept as their text (the page
#                refers to nothing outside itself); for HTML, headings,
#                tables and paragraphs converted. drop_h1=1 leaves out the
#                file's own title (the report's section has one).
#
#   awk -F '\t' -v fmt=html -v mode=table -f scripts/reportfmt.awk
#
# Plain POSIX awk (mawk runs it): no gensub, no arrays of arrays.

# esc makes text safe inside HTML.
function esc(s) {
    gsub(/&/, "\\&amp;", s)
    gsub(/</, "\\&lt;", s)
    gsub(/>/, "\\&gt;", s)
    gsub(/"/, "\\&quot;", s)
    return s
}

# pairs turns each MARK...MARK of s into OPENING...CLOSING (an unpaired MARK
# stays as it is).
function pairs(s, mark, opening, closing,    out, i, j, n) {
    out = ""
    n = length(mark)
    while ((i = index(s, mark)) > 0) {
        j = index(substr(s, i + n), mark)
        if (j == 0)
            break
        out = out substr(s, 1, i - 1) opening substr(s, i + n, j - 1) closing
        s = substr(s, i + n + j - 1 + n)
    }
    return out s
}

# unlink keeps the text of each Markdown link [text](target).
function unlink(s,    m, t) {
    while (match(s, /\[[^]]*\]\([^)]*\)/)) {
        m = substr(s, RSTART, RLENGTH)
        t = substr(m, 2, index(m, "](") - 2)
        s = substr(s, 1, RSTART - 1) t substr(s, RSTART + RLENGTH)
    }
    return s
}

# inline is a cell's or a paragraph's text in the output format.
function inline(s) {
    s = unlink(s)
    if (fmt == "md")
        return s
    s = esc(s)
    s = pairs(s, "`", "<code>", "</code>")
    return pairs(s, "**", "<strong>", "</strong>")
}

# numeric says whether a cell reads as a figure (a column of them is
# right-aligned); "-", "n/a" and empty cells say nothing either way.
function numeric(s) {
    return s ~ /^[-+]?[0-9][0-9.,]*( ?(%|s|ms|x|MiB|req\/s|dec\/s))?$/
}
function neutral(s) {
    return s == "" || s == "-" || s == "n/a"
}

# ---------------------------------------------------------------------------
# Tables: rows collected in cell[r, c], written by table_out
# ---------------------------------------------------------------------------

# table_add adds one row of n cells.
function table_add(n, f,    c) {
    rows++
    ncells[rows] = n
    for (c = 1; c <= n; c++) {
        cell[rows, c] = f[c]
        if (rows > 1 && !neutral(f[c]) && !numeric(f[c]))
            text_col[c] = 1
        if (rows > 1 && !neutral(f[c]))
            seen_col[c] = 1
    }
    if (n > width)
        width = n
}

# table_out writes the collected rows as one table and forgets them.
function table_out(    r, c, line, v, cls, bug) {
    if (rows == 0)
        return
    if (fmt == "md") {
        for (r = 1; r <= rows; r++) {
            line = "|"
            for (c = 1; c <= width; c++) {
                v = cell[r, c]
                gsub(/\|/, "\\|", v)
                line = line " " inline(v) " |"
            }
            print line
            if (r == 1) {
                line = "|"
                for (c = 1; c <= width; c++)
                    line = line (seen_col[c] && !text_col[c] ? " ---: |" : " --- |")
                print line
            }
        }
    } else {
        print "<table>"
        for (r = 1; r <= rows; r++) {
            bug = 0
            for (c = 1; c <= width; c++)
                if (index(cell[r, c], "**") > 0 || cell[r, c] == "BUG")
                    bug = 1
            line = (r > 1 && bug) ? "<tr class=\"bug\">" : "<tr>"
            for (c = 1; c <= width; c++) {
                v = cell[r, c]
                if (r == 1)
                    line = line "<th>" inline(v) "</th>"
                else {
                    cls = (seen_col[c] && !text_col[c]) ? " class=\"num\"" : ""
                    line = line "<td" cls ">" inline(v) "</td>"
                }
            }
            print line "</tr>"
        }
        print "</table>"
    }
    for (r = 1; r <= rows; r++)
        for (c = 1; c <= width; c++)
            delete cell[r, c]
    for (c = 1; c <= width; c++) {
        delete text_col[c]
        delete seen_col[c]
    }
    rows = 0
    width = 0
}

# md_table_line adds a Markdown table line (its separator line skipped).
function md_table_line(line,    n, f, c) {
    if (line ~ /^\|[-:| ]+\|?[ \t]*$/)
        return
    sub(/^\|/, "", line)
    sub(/\|[ \t]*$/, "", line)
    gsub(/\\\|/, "\001", line)
    n = split(line, f, "|")
    for (c = 1; c <= n; c++) {
        gsub(/\001/, "|", f[c])
        sub(/^[ \t]+/, "", f[c])
        sub(/[ \t]+$/, "", f[c])
    }
    table_add(n, f)
}

# para_out writes the paragraph gathered so far.
function para_out() {
    if (para != "")
        print "<p>" inline(para) "</p>"
    para = ""
}

BEGIN {
    if (shift == "")
        shift = 2
}

mode == "table" {
    n = split($0, f, "\t")
    table_add(n, f)
    next
}

mode == "md" && drop_h1 && /^# / {
    next
}

mode == "md" && fmt == "md" {
    line = $0
    if (line ~ /^#+ /)
        line = substr("######", 1, shift) line
    print unlink(line)
    next
}

mode == "md" {
    line = $0
    if (line ~ /^\|/) {
        para_out()
        md_table_line(line)
        next
    }
    table_out()
    if (line ~ /^#+ /) {
        para_out()
        n = index(line, " ") - 1
        level = n + shift
        if (level > 6)
            level = 6
        print "<h" level ">" inline(substr(line, n + 2)) "</h" level ">"
        next
    }
    if (line ~ /^[ \t]*$/) {
        para_out()
        next
    }
    para = para (para == "" ? "" : " ") line
}

END {
    if (mode == "md" && fmt != "md")
        para_out()
    table_out()
}
