# mk/demo.mk -- `make demo`: a narrated walk through phases 2 to 6
# (scripts/demo.sh). It waits for Enter between phases on a terminal;
# DEMO_PAUSE=0 runs straight through. Overrides: DEMO_USERS, DEMO_SEATS,
# DEMO_EVENT, DEMO_TOPIC, DEMO_GROUP, and DEMO_PHASES="5 6" for a subset.
.PHONY: demo
demo: all
	@bash scripts/demo.sh $(DEMO_PHASES)
