# chartdata.awk -- turns the results CSVs into the small whitespace-separated
# files that the gnuplot scripts in plots/ read, in the folder DIR. Columns
# are found by name in the header, so a reordered CSV still plots right.
#
#   awk -F, -v what=compare  -v dir=D -f phases.awk -f chartdata.awk compare.csv
#       D/headline.dat           "label" req/s oversold phantom rgb  (one per phase)
#       D/latency-burst.dat      "label" p50 p90 p99 max, in ms      (one per phase)
#       D/latency-sustained.dat  the same for the sustained runs
#       D/async.txt              the asynchronous phases, "5 6"
#   awk -F, -v what=sweep    -v dir=D ... sweep.csv
#       D/sweep-P.dat            users req/s p99_ms bug(0/1), by users (one file per phase)
#       D/phases.txt             the phases swept, "2 3 4 5 6"
#   awk -F, -v what=timeline -v dir=D ... compare-timeline.csv
#       D/timeline-P-MODE.dat    t_s accepted decided                (one file per run)
#
# The headline's x is the sustained run's throughput (the burst's when a
# phase has no sustained run); its y are the burst's oversold and phantom
# (the sustained run's when there is no burst): the race is the burst's.

function v(name) { return $(col[name]) }

# phase_rgb is the phase's colour as gnuplot's "lc rgb variable" wants it.
function phase_rgb(p) {
    if (p == 2) return 14034728   # #d62728 red: the unsafe phase
    if (p == 3) return 2062260    # #1f77b4 blue
    if (p == 4) return 2924588    # #2ca02c green
    if (p == 5) return 16744206   # #ff7f0e orange
    if (p == 6) return 9725885    # #9467bd purple
    return 5592405                # #555555
}

function need(list,    n, i, names) {
    n = split(list, names, " ")
    for (i = 1; i <= n; i++)
        if (!(names[i] in col)) {
            printf "chartdata.awk: %s has no column '%s'\n", file, names[i] > "/dev/stderr"
            bad = 1
            exit 2
        }
}

# remember_phase keeps the phases in the order they first appear.
function remember_phase(p) {
    if (!(p in seen)) { seen[p] = 1; order[++nphases] = p }
}

NR == 1 {
    for (i = 1; i <= NF; i++) col[$i] = i
    if (what == "compare")
        need("phase mode oversold phantom req_per_s p50_us p90_us p99_us max_us queued drain_s")
    else if (what == "sweep")
        need("phase concurrency req_per_s p99_us verdict")
    else if (what == "timeline")
        need("phase mode t_s accepted decided")
    else {
        print "chartdata.awk: what is compare, sweep or timeline" > "/dev/stderr"
        bad = 1
        exit 2
    }
    next
}

NF < 2 { next }

what == "compare" {
    p = v("phase"); m = v("mode")
    remember_phase(p)
    rate[p, m] = v("req_per_s")
    oversold[p, m] = v("oversold"); phantom[p, m] = v("phantom")
    lat[p, m] = sprintf("%.3f %.3f %.3f %.3f", v("p50_us") / 1000, v("p90_us") / 1000,
                        v("p99_us") / 1000, v("max_us") / 1000)
    has[p, m] = 1
    if (v("queued") > 0 || v("drain_s") > 0) async[p] = 1
    next
}

what == "sweep" {
    p = v("phase")
    remember_phase(p)
    # one row per (phase, users): a repeated point keeps the last run
    if (!((p, v("concurrency")) in point)) users[p] = users[p] " " v("concurrency")
    point[p, v("concurrency")] = v("req_per_s") " " sprintf("%.3f", v("p99_us") / 1000) " " \
                                 (v("verdict") == "BUG" ? 1 : 0)
    next
}

what == "timeline" {
    out = dir "/timeline-" v("phase") "-" v("mode") ".dat"
    if (!(out in started)) {
        started[out] = 1
        printf "t_s \"%s accepted\" \"%s decided\"\n", phase_label(v("phase")),
               phase_label(v("phase")) > out
    }
    print v("t_s"), v("accepted"), v("decided") > out
    rows++
    next
}

# sort_numbers sorts the words of S as numbers (insertion sort: five of them).
function sort_numbers(s, sorted,    n, i, j, t) {
    n = split(s, sorted, " ")
    for (i = 2; i <= n; i++) {
        t = sorted[i] + 0
        for (j = i - 1; j >= 1 && sorted[j] + 0 > t; j--) sorted[j + 1] = sorted[j]
        sorted[j + 1] = t
    }
    return n
}

END {
    if (bad) exit 2
    if (what == "compare") {
        if (nphases == 0) { print "chartdata.awk: no runs in " file > "/dev/stderr"; exit 1 }
        list = ""
        for (i = 1; i <= nphases; i++) {
            p = order[i]
            x = has[p, "sustained"] ? rate[p, "sustained"] : rate[p, "burst"]
            m = has[p, "burst"] ? "burst" : "sustained"
            printf "\"%s\" %s %s %s %d\n", phase_label(p), x, oversold[p, m], phantom[p, m],
                   phase_rgb(p) > (dir "/headline.dat")
            for (k = 1; k <= 2; k++) {
                m = k == 1 ? "burst" : "sustained"
                if (has[p, m])
                    printf "\"%s\" %s\n", phase_label(p), lat[p, m] > (dir "/latency-" m ".dat")
            }
            if (p in async) list = list (list == "" ? "" : " ") p
        }
        print list > (dir "/async.txt")
    } else if (what == "sweep") {
        if (nphases == 0) { print "chartdata.awk: no runs in " file > "/dev/stderr"; exit 1 }
        list = ""
        for (i = 1; i <= nphases; i++) {
            p = order[i]
            out = dir "/sweep-" p ".dat"
            printf "users \"%s\" \"%s\" bug\n", phase_label(p), phase_label(p) > out
            n = sort_numbers(users[p], sorted)
            for (j = 1; j <= n; j++) print sorted[j], point[p, sorted[j]] > out
            list = list (list == "" ? "" : " ") p
        }
        print list > (dir "/phases.txt")
    } else if (rows == 0) {
        print "chartdata.awk: no rows in " file > "/dev/stderr"
        exit 1
    }
}
