# proxy.mk -- the lab's TCP proxy (tools/labproxy.c), what the partition
# faults cut, delay or drop (docs/cluster.md, "Partitions: the lab's own
# proxy"). build/labproxy is part of `make`; build/san/labproxy is the
# sanitized one that tests/scripts/test_proxy.sh runs.
build/labproxy: tools/labproxy.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT_release) $< -o $@

build/san/labproxy: tools/labproxy.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT_san) $< -o $@
