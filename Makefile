# The ticket race lab.
#
#   make                    build the five services and the harness
#   make phase2 attack      services up, phase 2 started, attacked, audited, stopped
#   make attack PHASE=3 USERS=2000 SEATS=100
#   make attack PHASE=2 INSTANCES=2 STRATEGY=local-mutex   two processes, one mutex each
#   make test               unit + integration tests (sanitized builds, real services)
#   make unit               the unit tests alone, no service needed; make integration: the rest
#   make services           phase 1: install and start PostgreSQL, Redis, Kafka
#   make regress            every scenario against every phase, PASS/FAIL, JUnit XML
#   make compare            phases 2-6 side by side; make sweep, make plots
#   make report             one page of every result: results/REPORT.md, REPORT.html
#   make matrix             every --strategy on 1 and 2 instances: docs/matrix.md, docs/matrix.png
#   make bench              each phase against its physical limit, as ratios (docs/bench.md)
#   make nemesis PHASE=6 FAULT=kill-service   one fault mid-sale, checked; make faults: all
#   make zoo                planted bugs (a safeguard off), each caught by the checker
#   make explore            every interleaving of two and three booking sessions
#   make demo               a narrated walk through phases 2-6 (DEMO_PAUSE=0: no pauses)
#   make live PHASE=2       the race on a live page for a class (FAULT=kill-service too)
#   make replay             the race step by step on two database sessions
#   make tsan               the harness under ThreadSanitizer
#   make help               everything else

include infra/lab.env
# An address given to make (the environment, the command line) goes to every
# program a target runs; a default of lab.env does not, so that the scripts
# (infra/common.sh) can take the running topology's instead (.lab/topology.env:
# a replicated topology's multi-host lists).
$(foreach v,LAB_PG LAB_REDIS LAB_KAFKA LAB_HTTP LAB_TOPOLOGY LAB_PG_SYNC,\
  $(if $(filter file,$(origin $(v))),,$(eval export $(v))))
# The passwords infra/services.sh generates (docs/bring-your-own.md): every
# program a target runs finds them there unless told otherwise.
export PGPASSFILE ?= $(CURDIR)/.lab/pgpass
export LAB_REDIS_PASSFILE ?= $(CURDIR)/.lab/redis.pass

# ---------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------

CC       ?= cc
PKGS     := libpq hiredis rdkafka libmicrohttpd
WARN     := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
DEFAULTS := -DLAB_PG_DEFAULT='"$(LAB_PG)"' -DLAB_REDIS_DEFAULT='"$(LAB_REDIS)"' \
            -DLAB_KAFKA_DEFAULT='"$(LAB_KAFKA)"' -DLAB_HTTP_DEFAULT='"$(LAB_HTTP)"' \
            -DLAB_PGPASSFILE_DEFAULT='"$(CURDIR)/.lab/pgpass"' \
            -DLAB_REDIS_PASSFILE_DEFAULT='"$(CURDIR)/.lab/redis.pass"'
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
#
#   lib/            liblab.a: what every program shares (lab, parse, db, audit)
#   phases/frame/   libservice.a: the booking service's frame (HTTP, config,
#                   connections, Redis, Kafka, consumer, service_main)
#   phases/phaseN-*/  one phase: its booking and its main()
#   harness/, tools/replay/, tools/explore/  programs on liblab.a alone
# ---------------------------------------------------------------------------

