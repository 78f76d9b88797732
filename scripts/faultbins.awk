# faultbins.awk -- a fault run's history (results/<run>-history.jsonl) in
# 100 ms bins, for plots/fault.gp: per bin of completion time, the ok
# answers per second, the other answers per second, and the p99 latency of
# the ok answers completed in the bin (ms; "NaN" for an empty bin).
#
#   awk -f scripts/faultbins.awk results/<run>-history.jsonl > bins.dat
function num(key,    m) {
    if (match($0, "\"" key "\":-?[0-9]+")) {
        m = substr($0, RSTART, RLENGTH)
        sub(/.*:/, "", m)
        return m + 0
    }
    return -1
}
function p99(b,    n, i, j, t, arr) {
    n = cnt[b]
    if (n == 0) return "NaN"
    split(lat[b], arr, " ")
    # insertion sort: a bin holds a few hundred at most
    for (i = 2; i <= n; i++) {
        t = arr[i] + 0
        for (j = i - 1; j >= 1 && arr[j] + 0 > t; j--) arr[j + 1] = arr[j]
        arr[j + 1] = t
    }
    i = int(0.99 * n + 0.999999)
    if (i < 1) i = 1
    return sprintf("%.1f", arr[i] / 1000.0)
}
{
    inv = num("invokeUs"); done = num("completeUs")
    if (done < 0) next
    b = int(done / 100000)
    if (b > last) last = b
    if ($0 !~ /"class":"ok"/) { bad[b]++; next }
    ok[b]++
    cnt[b]++
    lat[b] = lat[b] " " (done - inv)
}
END {
    print "t_s ok_per_s other_per_s p99_ms"
    for (b = 0; b <= last; b++)
        printf "%.1f %d %d %s\n", b / 10.0, ok[b] * 10, bad[b] * 10, p99(b)
}
