# kafka.mk -- build/kafka-leader (tools/kafka-leader): which broker leads
# the booking partition, from the cluster's metadata; infra/cluster/kafka.sh
# asks it whom kill-broker kills and whether a healed node is in sync.
# Built by `make` (all).

build/kafka-leader: $(call obj,tools/kafka-leader/kafka-leader.c,release) build/liblab.a
	$(CC) $(OPT_release) $^ -o $@ $(PKG_LIBS)

all: build/kafka-leader
