# mk/live.mk -- `make live`: the class watches the race (docs/classroom.md).
#
#   make live PHASE=2                  phase 2 attacked, the race on a live page
#   make live PHASE=6 FAULT=kill-service   sustained load and a fault, as make nemesis
#   make live PHASE=3 USERS=2000 SEATS=100 ATTACK_ARGS="..." WITHOUT=...
#
# The harness serves the page itself on LAB_LIVE (loopback, default
# 127.0.0.1:18088) and prints its URL before the attack; LIVE_LINGER=S keeps
# it S seconds after the audit (default: until Ctrl-C); LIVE_SAVE=1 writes
# the last state to results/live/<run>-state.json and results/live/latest.json.
#
# The page is harness/live_page.html, made into a C string at build time
# (scripts/embed.sh) and linked into every build of the harness and into
# the unit tests that link the harness's modules.
LAB_LIVE ?= 127.0.0.1:18088
export LAB_LIVE
LIVE_PAGE_C := build/gen/live_page.c
# FAULT as given on the command line or in the environment: mk/faults.mk
# gives it a default for make nemesis, which make live must not take
LIVE_FAULT = $(if $(filter file,$(origin FAULT)),,$(FAULT))

$(LIVE_PAGE_C): harness/live_page.html scripts/embed.sh
	@mkdir -p $(@D)
	@bash scripts/embed.sh live_page_html harness/live_page.html >$@.tmp && mv $@.tmp $@

build/attack: $(call obj,$(LIVE_PAGE_C),release)
build/san/attack: $(call obj,$(LIVE_PAGE_C),san)
build/tsan/attack: build/tsan/obj/$(LIVE_PAGE_C:.c=.o)
$(foreach t,$(UNIT_TESTS),$(if $(wildcard harness/$(t:test_%=%).c),\
    $(eval build/san/$(t): $(call obj,$(LIVE_PAGE_C),san))))

# tools/liveprobe: SSE clients that measure how late each event arrives
# (scripts/live-bench.sh) or never read (the slow client of the tests)
build/liveprobe: tools/liveprobe/liveprobe.c
	$(CC) $(WARN) $(OPT_release) $< -o $@ -lm

.PHONY: live live-bench
live: all
	@bash scripts/live.sh --phase $(PHASE) --users $(USERS) --seats $(SEATS) \
	    $(if $(LIVE_FAULT),--fault $(LIVE_FAULT)) $(if $(WITHOUT),--without $(WITHOUT)) \
	    $(if $(INSTANCES),--instances $(INSTANCES)) $(if $(STRATEGY),--strategy $(STRATEGY)) \
	    $(ATTACK_ARGS)

live-bench: all build/liveprobe
	@bash scripts/live-bench.sh $(LIVE_BENCH_ARGS)
