# phases.awk -- the phases' names for every awk script of the comparison
# (table, charts): "2 unsafe" rather than a bare 2. The names are read from
# phases/phases.list (under $LAB_ROOT, else the current folder), the one
# place where the phases are listed.

# phases_load reads the list once: number -> name.
function phases_load(    file, line, f) {
    if (phases_loaded)
        return
    phases_loaded = 1
    file = (ENVIRON["LAB_ROOT"] != "" ? ENVIRON["LAB_ROOT"] "/" : "") "phases/phases.list"
    while ((getline line < file) > 0) {
        if (line ~ /^#/ || split(line, f, " ") < 2)
            continue
        phases_names[f[1]] = f[2]
    }
    close(file)
}

# phase_name is the word a phase's /healthz answers with.
function phase_name(p) {
    phases_load()
    return (p in phases_names) ? phases_names[p] : "phase"
}

# phase_label is the number and the name, what tables and charts show.
function phase_label(p) {
    return p " " phase_name(p)
}
