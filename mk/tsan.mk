# mk/tsan.mk -- a third build under ThreadSanitizer (build/tsan/), and
# `make tsan`, which attacks phase 2 with the TSan harness in both modes on
# four client threads, then phase 4 built with TSan (scripts/tsan-services.sh,
# which says why not 5 and 6), and the harness with its live page, read by
# five streams and one client that does not (scripts/tsan-live.sh): any
# data race in the harness or in the service is reported and fails it.
OPT_tsan := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
DIR_tsan := build/tsan
$(eval $(call BUILD,tsan))

.PHONY: tsan
tsan: build/tsan/attack build/phase2 build/attack build/tsan/phase4 build/liveprobe
	@bash infra/services.sh up >/dev/null
	@TSAN_OPTIONS=halt_on_error=1:exitcode=66 bash infra/attack.sh --phase 2 --harness-dir build/tsan \
	    --users 500 --threads 4 --no-csv
	@TSAN_OPTIONS=halt_on_error=1:exitcode=66 bash infra/attack.sh --phase 2 --harness-dir build/tsan \
	    --mode sustained --connections 50 --requests 5000 --threads 4 --no-csv
	@bash scripts/tsan-live.sh
	@bash scripts/tsan-services.sh 4
