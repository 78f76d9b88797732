# The ticket race lab.
#
#   make                    build the five services and the harness
#   make phase2 attack      services up, phase 2 started, attacked, audited, stopped
#   make attack PHASE=3 USERS=2000 SEATS=100
#   make test               unit + integration tests (sanitized builds, real services)
#   make services           phase 1: install and start PostgreSQL, Redis, Kafka
#   make regress            every scenario against every phase, PASS/FAIL, JUnit XML
#   make compare            phases 2-6 side by side; make sweep, make plots, results/REPORT.md
#   make demo               a narrated walk through phases 2-6 (DEMO_PAUSE=0: no pauses)
#   make replay             the race step by step on two database sessions
#   make tsan               the harness under ThreadSanitizer
#   make help               everything else

include infra/lab.env
export LAB_PG LAB_REDIS LAB_KAFKA LAB_HTTP

# ---------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------

CC       ?= cc
PKGS     := libpq hiredis rdkafka libmicrohttpd
WARN     := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
DEFAULTS := -DLAB_PG_DEFAULT='"$(LAB_PG)"' -DLAB_REDIS_DEFAULT='"$(LAB_REDIS)"' \
            -DLAB_KAFKA_DEFAULT='"$(LAB_KAFKA)"' -DLAB_HTTP_DEFAULT='"$(LAB_HTTP)"'
INCLUDES := -Iphases/shared -Iharness
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

# Two builds of everything: build/ for the lab, build/san/ for the tests.
OPT_release := -O2 -g
OPT_san     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
DIR_release := build
DIR_san     := build/san

# ---------------------------------------------------------------------------
# What is made of what
# ---------------------------------------------------------------------------

PHASES      := 2 3 4 5 6
phase_dir    = $(wildcard phases/phase$(1)-*)
SHARED_SRC  := $(filter-out phases/shared/main.c,$(wildcard phases/shared/*.c))
HARNESS_SRC := $(wildcard harness/*.c)
# phases 4-6 build on phase 3's transaction
phase_src    = $(wildcard $(call phase_dir,$(1))/*.c) \
               $(if $(filter 4 5 6,$(1)),$(call phase_dir,3)/book.c)

UNIT_TESTS  := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
INT_TESTS   := $(patsubst tests/integration/%.c,%,$(wildcard tests/integration/test_*.c))
INT_HELPERS := $(filter-out tests/integration/test_%,$(wildcard tests/integration/*.c))
obj = $(patsubst %.c,$(DIR_$(2))/obj/%.o,$(1))

# ---------------------------------------------------------------------------
# Rules, for both builds
# ---------------------------------------------------------------------------

define BUILD
$(DIR_$(1))/obj/%.o: %.c $(wildcard phases/shared/*.h harness/*.h) infra/lab.env
	@mkdir -p $$(@D)
	@echo "  CC  $$<"
	@$$(CC) $(WARN) $(OPT_$(1)) $(DEFAULTS) $(INCLUDES) $$(PKG_CFLAGS) -MMD -c $$< -o $$@

# the shared code as a library: a program links only the modules it uses
$(DIR_$(1))/liblab.a: $(call obj,$(SHARED_SRC),$(1))
	rm -f $$@ && ar rcs $$@ $$^

$(foreach n,$(PHASES),
$(DIR_$(1))/phase$(n): $(call obj,phases/shared/main.c $(call phase_src,$(n)),$(1)) $(DIR_$(1))/liblab.a
	$$(CC) $(OPT_$(1)) $$^ -o $$@ $$(PKG_LIBS) -pthread
)

$(DIR_$(1))/attack: $(call obj,$(HARNESS_SRC),$(1)) $(DIR_$(1))/liblab.a
	$$(CC) $(OPT_$(1)) $$^ -o $$@ $$(PKG_LIBS) -pthread -lm
endef
$(eval $(call BUILD,release))
$(eval $(call BUILD,san))

# a unit test links the module it is named after (tests/unit/test_X.c:
# harness/X.c, or phases/shared/X.c from the library)
$(foreach t,$(UNIT_TESTS),$(eval \
build/san/$(t): $(call obj,tests/unit/$(t).c $(wildcard harness/$(t:test_%=%).c),san) build/san/liblab.a ; \
	$$(CC) $(OPT_san) $$(filter-out %.a,$$^) $$(filter %.a,$$^) -o $$@ $$(PKG_LIBS) $$(CMOCKA_LIBS) -pthread -lm))

$(foreach t,$(INT_TESTS),$(eval \
build/san/$(t): $(call obj,tests/integration/$(t).c $(INT_HELPERS),san) build/san/liblab.a ; \
	$$(CC) $(OPT_san) $$(filter-out %.a,$$^) $$(filter %.a,$$^) -o $$@ $$(PKG_LIBS) $$(CMOCKA_LIBS) -pthread -lm))

-include $(shell find build -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------

.DEFAULT_GOAL := all
.PHONY: all help services phase1 services-down services-status deps $(addprefix phase,$(PHASES)) \
        attack test unit integration clean

all: deps $(addprefix build/phase,$(PHASES)) build/attack

# The libraries must be there before anything compiles (a fresh machine).
deps:
	@bash infra/install.sh

help:
	@sed -n 's/^#   //p' Makefile
	@echo "  make phaseN            run phase N's service in the foreground (N = 2..6)"
	@echo "  make services-down     stop what make services started"
	@echo "  make services-status   each service with its address and state"
	@echo "  make clean             remove build/"

phase1 services: deps
	@bash infra/services.sh up

services-down:
	@bash infra/services.sh down

services-status:
	@bash infra/services.sh status

# `make phaseN` alone runs the service in the foreground; followed by
# `attack`, it only chooses the phase that `attack` starts and attacks.
PHASE ?= $(or $(patsubst phase%,%,$(firstword $(filter $(addprefix phase,$(PHASES)),$(MAKECMDGOALS)))),2)
$(addprefix phase,$(PHASES)): phase%: all
	@$(if $(filter attack,$(MAKECMDGOALS)),true,bash infra/services.sh up && build/phase$*)

USERS ?= 500
SEATS ?= 100
attack: all
	@bash infra/attack.sh --phase $(PHASE) --users $(USERS) --seats $(SEATS) $(ATTACK_ARGS)

test: services
	@bash tests/run.sh

clean:
	rm -rf build

# ---------------------------------------------------------------------------
# More targets, one file per job: mk/*.mk (compare, plots, regress, replay...)
# ---------------------------------------------------------------------------
include $(wildcard mk/*.mk)
