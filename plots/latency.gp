# latency.gp -- how long a user waits, per phase: p50, p90, p99 and the
# slowest answer, for the burst (left) and the sustained run (right), on a
# log scale. Reads dir/latency-burst.dat and dir/latency-sustained.dat:
# "label" p50 p90 p99 max, in milliseconds.
width = 1200; height = 560
load plotdir . "/style.gp"

set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.9 border rgb "#333333"
set boxwidth 0.95
set logscale y
set format y "%g"
set ylabel "latency (ms, log scale)"
set xtics scale 0
set grid noxtics ytics
set key outside bottom center horizontal reverse Left samplen 1.5 width 1

# one y range for both panels, from the power of ten below the fastest
# p50 (a sub-millisecond bar must not vanish) to above the slowest answer
low = 1e9; high = 0
do for [mode in "burst sustained"] {
    stats dir . "/latency-" . mode . ".dat" using 2 nooutput
    low = STATS_min < low ? STATS_min : low
    stats dir . "/latency-" . mode . ".dat" using 5 nooutput
    high = STATS_max > high ? STATS_max : high
}
low = low > 0 ? 10**floor(log10(low)) : 0.01
set yrange [low : high * 2]

panel(mode) = dir . "/latency-" . mode . ".dat"
set multiplot layout 1, 2 title "Latency per phase: p50, p90, p99, max" font ",15"
do for [mode in "burst sustained"] {
    if (mode eq "burst") {
        set title "burst: " . burst_shape font ",12"
    } else {
        set title "sustained: " . sustained_shape font ",12"
    }
    plot panel(mode) using 2:xtic(1) title "p50" lc rgb "#c6dbef", \
         '' using 3 title "p90" lc rgb "#6baed6", \
         '' using 4 title "p99" lc rgb "#2171b5", \
         '' using 5 title "max" lc rgb "#08306b"
}
unset multiplot
