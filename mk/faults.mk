# mk/faults.mk -- faults during the sale (docs/faults.md).
#
#   make nemesis PHASE=6 FAULT=kill-service     one fault under sustained load,
#                                               the audit and the checker's table
#   make nemesis PHASE=4 FAULT=restart-redis@accepted=500:3
#   make faults                                 every phase x every fault:
#                                               results/faults/matrix.md
#   make faults TOPOLOGY=replicated             the cluster's faults (kill-broker,
#                                               failover-postgres, partition-pg...)
#                                               against the replicated topology,
#                                               started if need be:
#                                               results/faults/replicated.md
# FAULT is KIND[@WHEN[:DURATION]] (build/attack --help); the rest of the
# knobs: scripts/nemesis.sh --help.
.PHONY: nemesis faults
FAULT ?= kill-service
nemesis: all services
	@bash scripts/nemesis.sh --phase $(PHASE) --fault $(FAULT) \
	    $(if $(WITHOUT),--without $(WITHOUT)) $(NEMESIS_ARGS)

FAULT_PHASES ?= 3 4 5 6
# TOPOLOGY=replicated: `services` starts the replicated topology (its
# prerequisites inherit the target's exported variable)
ifeq ($(TOPOLOGY),replicated)
faults: export LAB_TOPOLOGY := replicated
endif
faults: all services
	@bash scripts/faults.sh --phases "$(FAULT_PHASES)" $(if $(TOPOLOGY),--topology $(TOPOLOGY)) $(FAULTS_ARGS)
