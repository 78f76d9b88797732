# replay.mk -- `make replay`: the race made deterministic (tools/replay).
#
#   make replay             the lost-update interleaving on phase 2, then the
#                           same interleaving on phase 3 (event 900)
#   make replay REPLAY_ARGS="--interleaving overtake --sessions 3"
#   make replay EXPLORED=unsafe:rc:2:1:9   one interleaving make explore ran
#                           (results/explore/explore.json), by its id
#
# build/replay and build/san/replay link the replay's files with the
# shared library (db.c's statements: the same SQL as the phases).

REPLAY_CORE := $(addprefix tools/replay/replay_,plan.c strategy.c interleave.c options.c \
                 session.c timeline.c driver.c)
REPLAY_SRC  := $(REPLAY_CORE) tools/replay/replay.c
REPLAY_ARGS ?=

build/replay: $(call obj,$(REPLAY_SRC),release) build/liblab.a
	$(CC) $(OPT_release) $^ -o $@ $(PKG_LIBS) -pthread

build/san/replay: $(call obj,$(REPLAY_SRC),san) build/san/liblab.a
	$(CC) $(OPT_san) $^ -o $@ $(PKG_LIBS) -pthread

# The tests link the replay's modules. One detail of the generic test
# rules: the extra objects come after build/san/liblab.a on the link line,
# so the library is named once more after them (in PKG_LIBS, which the link
# expands late) for what only they need (options.o: parse_long).
REPLAY_TESTS := build/san/test_replay build/san/test_replay_options
build/san/test_replay: $(call obj,$(REPLAY_CORE),san)
build/san/test_replay_options: $(call obj,$(addprefix tools/replay/replay_,plan.c strategy.c \
                                interleave.c options.c),san)
$(REPLAY_TESTS): PKG_LIBS := build/san/liblab.a $(PKG_LIBS)

# With the default interleaving the lesson is checked too: phase 2 must end
# in a lost update and phase 3 clean, or `make replay` fails.
replay_expect = $(if $(REPLAY_ARGS),,--expect $(1))

EXPLORED ?=

.PHONY: replay
replay: deps build/replay
	@bash infra/services.sh up
ifneq ($(EXPLORED),)
	@build/replay --explored $(EXPLORED) $(REPLAY_ARGS)
else
	@build/replay --phase 2 --event 900 $(call replay_expect,lost-update) $(REPLAY_ARGS)
	@echo
	@build/replay --phase 3 --event 900 $(call replay_expect,clean) $(REPLAY_ARGS)
endif
