# sweep.gp -- throughput (left) and p99 latency (right) against the number
# of concurrent users, a line per phase, both on log scales; a cross marks
# an attack whose audit found a bug. Reads dir/sweep-P.dat (users req/s
# p99_ms bug, the phase's label in the header) for each P of phases.
width = 1200; height = 600
load plotdir . "/style.gp"

file(p) = dir . "/sweep-" . p . ".dat"
n = words(phases)
set logscale x 2
set logscale y
set xlabel "concurrent users (log scale)"
set xtics (50, 100, 200, 400, 800, 1600, 3200)
set format y "%g"
# one key for both panels, in a band kept free under them
set multiplot layout 1, 2 title "Concurrency sweep" . \
    (subtitle eq "" ? "" : "\n" . subtitle) font ",15" \
    margins 0.07, 0.98, 0.2, 0.83 spacing 0.08
set key at screen 0.5, 0.02 center bottom horizontal reverse Left samplen 2.5 width 1

set title "throughput" font ",12"
set ylabel "requests/s (log scale)"
plot for [p in phases] file(p) using 1:2 with linespoints lw 2.5 pt 7 ps 1.2 \
         lc rgb phase_color(int(p)) title columnheader(2), \
     for [i = 1 : n] file(word(phases, i)) using 1:($4 > 0 ? $2 : NaN) with points \
         pt 2 ps 2.6 lw 2.5 lc rgb "black" title (i == 1 ? "audit: BUG" : "")

unset key
set title "p99 latency" font ",12"
set ylabel "p99 latency (ms, log scale)"
plot for [p in phases] file(p) using 1:3 with linespoints lw 2.5 pt 7 ps 1.2 \
         lc rgb phase_color(int(p)) title columnheader(3), \
     for [i = 1 : n] file(word(phases, i)) using 1:($4 > 0 ? $3 : NaN) with points \
         pt 2 ps 2.6 lw 2.5 lc rgb "black" title (i == 1 ? "audit: BUG" : "")
unset multiplot
