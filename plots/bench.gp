# bench.gp -- make bench in one picture: each figure as a ratio to its limit
# (pgbench on the same transaction, wrk on the same service's /healthz),
# one bar per measure, 1.0 = the limit. Reads dir/bench.dat
# (scripts/bench-plot.sh): "label" ratio colour (0xRRGGBB as a number).
# The ratios run from a tenth to tens (a batch consumer against one
# transaction), so the axis is logarithmic.
width = 960; height = 620
load plotdir . "/style.gp"
data = dir . "/bench.dat"

unset title
set label 10 "make bench: each figure against its limit" . \
    (subtitle eq "" ? "" : "\n" . subtitle) at screen 0.5, screen 0.965 center font ",13"
set tmargin 4
set xlabel "ratio to the limit (1.0 = the limit)"
set style fill solid 0.85 border lc rgb "#444444"
set boxwidth 0.7
set yrange [-0.7 : *] reverse
set ytics scale 0 font ",10"
set logscale x
set xrange [0.05 : 100]
set xtics (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
set key off
set arrow 1 from 1, graph 0 to 1, graph 1 nohead lc rgb "#666666" dt 2 lw 2
plot data using 2:0:(0.05):2:($0 - 0.35):($0 + 0.35):3:ytic(1) \
         with boxxyerror lc rgb variable, \
     "" using 2:0:(sprintf(" %.2fx", $2)) with labels left font ",10"
