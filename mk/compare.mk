# compare.mk -- the phases side by side: results, charts, report.
#
#   make compare    phases 2-6, the same burst and sustained attacks each:
#                   results/compare-<stamp>.{csv,json} + -timeline.csv, a table
#   make openloop   closed and open loop (--rate) side by side (also at the
#                   end of make compare): results/openloop-<stamp>.csv
#   make sweep      throughput and p99 against concurrent users, every phase:
#                   results/sweep-<stamp>.{csv,json}
#   make plots      charts of the latest results into plots/out/ (PNG and
#                   SVG), then the report; runs nothing
#   make report     the report: one page of every result there is, the
#                   latest of each kind (compare, explanations, the live
#                   page's last state, sweep, open loop, bench, matrix,
#                   faults, zoo), results/REPORT.md and a self-contained
#                   REPORT.html; REPORT_ARGS passes options to scripts/report.sh
#   make reference  the latest results, charts and report copied into
#                   results/reference/ (what the README shows)
# Settings by environment: COMPARE_EVENT, COMPARE_TOPIC, COMPARE_GROUP,
# COMPARE_PHASES, SWEEP_USERS... (docs/compare.md); LAB_HTTP for the port.

.PHONY: compare openloop sweep plots report reference

compare: all
	@bash scripts/compare.sh
	@bash scripts/openloop.sh

# the closed and the open loop (--rate) side by side, phases 3 and 6
openloop: all
	@bash scripts/openloop.sh

sweep: all
	@bash scripts/sweep.sh

plots:
	@bash scripts/plots.sh
	@bash scripts/report.sh

REPORT_ARGS ?=
report:
	@bash scripts/report.sh $(REPORT_ARGS)

reference:
	@bash scripts/reference.sh
