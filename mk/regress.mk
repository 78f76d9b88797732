# mk/regress.mk -- `make regress`: the lab as a CI gate. Runs every scenario
# of regress/expectations.conf against every phase (scripts/regress.sh),
# prints PASS or FAIL per scenario and phase, writes
# results/regress-junit.xml, and fails when a figure is not as expected.
# Then the zoo's fast half (scripts/zoo.sh --fast, docs/zoo.md): every fast
# planted bug must be caught, and the same run without it clean. Then the
# replicated topology's scenarios (scripts/regress-replicated.sh,
# regress/replicated.conf) on a topology of their own, started and stopped.
#
#   make regress
#   make regress REGRESS_PHASES=3 REGRESS_SCENARIOS=burst,last-seat
#   make regress LAB_HTTP=127.0.0.1:18501 REGRESS_EVENT=51
# (the other knobs: scripts/regress.sh --help)
.PHONY: regress
regress: all
	@bash scripts/regress.sh
	@bash scripts/zoo.sh --fast
	@bash scripts/regress-replicated.sh
