# explore.mk -- `make explore`: every interleaving of each strategy's steps,
# run on real PostgreSQL sessions at each isolation level (tools/explore,
# on tools/replay's sessions and driver; docs/replay.md, "Every
# interleaving").
#
#   make explore                     every strategy, level, 2 and 3 sessions,
#                                    1 and 2 seats: results/explore/explore.json
#                                    and results/explore/explore.md
#   make explore EXPLORE_ARGS="--strategy unsafe,for-update --sessions 2"

EXPLORE_SRC := $(addprefix tools/explore/explore_,options.c run.c report.c) tools/explore/explore.c
# the replay's modules it runs on (this file is read before replay.mk)
EXPLORE_REPLAY := $(addprefix tools/replay/replay_,plan.c strategy.c interleave.c session.c \
                    timeline.c driver.c)
EXPLORE_ARGS ?=

build/explore: $(call obj,$(EXPLORE_SRC) $(EXPLORE_REPLAY),release) build/liblab.a
	$(CC) $(OPT_release) $^ -o $@ $(PKG_LIBS) -pthread

build/san/explore: $(call obj,$(EXPLORE_SRC) $(EXPLORE_REPLAY),san) build/san/liblab.a
	$(CC) $(OPT_san) $^ -o $@ $(PKG_LIBS) -pthread

# The tests link the explorer's and the replay's modules, the library named
# once more after them (see replay.mk).
EXPLORE_TESTS := build/san/test_explore build/san/test_interleave
build/san/test_explore: $(call obj,$(filter-out tools/explore/explore.c,$(EXPLORE_SRC)) \
                        $(EXPLORE_REPLAY),san)
build/san/test_interleave: $(call obj,tools/explore/explore_options.c tools/explore/explore_run.c \
                           $(EXPLORE_REPLAY),san)
$(EXPLORE_TESTS): PKG_LIBS := build/san/liblab.a $(PKG_LIBS)

.PHONY: explore
explore: deps build/explore
	@bash infra/services.sh up
	@build/explore $(EXPLORE_ARGS)
