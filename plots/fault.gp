# fault.gp -- one fault run over time, as Jepsen draws its runs: above, the
# answers per second (ok: the API said what became of the request; other:
# refused connects, 503s, timeouts); below, the p99 latency of the ok answers
# completed in each 100 ms; the fault windows shaded (from the break to the
# start of the heal; lighter: the heal until its command returned).
# Reads data (scripts/faultbins.awk) and windows, a blank-separated list of
# "break,heal,healed" seconds; title.
width = 1100; height = 700
load plotdir . "/style.gp"

set multiplot layout 2, 1 title title font ",14"
nwin = words(windows)
win(i, k) = real(word(system("echo " . word(windows, i) . " | tr , ' '"), k))
do for [i = 1 : nwin] {
    set object i rect from win(i, 1), graph 0 to win(i, 2), graph 1 fc rgb "#f4b6b6" fs solid 0.5 noborder behind
    set object (i + 20) rect from win(i, 2), graph 0 to win(i, 3), graph 1 fc rgb "#fbe3c4" fs solid 0.5 noborder behind
}
set xrange [0 : *]
set yrange [0 : *]
set ylabel "answers per second"
set key inside top right
set format x ""
plot data using 1:2 with steps lw 2 lc rgb "#1f77b4" title "ok", \
     data using 1:3 with steps lw 1.5 lc rgb "#d62728" title "fail / info"
set format x "%g"
set xlabel "time since the start of the attack (s)"
set ylabel "p99 latency (ms)"
plot data using 1:4 with steps lw 2 lc rgb "#9467bd" title "p99 per 100 ms"
unset multiplot
