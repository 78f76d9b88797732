# mk/zoo.mk -- the zoo of planted bugs (docs/zoo.md, scripts/zoo.sh).
#
#   make zoo                    every planted bug, with it and without it:
#                               results/zoo/zoo.json, the table in docs/zoo.md
#   make zoo ZOO_ARGS="--bugs give-back,fence"
#   make attack PHASE=3 WITHOUT=for-update      one bug, by hand
# `make regress` runs the fast half (zoo.sh --fast).
.PHONY: zoo
ZOO_ARGS ?=
zoo: all services
	@bash scripts/zoo.sh $(ZOO_ARGS)
