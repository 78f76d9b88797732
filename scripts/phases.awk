# phases.awk -- the phases' names, in one place for every awk script of the
# comparison (table, charts): "2 unsafe" rather than a bare 2.

# phase_name is the word a phase's /healthz answers with.
function phase_name(p) {
    if (p == 2) return "unsafe"
    if (p == 3) return "lock"
    if (p == 4) return "redis"
    if (p == 5) return "kafka"
    if (p == 6) return "combined"
    return "phase"
}

# phase_label is the number and the name, what tables and charts show.
function phase_label(p) {
    return p " " phase_name(p)
}
