# bench.mk -- performance against the physical limits.
#
#   make bench      each phase's figure beside its limit (pgbench on the same
#                   transaction, wrk on /healthz), measured back to back, as
#                   ratios: results/bench-<stamp>.{csv,json}, a table; a few
#                   minutes. Not part of make test. BENCH_ARGS passes options
#                   to scripts/bench.sh (--batch N, --bin-dir DIR, --label L); by default
#                   every phase runs with its default flags.
#   make bench-plot the latest bench as a chart of ratio-to-limit per phase

.PHONY: bench bench-plot

BENCH_ARGS ?=

build/holdconns: tools/bench/holdconns.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT_release) $< -o $@

bench: all build/holdconns
	@bash scripts/bench.sh $(BENCH_ARGS)

bench-plot:
	@bash scripts/bench-plot.sh
