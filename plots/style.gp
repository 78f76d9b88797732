# style.gp -- loaded by every chart after it has set width and height: the
# terminal for fmt ("png": pngcairo, "svg"), the output file out, and the
# looks they share. The phases' colours come with the data (chartdata.awk)
# or from phase_color below; both say 2 red, 3 blue, 4 green, 5 orange,
# 6 purple, so that a phase has one colour on every chart.
if (fmt eq "svg") {
    set terminal svg size width, height dynamic noenhanced font "DejaVu Sans,13" background rgb "white"
} else {
    set terminal pngcairo size width, height noenhanced font "DejaVu Sans,11" background rgb "white"
}
set output out
set encoding utf8

phase_color(p) = p == 2 ? "#d62728" : p == 3 ? "#1f77b4" : p == 4 ? "#2ca02c" : \
                 p == 5 ? "#ff7f0e" : p == 6 ? "#9467bd" : "#555555"

set border 3 lc rgb "#444444"
set tics nomirror tc rgb "#222222"
set grid lc rgb "#e0e0e0" lt 1
set key box lc rgb "#bbbbbb" opaque samplen 2.5 spacing 1.2
set title font ",15"
