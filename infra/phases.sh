# phases.sh -- sourced (not run): the lab's phases as the scripts see them,
# read from phases/phases.list, the one place where they are listed.
#
#   LAB_PHASES         "2 3 4 5 6"
#   lab_is_phase N     succeeds when N is one of them
#   lab_phase_range    "2 to 6", for messages

_lab_phases_file=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/phases/phases.list
LAB_PHASES=$(awk '!/^#/ && NF { printf "%s%s", sep, $1; sep = " " }' "$_lab_phases_file")

lab_is_phase() {
    [[ $1 =~ ^[0-9]+$ && " $LAB_PHASES " == *" $1 "* ]]
}

lab_phase_range() {
    echo "${LAB_PHASES%% *} to ${LAB_PHASES##* }"
}
