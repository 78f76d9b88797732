# headline.gp -- the lab in one picture: for each phase, the tickets that
# went wrong in the burst (oversold, phantom) against the phase's
# throughput. Safe phases sit on the zero line; the unsafe one stands off
# it. Reads dir/headline.dat (chartdata.awk): "label" req/s oversold phantom rgb.
width = 960; height = 600
load plotdir . "/style.gp"
data = dir . "/headline.dat"

stats data using 2 nooutput
xmin = STATS_min; xmax = STATS_max
stats data using (($3 > $4) ? $3 : $4) nooutput
ymax = STATS_max > 10 ? STATS_max : 10

set title "Wrong tickets against throughput, one point per phase" . \
    (subtitle eq "" ? "" : "\n" . subtitle)
set xlabel "throughput of the sustained run (requests/s, log scale)"
set ylabel "wrong tickets after the burst"
set logscale x
set xrange [xmin / 1.6 : xmax * 1.6]
set yrange [-0.12 * ymax : 1.25 * ymax]
set format x "%.0f"
# log axes get tics at 1, 2 and 5 times each power of ten, not only at 10^n
set xtics ()
do for [e = 0:7] { do for [m in "1 2 5"] { set xtics add (int(m) * 10**e) } }
set xzeroaxis lt 1 lw 2 lc rgb "#666666"
set key top right
set label 1 "0 = correct: every safe phase sits on this line" at graph 0.02, first -0.06 * ymax \
    left tc rgb "#444444" font ",10"
set offsets 0, 0, 0, 0

top(o, p) = o > p ? o : p
plot data using 2:3:5 with points pt 7 ps 2.2 lc rgb variable notitle, \
     data using 2:4:5 with points pt 6 ps 3.6 lw 2.5 lc rgb variable notitle, \
     data using 2:(top($3, $4)):1:5 with labels offset 0, 2.1 tc rgb variable font ",12" \
         notitle, \
     NaN with points pt 7 ps 2 lc rgb "#444444" title "oversold: tickets beyond the seats", \
     NaN with points pt 6 ps 3 lw 2.5 lc rgb "#444444" title "phantom: sales the seat counter missed"