# The phases, from phases/phases.list: number, name, folder, phases it uses.
PHASE_ROWS  := $(shell awk '!/^\#/ && NF { print $$1 ":" $$3 ":" $$4 }' phases/phases.list)
PHASES      := $(foreach r,$(PHASE_ROWS),$(word 1,$(subst :, ,$(r))))
phase_row    = $(filter $(1):%,$(PHASE_ROWS))
phase_dir    = phases/$(word 2,$(subst :, ,$(call phase_row,$(1))))
phase_uses   = $(filter-out -,$(word 3,$(subst :, ,$(call phase_row,$(1)))))
# a phase's sources: its own booking and main, and the bookings of the
# phases it uses (phase 4 calls phase 3's transaction unchanged)
phase_src    = $(wildcard $(call phase_dir,$(1))/*.c) \
               $(foreach u,$(call phase_uses,$(1)),$(call phase_dir,$(u))/book.c)

LIB_SRC     := $(wildcard lib/*.c)
SERVICE_SRC := $(wildcard phases/frame/*/*.c)
HARNESS_SRC := $(wildcard harness/*.c)

UNIT_TESTS  := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
INT_TESTS   := $(patsubst tests/integration/%.c,%,$(wildcard tests/integration/test_*.c))
INT_HELPERS := $(filter-out tests/integration/test_%,$(wildcard tests/integration/*.c))
obj = $(patsubst %.c,$(DIR_$(2))/obj/%.o,$(1))

# Each folder sees only the headers it needs: the harness and the tools never
# see the service's, the library sees only its own.
INC_lib      := -Ilib
INC_service  := -Ilib -Iphases/frame
INC_harness  := -Ilib -Iharness
INC_tools    := -Ilib -Itools/replay
INC_tests    := -Ilib -Iphases/frame -Iharness -Itools/replay -Itools/explore


# ---------------------------------------------------------------------------
# Rules, for both builds
# ---------------------------------------------------------------------------

# A phase folder's -I for the phases it uses is found from its name:
# phases/phase4-redis/x.c -> phase 4 -> uses 3 -> -Iphases/phase3-lock.
phase_of_src = $(firstword $(subst -, ,$(patsubst phase%,%,$(word 2,$(subst /, ,$(1))))))
src_includes = $(if $(filter lib/%,$(1)),$(INC_lib),\
               $(if $(filter harness/%,$(1)),$(INC_harness),\
               $(if $(filter tools/%,$(1)),$(INC_tools),\
               $(if $(filter tests/%,$(1)),$(INC_tests),\
               $(INC_service) $(foreach u,$(call phase_uses,$(call phase_of_src,$(1))),-I$(call phase_dir,$(u)))))))

define BUILD
$(DIR_$(1))/obj/%.o: %.c infra/lab.env
	@mkdir -p $$(@D)
	@echo "  CC  $$<"
	@$$(CC) $(WARN) $(OPT_$(1)) $(DEFAULTS) $$(call src_includes,$$<) $$(PKG_CFLAGS) -MMD -MP -c $$< -o $$@

# the shared code as libraries: a program links only the modules it uses
$(DIR_$(1))/liblab.a: $(call obj,$(LIB_SRC),$(1))
	rm -f $$@ && ar rcs $$@ $$^

$(DIR_$(1))/libservice.a: $(call obj,$(SERVICE_SRC),$(1))
	rm -f $$@ && ar rcs $$@ $$^

$(foreach n,$(PHASES),
$(DIR_$(1))/phase$(n): $(call obj,$(call phase_src,$(n)),$(1)) $(DIR_$(1))/libservice.a $(DIR_$(1))/liblab.a
	$$(CC) $(OPT_$(1)) $$^ -o $$@ $$(PKG_LIBS) -pthread
)

$(DIR_$(1))/attack: $(call obj,$(HARNESS_SRC),$(1)) $(DIR_$(1))/liblab.a
	$$(CC) $(OPT_$(1)) $$^ -o $$@ $$(PKG_LIBS) -pthread -lm
endef
$(eval $(call BUILD,release))
$(eval $(call BUILD,san))

# a unit test links the module it is named after (tests/unit/test_X.c:
# harness/X.c, or lib/X.c and phases/frame/*/X.c from the libraries)
# (a harness module's test links every harness module but main's attack.c:
# the nemesis, the history and the checker call one another)
TEST_LIBS := build/san/libservice.a build/san/liblab.a
HARNESS_MODULES := $(filter-out harness/attack.c,$(HARNESS_SRC))
$(foreach t,$(UNIT_TESTS),$(eval \
build/san/$(t): $(call obj,tests/unit/$(t).c $(if $(wildcard harness/$(t:test_%=%).c),$(HARNESS_MODULES)),san) $(TEST_LIBS) ; \
	$$(CC) $(OPT_san) $$(filter-out %.a,$$^) $$(filter %.a,$$^) -o $$@ $$(PKG_LIBS) $$(CMOCKA_LIBS) -pthread -lm))

$(foreach t,$(INT_TESTS),$(eval \
build/san/$(t): $(call obj,tests/integration/$(t).c $(INT_HELPERS),san) $(TEST_LIBS) ; \
	$$(CC) $(OPT_san) $$(filter-out %.a,$$^) $$(filter %.a,$$^) -o $$@ $$(PKG_LIBS) $$(CMOCKA_LIBS) -pthread -lm))

-include $(shell find build -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------

.DEFAULT_GOAL := all
.PHONY: all help services phase1 services-down services-status deps $(addprefix phase,$(PHASES)) \
        attack test unit integration clean

all: deps $(addprefix build/phase,$(PHASES)) build/attack build/labproxy

# The libraries must be there before anything compiles (a fresh machine):
# the installer runs on a fresh checkout and when it changed, not on every build.
# build/.installed remembers that infra/install.sh ran to the end.
deps: build/.installed
build/.installed: infra/install.sh
	@bash infra/install.sh
	@mkdir -p $(@D) && touch $@

help:
	@sed -n '1,/^$$/ s/^#   //p' Makefile
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
	@$(if $(filter attack,$(MAKECMDGOALS)),true,bash infra/services.sh up && bash infra/services.sh exec build/phase$*)

USERS ?= 500
SEATS ?= 100
# make attack PHASE=2 INSTANCES=2 STRATEGY=local-mutex: K processes of the
# phase, one --strategy; WORKERS, PARTITIONS, EVENTS as in infra/attack.sh;
# WITHOUT=give-back: a safeguard switched off (the zoo, docs/zoo.md).
INSTANCES ?= 1
attack: all
	@bash infra/attack.sh --phase $(PHASE) --users $(USERS) --seats $(SEATS) \
	    --instances $(INSTANCES) $(if $(STRATEGY),--strategy $(STRATEGY)) \
	    $(if $(WITHOUT),--without $(WITHOUT)) \
	    $(if $(WORKERS),--workers $(WORKERS)) $(if $(PARTITIONS),--partitions $(PARTITIONS)) \
	    $(if $(EVENTS),--events $(EVENTS)) $(ATTACK_ARGS)

# make test = make unit + make integration, in one run and one closing line.
test: services
	@bash tests/run.sh all

# The unit tests need no PostgreSQL, Redis or Kafka.
unit: deps
	@bash tests/run.sh unit

# The integration tests (real services) and the tests of the scripts.
integration: services
	@bash tests/run.sh integration

clean:
	rm -rf build

# ---------------------------------------------------------------------------
# More targets, one file per job: mk/*.mk (compare, plots, regress, replay...)
# ---------------------------------------------------------------------------
include $(wildcard mk/*.mk)
