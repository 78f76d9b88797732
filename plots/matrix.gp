# matrix.gp -- the strategy matrix (scripts/matrix.sh): seats oversold
# (left) and p99 latency (right) per strategy, a bar per instance count.
# Reads dat (strategy, then n oversold columns, then n p99-in-ms columns).
width = 1200; height = 560
load plotdir . "/style.gp"

set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 nomirror
set key top left
set multiplot layout 1, 2 title "Strategies x instances: " . title font ",15"

set title "seats oversold" font ",12"
set ylabel "oversold"
set yrange [0:*]
plot for [i = 2 : 1 + n] dat using i:xtic(1) title columnheader(i) \
     lc rgb (i == 2 ? "#1f77b4" : "#d62728")

set title "p99 latency" font ",12"
set ylabel "p99 (ms)"
plot for [i = 2 + n : 1 + 2 * n] dat using i:xtic(1) title columnheader(i) \
     lc rgb (i == 2 + n ? "#1f77b4" : "#d62728")
unset multiplot
