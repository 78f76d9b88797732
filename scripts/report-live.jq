# report-live.jq -- the live page's last state (results/live/latest.json,
# written by the harness's --live-save) drawn by the report itself, for
# scripts/report.sh: the seats as a grid, the figures, the series as a
# chart. Markdown or HTML by $fmt; which part by $part:
#
#   figures  "name|value" lines: the run, the seats, the tickets, the counter
#   grid     the seats: one cell per seat, coloured by how many bookings
#            read the counter value that names it (seatHits[value]), then
#            one cell per ticket beyond the seats, past the grid
#   chart    accepted, decided, refused, failed and req/s over time, the
#            fault windows shaded (HTML: inline SVG; Markdown: a sentence)
#
#   jq -r --arg fmt html --arg part grid -f scripts/report-live.jq latest.json

# esc makes text safe inside HTML.
def esc: tostring | gsub("&"; "&amp;") | gsub("<"; "&lt;") | gsub(">"; "&gt;") | gsub("\""; "&quot;");

# num prints a figure with at most one decimal.
def num: if type == "number" then ((. * 10 | round) / 10 | tostring) else (. // "?" | tostring) end;

# hits: per seat, in the order the sale fills them (the first booking reads
# the counter at its top, the value that names seat 1), how many bookings
# read that value. The harness's state (it has "cells") holds them so
# already, one number per cell of its grid, with seatSource saying whether
# by the counter value read or one per ticket in order (results-format.md);
# a state without "cells" is taken as counts indexed by the value read. A
# phase whose answers carry no counter (nothing in seatHits) fills one seat
# per ticket, in order, as the live page does.
def hits:
  (.seats // 0) as $n | (.seatHits // []) as $h
  | if .cells != null then $h
    else
      [range(0; $n) | ($h[$n - .] // 0)] as $by_value
      | if ($by_value | add // 0) > 0 then $by_value
        else (.tickets // 0) as $t | [range(0; $n) | if . < $t then 1 else 0 end]
        end
    end;

# extra: the tickets beyond the seats.
def extra: [((.tickets // 0) - (.seats // 0)), 0] | max;

# The cells drawn past the grid stop there (a run that sold thousands
# beyond the seats still makes a page that opens).
def extra_cap: 2000;

def figures:
  hits as $h | extra as $x
  | "run|\(.runId // "not recorded")",
    "phase|\(.phase // "not recorded")",
    "seats|\(.seats // 0): \($h | map(select(. == 1)) | length) sold once, \($h | map(select(. >= 2)) | length) sold twice or more (\($h | map(select(. >= 2)) | add // 0) bookings on them), \($h | map(select(. == 0)) | length) free",
    "tickets|\(.tickets // "not recorded")\(if $x > 0 then " (\($x) beyond the seats)" else "" end)",
    "counter|\(.counter // "not recorded") seats free, as the service believes (events.available_seats)",
    "verdict|\(.verdictText // "not recorded")",
    "checker|\(if (.checkVerdict // "") == "" then "no checker in this run" else .checkVerdict end)",
    "fault windows|\(if (.faultWindows // []) | length == 0 then "none"
                     else [(.faultWindows[] | "\(.[0] | num) s to \(.[1] | num) s")] | join(", ") end)";

def grid_html:
  hits as $h | extra as $x
  | "<div class=\"seatgrid\">"
    + ([$h[] | "<i class=\"seat " + (if . == 0 then "s0" elif . == 1 then "s1" else "s2" end) + "\"></i>"] | join(""))
    + "</div>"
    + (if $x > 0 then
         "<p class=\"note\">The \($x) tickets beyond the seats" + (if $x > extra_cap then " (the first \(extra_cap) drawn)" else "" end) + ":</p>"
         + "<div class=\"seatgrid beyond\">"
         + ([range(0; [$x, extra_cap] | min) | "<i class=\"seat sx\"></i>"] | join(""))
         + "</div>"
       else "" end)
    + "<p class=\"legend\"><i class=\"seat s1\"></i> sold once <i class=\"seat s2\"></i> sold twice or more"
    + " <i class=\"seat s0\"></i> free <i class=\"seat sx\"></i> a ticket beyond the seats</p>";

# rows of the Markdown grid: 25 cells a row.
def rows_of($s): [range(0; $s | length; 25) as $i | $s[$i:$i + 25]] | map(join("")) | join("\n");

def grid_md:
  hits as $h | extra as $x
  | "```text\n"
    + rows_of([$h[] | if . == 0 then "." elif . == 1 then "o" else "X" end])
    + (if $x > 0 then "\n\nbeyond the seats:\n" + rows_of([range(0; [$x, extra_cap] | min) | "+"]) else "" end)
    + "\n```\n\no sold once, X sold twice or more, . free, + a ticket beyond the seats"
    + (if $x > extra_cap then " (the first \(extra_cap) drawn)" else "" end) + "\n";

# chart_svg: one panel, the series' KEYS against time, the fault windows
# shaded.
def chart_svg($keys; $colors; $title):
  (.series // []) as $s | (.faultWindows // []) as $fw
  | ([$s[].t // 0] + [$fw[][]?] | max // 0) as $tm | (if $tm > 0 then $tm else 1 end) as $tmax
  | ([$s[] as $p | $keys[] | ($p[.] // 0)] | max // 0) as $ym | (if $ym > 0 then $ym else 1 end) as $ymax
  | 640 as $w | 180 as $hgt | 48 as $left | 22 as $bottom | 14 as $top
  | def x($t): ($left + ($t / $tmax) * ($w - $left - 12)) * 10 | round / 10;
    def y($v): ($hgt - $bottom - ($v / $ymax) * ($hgt - $bottom - $top)) * 10 | round / 10;
  "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\($w)\" height=\"\($hgt)\" viewBox=\"0 0 \($w) \($hgt)\" role=\"img\" aria-label=\"\($title | esc)\">"
  + "<rect x=\"0\" y=\"0\" width=\"\($w)\" height=\"\($hgt)\" fill=\"#fff\"/>"
  + ([$fw[] | "<rect class=\"fault\" x=\"\(x(.[0]))\" y=\"\($top)\" width=\"\([x(.[1]) - x(.[0]), 1] | max)\" height=\"\($hgt - $bottom - $top)\" fill=\"#f6c7c7\"/>"] | join(""))
  + "<line x1=\"\($left)\" y1=\"\($hgt - $bottom)\" x2=\"\($w - 12)\" y2=\"\($hgt - $bottom)\" stroke=\"#888\"/>"
  + "<line x1=\"\($left)\" y1=\"\($top)\" x2=\"\($left)\" y2=\"\($hgt - $bottom)\" stroke=\"#888\"/>"
  + "<text x=\"\($left - 4)\" y=\"\($top + 4)\" font-size=\"11\" text-anchor=\"end\">\($ymax | num)</text>"
  + "<text x=\"\($left - 4)\" y=\"\($hgt - $bottom)\" font-size=\"11\" text-anchor=\"end\">0</text>"
  + "<text x=\"\($w - 12)\" y=\"\($hgt - 6)\" font-size=\"11\" text-anchor=\"end\">\($tmax | num) s</text>"
  + "<text x=\"\($left)\" y=\"\($hgt - 6)\" font-size=\"11\">0 s</text>"
  + ([range(0; $keys | length) as $k
      | "<polyline fill=\"none\" stroke=\"\($colors[$k])\" stroke-width=\"1.6\" points=\""
        + ([$s[] | "\(x(.t // 0)),\(y(.[$keys[$k]] // 0))"] | join(" ")) + "\"/>"
        + "<text x=\"\($left + 8 + $k * 110)\" y=\"\($top - 2)\" font-size=\"11\" fill=\"\($colors[$k])\">\($keys[$k] | esc)</text>"]
     | join(""))
  + "</svg>";

def chart:
  if (.series // []) | length == 0 then
    (if $fmt == "html" then "<p class=\"note\">The state holds no series.</p>" else "The state holds no series.\n" end)
  elif $fmt == "html" then
    chart_svg(["accepted", "decided", "refused", "failed"]; ["#1f77b4", "#2ca02c", "#7f7f7f", "#d62728"]; "requests over time")
    + "\n" + chart_svg(["rps"]; ["#9467bd"]; "requests per second")
    + "\n" + chart_svg(["p99Ms"]; ["#ff7f0e"]; "p99 latency, ms")
  else
    (.series | last) as $l
    | "Over \($l.t | num) s: \($l.accepted // 0) accepted, \($l.decided // 0) decided, \($l.refused // 0) refused, \($l.failed // 0) failed; "
      + "at most \([.series[].rps // 0] | max | num) requests a second, p99 at most \([.series[].p99Ms // 0] | max | num) ms"
      + (if (.faultWindows // []) | length > 0 then "; the fault windows are listed above" else "" end)
      + " (the HTML report draws the series).\n"
  end;

if $part == "figures" then figures
elif $part == "grid" then (if $fmt == "html" then grid_html else grid_md end)
elif $part == "chart" then chart
else error("report-live.jq: no part \($part)")
end
