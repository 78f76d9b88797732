# drain.gp -- the asynchronous phases over time: requests accepted (answered
# 201 or 202: dashed) and decided (a ticket or a refusal in the database:
# solid). The gap between the two lines is the queue; where decided meets
# accepted, the queue is drained. Burst on the left, sustained run on the
# right. Reads dir/timeline-P-MODE.dat (t_s accepted decided) for P in async.
width = 1200; height = 560
load plotdir . "/style.gp"

file(p, mode) = dir . "/timeline-" . p . "-" . mode . ".dat"
n = words(async)
width(i) = 2 + 1.5 * (n - i)
set xlabel "time since the users were released (s)"
set ylabel "requests"
set yrange [0 : *]
set xrange [0 : *]
# the key goes in a band kept free above the lines, where it hides nothing
set key inside top right horizontal maxrows 2 samplen 4 width 1 reverse Left
set offsets 0, 0, graph 0.3, 0
set multiplot layout 1, 2 title "The queue draining: accepted and decided requests over time" font ",15"
do for [mode in "burst sustained"] {
    if (mode eq "burst") {
        set title "burst: " . burst_shape font ",12"
    } else {
        set title "sustained: " . sustained_shape font ",12"
    }
    # the earlier phases' lines are wider, so that a line drawn over
    # another (5 and 6 decide at the same pace at first) leaves it visible
    plot for [i = 1 : n] file(word(async, i), mode) using 1:2 with lines lw width(i) dt 2 \
             lc rgb phase_color(int(word(async, i))) title columnheader(2), \
         for [i = 1 : n] file(word(async, i), mode) using 1:3 with lines lw width(i) \
             lc rgb phase_color(int(word(async, i))) title columnheader(3)
}
unset multiplot
